"""How the web app runs under uvicorn, in one place: `duban serve` and bench/web.py both call `run`."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class NoDelayHTTPProtocol(HttpToolsProtocol):
    """uvicorn's httptools HTTP protocol, with TCP_NODELAY set on every accepted connection.

    httptools, not h11 (uvicorn's fallback when httptools is not installed): it parses a request
    in C, 0.1-0.2 ms less server CPU a request (docs/benchmarks.md). It is a dependency, so it is
    named here rather than left to uvicorn's "auto", which would fall back to h11 silently.

    asyncio sets TCP_NODELAY itself only when the listening socket was made with proto IPPROTO_TCP.
    With `--workers N` uvicorn binds the socket with proto 0 (uvicorn bug #3149), so accepted
    connections kept Nagle's algorithm: a response written in two parts (head, then body) waited
    for the client's delayed ACK, about 40 ms, on every request after the first on a keep-alive
    connection. Setting the option here covers every mode: one process, workers, a passed fd.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def run(app: Any, *, host: str, port: int, workers: int = 1, factory: bool = False, **options: Any) -> None:
    """Serve `app` (an app, or "module:factory" with factory=True, as workers need) until stopped;
    `options` are uvicorn's (the benchmark turns the access log off).

    duban reads X-Forwarded-For itself, from DUBAN_TRUSTED_PROXIES only (web/auth.py): uvicorn
    would otherwise believe it from any loopback client, hence proxy_headers=False.

    The event loop is uvloop's (a dependency wherever it builds, so not Windows), named rather than
    left to uvicorn's "auto", which would fall back to asyncio's silently: over HTTP it spent 0.2-0.3 ms
    less server CPU a request of bench/web.py's pages, about a seventh (docs/benchmarks.md).
    """
    uvicorn.run(app, host=host, port=port, workers=workers, factory=factory,
                **{"log_level": "info", "proxy_headers": False, "loop": _LOOP, **options, "http": NoDelayHTTPProtocol})


_LOOP = "asyncio" if sys.platform == "win32" else "uvloop"
