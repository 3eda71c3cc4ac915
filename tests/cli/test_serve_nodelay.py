"""`duban serve`: every connection the web server accepts has TCP_NODELAY, checked on the server's side.

Without it, each response after the first on a keep-alive connection waits about 40 ms for the
client's delayed ACK (uvicorn's `--workers` socket, uvicorn bug #3149).
"""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

DUBAN = str(Path(sys.executable).with_name("duban"))
SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _inode(server_port: int, client_port: int) -> str:
    """The socket inode of the server's end of the loopback connection from client_port (/proc/net/tcp)."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    raise AssertionError(f"no server socket for the connection from port {client_port}")


def _server_end(server_port: int, client_port: int) -> socket.socket:
    """A duplicate of the server's socket for this connection, taken from the process holding it."""
    link = f"socket:[{_inode(server_port, client_port)}]"
    libc = ctypes.CDLL(None, use_errno=True)
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            fd = next((int(fd) for fd in fds if os.readlink(f"/proc/{pid}/fd/{fd}") == link), None)
        except OSError:  # gone, or not ours
            continue
        if fd is None:
            continue
        pidfd = os.pidfd_open(pid)
        try:
            copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        finally:
            os.close(pidfd)
        if copy < 0:
            raise OSError(ctypes.get_errno(), f"pidfd_getfd on process {pid}")
        return socket.socket(fileno=copy)
    raise AssertionError(f"no process holds {link}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and uses pidfd_getfd")
@pytest.mark.parametrize("workers", [1, 2])
def test_every_accepted_connection_has_tcp_nodelay(sqlite_url, tmp_path, workers):
    port = _free_port()
    env = {**os.environ, "DUBAN_DATABASE_URL": sqlite_url, "DUBAN_CONFIG": str(tmp_path / "none.toml"),
           "DUBAN_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300", "DUBAN_LOCALE": "en"}
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen([DUBAN, "serve", "--port", str(port), "--workers", str(workers), "--engine", "local"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        for _ in range(240):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.connect()
        sock, times = connection.sock, []
        for _ in range(10):  # one keep-alive connection, ten requests in turn
            start = time.perf_counter()
            connection.request("GET", "/login")
            response = connection.getresponse()
            assert response.status == 200 and response.read()
            times.append(time.perf_counter() - start)
            assert connection.sock is sock  # still the same connection (http.client reconnects otherwise)
        client_port = sock.getsockname()[1]
        with _server_end(port, client_port) as server_end:
            nodelay = server_end.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        connection.close()
        assert nodelay, f"TCP_NODELAY is off on the server's end; ms per request: {[round(t * 1000) for t in times]}"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "Traceback" not in output


def test_the_server_parses_with_httptools_and_sets_tcp_nodelay_on_a_proto_0_listener():
    """In process: web/server.py's protocol is uvicorn's httptools one (not the h11 fallback), answers
    a request, and sets TCP_NODELAY where asyncio would not (a listening socket made with proto 0)."""
    import asyncio

    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    from web.server import NoDelayHTTPProtocol

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def serve_one() -> tuple[list[asyncio.Protocol], bytes, int]:
        config = uvicorn.Config(app, http=NoDelayHTTPProtocol, proxy_headers=False, log_level="warning")
        config.load()
        state, made = ServerState(), []

        def protocol() -> asyncio.Protocol:
            made.append(NoDelayHTTPProtocol(config=config, server_state=state, app_state={}))
            return made[-1]

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
        listener.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(protocol, sock=listener)
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        answer = await reader.readuntil(b"ok")
        server_end = made[0].transport.get_extra_info("socket")
        nodelay = server_end.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        server.close()
        return made, answer, nodelay

    made, answer, nodelay = asyncio.run(serve_one())
    assert isinstance(made[0], HttpToolsProtocol)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"ok")
    assert nodelay, "TCP_NODELAY is off on the server's end of the connection"
