"""Read commands without the import cost: a preloaded process that forks one child per command.

`duban items`, `duban show` and `duban report` spend most of their start-up importing Typer,
SQLAlchemy, SQLModel, pydantic and the models (docs/benchmarks.md, "Start-up"). With
`DUBAN_PRELOAD=1` the `duban` entry point (cli/launch.py) hands such a command to a server that
has imported all of that once: the server forks, the child takes the caller's standard streams
(passed over a Unix socket), environment, working directory, umask and arguments, runs the very
same `cli.main.main()`, and sends back the exit code. Nothing is answered from a cache: each
command reads the database afresh, with the code the command would run anyway.

The first command that finds no server starts one in the background and runs in-process itself.
A server serves one user (the socket's directory is theirs, mode 0700, and the peer's uid is
checked) and one build of the code: its socket is named after the interpreter and the modification
times of the project's sources, catalogs and installed packages, so after an upgrade or an edit
the next command starts a new server. A server exits after IDLE_SECONDS without a command.

This module imports the standard library only, and little of it: the caller's side must start in
a few milliseconds.
"""

from __future__ import annotations

import array
import hashlib
import json
import os
import socket
import struct
import sys
from pathlib import Path
from typing import Any

COMMANDS = frozenset({"items", "show", "report"})  # read-only; nothing asks a question on the terminal
IDLE_SECONDS = 900
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "config", "models", "web", "notifications", "flows", "migrations")
_HEADER = struct.Struct("!I")


def enabled(argv: list[str], environ: os._Environ[str] | dict[str, str] = os.environ) -> bool:
    """Whether this command line goes to the preloaded server: opted in, and a read command."""
    return environ.get("DUBAN_PRELOAD", "") == "1" and len(argv) > 1 and argv[1] in COMMANDS


def build_key() -> str:
    """Names this interpreter and this build of the code: sources, catalogs, installed packages."""
    # The environment and the interpreter's version, not the name it was started by: a console
    # script's shebang may say python3 where `python -m` says python, and a venv made without
    # symlinks holds them as two copies of one interpreter.
    digest = hashlib.sha256(f"{sys.prefix}\0{sys.base_prefix}\0{ROOT}\0{sys.version}".encode())
    for package in PACKAGES:
        for directory, _dirs, files in os.walk(ROOT / package):
            for name in files:
                if name.endswith((".py", ".mo")):
                    stat = os.stat(os.path.join(directory, name))
                    digest.update(f"{directory}/{name}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    for entry in sys.path:  # installing or removing a package touches its site-packages directory
        if entry.endswith("site-packages") and os.path.isdir(entry):
            digest.update(f"{entry}\0{os.stat(entry).st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def socket_dir() -> Path:
    """A directory only this user may enter (created if missing); refused if someone else's."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp") / f"duban-preload-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    stat = base.stat()
    if stat.st_uid != os.getuid() or stat.st_mode & 0o077:
        raise OSError(f"{base} is not private to this user; the preloaded server is not used")
    return base


def socket_path() -> Path:
    path = socket_dir() / f"{build_key()}.sock"
    if len(os.fsencode(path)) >= 108:  # sockaddr_un's limit on Linux
        raise OSError(f"{path} is too long for a Unix socket; the preloaded server is not used")
    return path


# --- the caller's side ---------------------------------------------------------------------------

def run(argv: list[str]) -> int | None:
    """Run `argv` in a child of the preloaded server and return its exit code; None when no server
    answers (one is then started for the next command) and the caller should run it itself."""
    try:
        path = socket_path()
    except OSError:  # no private directory for the socket: no server either
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        _start_server()
        return None
    with conn:
        request = {"op": "run", "argv": argv, "env": dict(os.environ), "cwd": os.getcwd(), "umask": _umask(),
                   "main_package": getattr(sys.modules["__main__"], "__package__", None),  # Click names the program by it
                   "streams": [[s.encoding, s.errors, s.line_buffering, getattr(s, "write_through", False)]
                               for s in (sys.stdin, sys.stdout, sys.stderr)]}
        try:
            _send(conn, request, [0, 1, 2])
            started = _receive(conn)
        except (OSError, ValueError):  # the server went away before forking: run here
            return None
        child = int(started["pid"])
        import signal

        def forward(signum: int, _frame: Any) -> None:
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, forward)
        try:
            return int(_receive(conn)["code"])
        except (OSError, ValueError):
            sys.stderr.write("error: the preloaded duban process ended without an exit code\n")
            return 1


def status() -> dict[str, Any] | None:
    """The server's pid, how many commands it ran and their CPU seconds (user + system, all
    children together), or None when none is running."""
    return _ask({"op": "status"})


def stop() -> dict[str, Any] | None:
    """Ask the running server (if any) to exit; what it had done, as `status`."""
    return _ask({"op": "stop"})


def _ask(request: dict[str, Any]) -> dict[str, Any] | None:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(socket_path()))
            _send(conn, request, [])
            return _receive(conn)
    except (OSError, ValueError):
        return None


def _start_server() -> None:
    import subprocess

    try:
        subprocess.Popen([sys.executable, "-m", "cli.preload"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True, cwd=ROOT)
    except OSError:
        pass  # no server: every command runs in-process, as without DUBAN_PRELOAD


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _send(conn: socket.socket, message: dict[str, Any], fds: list[int]) -> None:
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    if fds:
        conn.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        conn.sendall(data)


def _receive(conn: socket.socket, fds: list[int] | None = None) -> dict[str, Any]:
    """One message; the file descriptors that came with it are appended to `fds`."""
    data, ancillary, _flags, _address = conn.recvmsg(65536, socket.CMSG_SPACE(16 * array.array("i").itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS and fds is not None:
            received = array.array("i")
            received.frombytes(payload[:len(payload) - len(payload) % received.itemsize])
            fds.extend(received)
    if len(data) < _HEADER.size:
        raise ValueError("connection closed")
    (length,) = _HEADER.unpack_from(data)
    while len(data) < _HEADER.size + length:
        more = conn.recv(65536)
        if not more:
            raise ValueError("connection closed")
        data += more
    return dict(json.loads(data[_HEADER.size:_HEADER.size + length]))


# --- the server's side ---------------------------------------------------------------------------

def preload() -> None:
    """Import what the read commands import, and set up the mappers, without reading settings,
    the clock or the database (each command's child does that for itself)."""
    import gc

    import rich.table  # noqa: F401  (cli.views imports it where it prints a table)
    from sqlalchemy.orm import configure_mappers

    import cli.main
    import cli.views  # noqa: F401
    import config.settings_plain  # noqa: F401
    import migrations.runner  # noqa: F401
    import models.queries  # noqa: F401
    import models.read.figures  # noqa: F401
    import models.read.listed  # noqa: F401  (the read commands on a SQLite file: no ORM)
    import models.read.report_sql  # noqa: F401
    import models.read.shown  # noqa: F401
    import models.read.views  # noqa: F401

    configure_mappers()
    for name in COMMANDS:
        cli.main.command(name)
    # Out of the collector's sight: a collection in a child would otherwise walk (and so copy)
    # every page of what was imported here; 0.06 s of `duban items --json`'s 0.3 s.
    gc.collect()
    gc.freeze()


def serve() -> None:
    """Listen on this build's socket until IDLE_SECONDS pass without a command."""
    import fcntl

    path = socket_path()
    lock_path = f"{path}.lock"
    lock = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(lock_path).st_ino != os.fstat(lock).st_ino:
            return  # a server that just ended removed this lock file: the next command starts one
    except (BlockingIOError, FileNotFoundError):
        return  # another server for this build is starting or running
    preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path.unlink(missing_ok=True)
    listener.bind(str(path))
    listener.listen(64)
    listener.settimeout(IDLE_SECONDS)
    children: set[int] = set()
    served = 0
    try:
        while True:
            try:
                conn, _address = listener.accept()
            except TimeoutError:
                return
            _reap(children, block=False)
            with conn:
                conn.settimeout(None)
                uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
                if uid != os.getuid():
                    continue
                fds: list[int] = []
                try:
                    request = _receive(conn, fds)
                except (OSError, ValueError):
                    for fd in fds:
                        os.close(fd)
                    continue
                if request.get("op") == "run" and len(fds) == 3:
                    served += 1
                    child = os.fork()
                    if child == 0:
                        listener.close()
                        _child(conn, request, fds)  # never returns
                    children.add(child)
                    for fd in fds:
                        os.close(fd)
                    continue
                for fd in fds:
                    os.close(fd)
                _reap(children, block=True)  # so that the CPU time below counts every command run
                times = os.times()
                try:
                    _send(conn, {"pid": os.getpid(), "served": served,
                                 "children_cpu": times.children_user + times.children_system}, [])
                except OSError:
                    pass
                if request.get("op") == "stop":
                    return
    finally:
        path.unlink(missing_ok=True)
        listener.close()
        os.unlink(lock_path)  # while still holding it (see the check above): no lock file left per build


def _reap(children: set[int], *, block: bool) -> None:
    """Collect the exit of finished commands (all of them, waiting, when `block`)."""
    for pid in list(children):
        try:
            done, _status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def _child(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the caller's command, run it, report its exit code, exit."""
    import signal

    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT
                          else signal.SIG_IGN if signum == signal.SIGPIPE else signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdin, sys.stdout, sys.stderr = (_stream(fd, *options) for fd, options in enumerate(request["streams"]))
        sys.argv = list(request["argv"])
        import types

        main_module = types.ModuleType("__main__")  # as the caller's: `duban` or `python -m cli`
        main_module.__package__ = request.get("main_package")
        sys.modules["__main__"] = main_module
        from cli.common import reset_consoles

        reset_consoles()  # Rich reads COLUMNS, NO_COLOR and whether it writes to a terminal when made
        _send(conn, {"pid": os.getpid()}, [])
        code = _run_main()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            _send(conn, {"code": code}, [])
        finally:
            os._exit(code)


def _stream(fd: int, encoding: str, errors: str, line_buffering: bool, write_through: bool) -> Any:
    """A standard stream on `fd` made as the caller's interpreter made its own (same encoding,
    error handler and buffering)."""
    import io

    raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
    buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, encoding=encoding, errors=errors, newline=None if fd == 0 else "\n",
                            line_buffering=line_buffering, write_through=write_through)


def _run_main() -> int:
    """`cli.main.main()` with its exit code, as the interpreter would set it."""
    from cli.main import main

    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    return code


if __name__ == "__main__":
    serve()
