"""Security headers on every response: the content policy, framing, sniffing, referrers, HTTPS."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything a page needs comes from this site: scripts and styles only as files under /static
# (no inline <script>, no on* handlers, no style="" attributes), htmx with eval off
# (base.html's htmx-config). Forms post only here; no page may be framed, not even by us.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000"  # a year, once the site is served over HTTPS


def security_headers(https: bool) -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Frame-Options", "DENY"),  # for browsers older than frame-ancestors
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),  # error pages read the Referer for their back link
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


class SecurityHeaders:
    """A plain ASGI middleware (not BaseHTTPMiddleware, which costs a task per request).

    Outermost, so it also covers static files, redirects and error pages; a header a route set
    itself is left as it is.
    """

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
