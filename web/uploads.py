"""Reading a multipart upload from the request stream: limits enforced while reading, files straight to disk.

FastAPI reads a form body before it runs a route's dependencies, so a route that declares
`UploadFile` or `Form()` parameters has taken the whole body before it knows who is asking. The
upload routes declare neither: their dependencies check the login and the role from the cookie,
and only then does `receive` read the body, chunk by chunk. A file goes to disk as it arrives
(0600, in a folder the caller made private) and the reading stops the moment it passes its
limit; a text field is capped in memory. The form's CSRF token must come before the first file
(browsers send fields in page order, and the token is the form's first field), so no byte of a
forged upload is written.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from models.errors import InvalidInput
from web.auth import csrf_matches
from web.deps import CsrfError

MB = 1024 * 1024
_FIELD_LIMIT = 64 * 1024  # a progress text is at most 8000 characters
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def safe_name(filename: str, default: str = "file") -> str:
    """A file name that is safe on disk: no folders, no leading dot, only word characters and . -."""
    return _SAFE_NAME.sub("_", Path(filename.replace("\\", "/")).name).lstrip(".")[:120] or default


@dataclass
class ReceivedFile:
    field: str
    filename: str  # as the browser sent it (shown to people; never used as a path)
    path: Path
    size: int = 0


@dataclass
class Upload:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)

    def value(self, name: str) -> str:
        values = self.fields.get(name)
        return values[-1] if values else ""

    def remove_files(self) -> None:
        for received in self.files:
            received.path.unlink(missing_ok=True)


# (field name, file name as sent) -> where to write it; may raise InvalidInput to refuse the file.
Sink = Callable[[str, str], Path]


def too_large(filename: str, max_bytes: int) -> InvalidInput:
    mb = max(1, max_bytes // MB)
    return InvalidInput(f"{filename}: larger than {mb} MB", code="upload.too_large",
                        params={"file": filename, "mb": mb})


async def receive(request: Request, sink: Sink, *, max_file_bytes: int, max_files: int = 10,
                  csrf: bool = True) -> Upload:
    """Read the form, writing each file where `sink` says. On a refusal every file written is removed.

    Raises InvalidInput (too large, too many files, malformed) or CsrfError (no or wrong token
    before the first file; `csrf=False` for the API, whose bearer token no other site can send).
    The body is bounded before reading by its Content-Length when sent.
    """
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        if csrf:
            _Reader(request, sink, max_file_bytes, max_files).check_csrf()  # a forged post is a 403, unread
        raise InvalidInput("the form must be sent as multipart/form-data", code="upload.malformed")
    max_body = max_files * (max_file_bytes + _FIELD_LIMIT) + _FIELD_LIMIT
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise too_large("the upload", max_file_bytes)
    reader = _Reader(request, sink, max_file_bytes, max_files)
    reader.csrf_checked = not csrf
    parser = MultipartParser(boundary, reader.callbacks())
    try:
        read = 0
        async for chunk in request.stream():
            read += len(chunk)
            if read > max_body:  # a body longer than it said, or with no length at all
                raise too_large("the upload", max_file_bytes)
            parser.write(chunk)
        parser.finalize()
        reader.close()
        reader.check_csrf()
    except BaseException:
        reader.close()
        reader.upload.remove_files()
        raise
    return reader.upload


class _Reader:
    """python-multipart's callbacks: headers of a part, its data, its end."""

    def __init__(self, request: Request, sink: Sink, max_file_bytes: int, max_files: int) -> None:
        self.request, self.sink = request, sink
        self.max_file_bytes, self.max_files = max_file_bytes, max_files
        self.upload = Upload()
        self.header_name = self.header_value = b""
        self.disposition = b""
        self.name = ""
        self.text: bytearray | None = None
        self.file: ReceivedFile | None = None
        self.handle: int | None = None
        self.csrf_checked = False

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.part_begin, "on_header_field": self.header_field,
            "on_header_value": self.header_val, "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def check_csrf(self) -> None:
        if self.csrf_checked:
            return
        submitted = self.request.headers.get("x-csrf-token") or self.upload.value("csrf_token") or None
        if not csrf_matches(self.request.session.get("csrf"), submitted):
            raise CsrfError("the form has expired or did not come from this site; reload the page and try again",
                            code="csrf.expired")
        self.csrf_checked = True

    def part_begin(self) -> None:
        self.header_name = self.header_value = self.disposition = b""
        self.name, self.text, self.file = "", None, None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def header_val(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]
        if len(self.header_value) > 4096:
            raise InvalidInput("a part of the form has an overlong header", code="upload.malformed")

    def header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = self.header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            self.text = bytearray()
            return
        filename = options[b"filename"].decode("utf-8", "replace")
        if not filename:  # a file input left empty still sends a part
            return
        self.check_csrf()
        if len(self.upload.files) >= self.max_files:
            raise InvalidInput(f"at most {self.max_files} files at once", code="upload.too_many",
                               params={"count": self.max_files})
        path = self.sink(self.name, filename)
        self.handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.file = ReceivedFile(self.name, filename, path)
        self.upload.files.append(self.file)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.text is not None:
            self.text += data[start:end]
            if len(self.text) > _FIELD_LIMIT:
                raise InvalidInput(f"the field {self.name} is too long", code="upload.field_too_long",
                                   params={"field": self.name})
        elif self.file is not None and self.handle is not None:
            self.file.size += end - start
            if self.file.size > self.max_file_bytes:
                raise too_large(self.file.filename, self.max_file_bytes)
            # A local write of one chunk (64 KB at most) returns at memory speed: the page cache takes it.
            view = memoryview(data)[start:end]
            while view:
                view = view[os.write(self.handle, view):]

    def part_end(self) -> None:
        if self.text is not None:
            self.upload.fields.setdefault(self.name, []).append(self.text.decode("utf-8", "replace"))
        self.close()
        self.text, self.file = None, None

    def close(self) -> None:
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None


def remove_folder(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
