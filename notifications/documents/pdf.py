"""PDF copies of the office's documents: the .docx converted by LibreOffice where it is installed.

LibreOffice is optional: the .docx is what an office edits before issue, and a PDF is a
convenience. Each conversion runs `soffice --headless --convert-to pdf` in a temporary directory
with its own LibreOffice profile (a shared profile is locked by whichever process uses it first, and
the server's user may have no writable home), in its own process group so a timeout kills
LibreOffice's child processes too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from models.errors import DubanError, NotFound

COMMANDS = ("soffice", "libreoffice")  # looked up on PATH in this order
TIMEOUT_SECONDS = 120.0  # a notice of a few hundred pages converts in seconds; a hung LibreOffice does not
INSTALL_HINT = "libreoffice-writer-nogui (Debian/Ubuntu: apt-get install libreoffice-writer-nogui)"


class ConverterMissing(NotFound):
    """No LibreOffice on this machine: the .docx is still available."""


class ConversionFailed(DubanError):
    """LibreOffice ran but produced no PDF (it failed, or took longer than the timeout)."""


def converter() -> str | None:
    """The path of LibreOffice's `soffice`, or None when it is not installed."""
    for command in COMMANDS:
        if found := shutil.which(command):
            return found
    return None


def available() -> bool:
    return converter() is not None


def to_pdf(document: object, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The python-docx `document` as PDF bytes; ConverterMissing or ConversionFailed otherwise."""
    soffice = converter()
    if soffice is None:
        raise ConverterMissing(f"a PDF needs LibreOffice, which is not installed: install {INSTALL_HINT}, "
                               "or write the .docx", code="pdf.no_converter", params={"install": INSTALL_HINT})
    with tempfile.TemporaryDirectory(prefix="duban-pdf-") as work:
        folder = Path(work)
        source = folder / "notice.docx"
        document.save(str(source))  # type: ignore[attr-defined]
        command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                   "--norestore", "--nologo", "--convert-to", "pdf", "--outdir", str(folder), str(source)]
        detail = _run(command, folder, timeout)
        produced = folder / "notice.pdf"
        if detail is None and produced.is_file() and produced.stat().st_size > 0:
            return produced.read_bytes()
    raise ConversionFailed(f"LibreOffice could not convert the document to PDF: {detail or 'no PDF written'}",
                           code="pdf.failed", params={"detail": detail or "no PDF written"})


def _run(command: list[str], folder: Path, timeout: float) -> str | None:
    """Run LibreOffice; None when it exited 0, else a one-line reason."""
    with subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True,
                          env={**os.environ, "HOME": str(folder)}) as process:
        try:
            _, errors = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # it ended just now
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return f"no answer within {timeout:g} s"
    if process.returncode != 0:
        lines = [line for line in errors.decode(errors="replace").splitlines() if line.strip()]
        return f"exit {process.returncode}" + (f": {lines[-1].strip()}" if lines else "")
    return None

