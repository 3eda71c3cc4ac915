"""The preloaded process (cli/preload.py) prints what `duban` prints, byte for byte, exit code too.

Each command line runs twice as a real `duban` process: once in-process as always, once with
DUBAN_PRELOAD=1 against a running server; the server's count of commands proves the second run
went through it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli import preload
from tests.cli.test_items_and_lifecycle import NOW, ledger  # noqa: F401  (the fixture)

DUBAN = str(Path(sys.executable).with_name("duban"))

COMMANDS = [
    ["items", "--json"],
    ["items"],
    ["items", "--overdue", "--json"],
    ["items", "--unit", "财政", "--unit-role", "lead"],
    ["items", "--unit", "fgw", "--status", "signed_off", "--json"],
    ["items", "--due-soon", "--limit", "1"],
    ["items", "--unacknowledged", "--archived"],
    ["show", "新时代意见/12"],
    ["show", "新时代意见/12", "--json"],
    ["show", "1"],
    ["report"],
    ["report", "--json"],
    ["show", "新时代意见/99"],  # refused: exit 1, a message on stderr
    ["items", "--unit", "不存在的单位"],
    ["items", "--status", "bogus"],  # a usage error: exit 2
]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[bytes]]:
    """A preloaded server of its own, stopped at the end (its socket in a short temporary
    directory: a Unix socket's path has at most 107 bytes)."""
    runtime = Path(tempfile.mkdtemp(prefix="duban-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    process = subprocess.Popen([sys.executable, "-m", "cli.preload"], cwd=preload.ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while preload.status() is None:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the preloaded server did not start"
        time.sleep(0.1)
    yield process
    preload.stop()
    process.wait(timeout=30)
    assert not list(runtime.glob("duban-preload-*/*")), "a stopped server leaves neither its socket nor its lock file"
    shutil.rmtree(runtime)


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([DUBAN, *argv], env=env, capture_output=True, timeout=120)


def test_the_preloaded_process_prints_exactly_what_the_command_prints(db_url, ledger, server, tmp_path):  # noqa: F811
    base = {**os.environ, "DUBAN_DATABASE_URL": db_url, "DUBAN_CONFIG": "/nonexistent/duban.toml"}
    base.pop("DUBAN_PRELOAD", None)
    base.pop("PREFECT_API_URL", None)
    assert run(["init"], base).returncode == 0
    for argv in (["acknowledge", "新时代意见/13", "--by", "officer@czj.gov.cn", "--now", NOW],
                 ["urge", "新时代意见/12", "--by", "sup@dc.gov.cn", "--text", "请本周内报送", "--now", NOW]):
        assert run(argv, base).returncode == 0, argv
    served = preload.status()["served"]  # type: ignore[index]
    compared = 0
    in_english = [argv for argv in COMMANDS if argv[-1] != "--json" and "--unit" not in argv]
    for locale, columns, commands in (("zh-CN", "200", COMMANDS), ("en", "70", in_english)):
        env = {**base, "DUBAN_LOCALE": locale, "COLUMNS": columns}
        for argv in commands:
            argv = [*argv, "--now", NOW]
            here, preloaded = run(argv, env), run(argv, {**env, "DUBAN_PRELOAD": "1"})
            assert (preloaded.returncode, preloaded.stdout, preloaded.stderr) == \
                (here.returncode, here.stdout, here.stderr), (locale, argv)
            assert here.stdout or here.stderr, argv
            compared += 1
    assert preload.status()["served"] == served + compared  # type: ignore[index]


def test_other_commands_and_no_opt_in_never_ask_the_server(server):
    assert preload.enabled(["duban", "items"], {"DUBAN_PRELOAD": "1"})
    assert not preload.enabled(["duban", "items"], {})
    assert not preload.enabled(["duban", "acknowledge", "X/1"], {"DUBAN_PRELOAD": "1"})
    assert not preload.enabled(["duban"], {"DUBAN_PRELOAD": "1"})


def test_a_new_build_of_the_code_gets_a_new_server(monkeypatch):
    runtime = Path(tempfile.mkdtemp(prefix="duban-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    before = preload.socket_path()
    source = preload.ROOT / "cli" / "launch.py"
    stat = source.stat()
    try:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert preload.socket_path() != before
    finally:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert preload.socket_path() == before
    assert (runtime / f"duban-preload-{os.getuid()}").stat().st_mode & 0o777 == 0o700
    shutil.rmtree(runtime)


def test_a_socket_path_too_long_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / ("x" * 100)))
    (tmp_path / ("x" * 100)).mkdir()
    with pytest.raises(OSError, match="too long"):
        preload.socket_path()
    assert preload.run(["duban", "items"]) is None


def test_a_socket_directory_others_may_enter_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / f"duban-preload-{os.getuid()}").mkdir(mode=0o755)
    os.chmod(tmp_path / f"duban-preload-{os.getuid()}", 0o755)
    with pytest.raises(OSError, match="not private"):
        preload.socket_path()
    assert preload.run(["duban", "items"]) is None  # the caller then runs the command itself
