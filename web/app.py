"""The web app: pages for people, JSON under /api/v1 for scripts; refusals become 4xx, never tracebacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from config.settings import Settings, get_settings
from models.db import make_engine
from models.errors import (
    ConflictError,
    DubanError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from models.read.due import reminder_window
from web.auth import TooManyAttempts, secret_key, trusted_networks
from web.deps import LoginRequired
from web.figures import FiguresCache
from web.headers import SecurityHeaders
from web.i18n import error_message

STATUS = {
    NotFound: (404, "Not found"),
    Forbidden: (403, "Not allowed"),
    ConflictError: (409, "Changed by someone else"),
    InvalidTransition: (409, "Refused"),
    TooManyAttempts: (429, "Too many attempts"),
    InvalidInput: (400, "Invalid input"),
}


# The pages' reads (the dashboard's aggregates above all) through a memory map: about a third
# less CPU than read() calls into each pooled connection's 2 MB page cache (docs/benchmarks.md).
SQLITE_MMAP_BYTES = 1 << 30


def _status(exc: DubanError) -> tuple[int, str]:
    for kind, result in STATUS.items():
        if isinstance(exc, kind):
            return result
    return 400, "Refused"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _json_error(exc: DubanError, status_code: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """`detail` stays the English sentence; `code` and `params` let a client word it itself."""
    return JSONResponse({"detail": str(exc), "code": exc.code, "params": exc.params},
                        status_code=status_code, headers=headers)


def _error_page(request: Request, status_code: int, title: str, exc: DubanError, **context: object) -> Response:
    from web.render import locale_for, render

    user = getattr(request.state, "user", None)
    return render(request, "error.html", user, status_code, title=title,
                  message=error_message(exc, locale_for(request, user)), **context)


def _field_problem(error: Any) -> DubanError:
    """One of pydantic's complaints, with a code for the common kinds (else its English as is)."""
    field = ".".join(str(part) for part in error["loc"][1:]) or "request"
    english, kind = f"{field}: {error['msg']}", str(error["type"])
    if kind == "missing":
        return DubanError(english, code="request.field_missing", params={"field": field})
    if kind.startswith(("int_", "float_", "decimal_")):
        return DubanError(english, code="request.field_not_number", params={"field": field})
    if kind.startswith(("date_", "datetime_")):
        return DubanError(english, code="request.field_not_date", params={"field": field})
    if kind in ("enum", "literal_error"):
        return DubanError(english, code="request.field_not_a_choice", params={"field": field})
    return DubanError(english)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="duban",
        summary="督办 duban: policy items, their owners, deadlines and sign-off.",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; offices are often offline
        redoc_url=None,
    )
    app.state.settings = settings
    # A request holds its connection from the login check to its end, so a bounded pool can run
    # dry while those requests wait for a thread and the threads wait for a connection. SQLite
    # connections are cheap local handles: let the pool open as many as the requests need.
    url = make_url(settings.sqlalchemy_url)
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    app.state.engine = make_engine(settings.sqlalchemy_url, sqlite_mmap_bytes=SQLITE_MMAP_BYTES,
                                   **({"pool_size": 10, "max_overflow": -1} if sqlite_file else {}))
    app.state.inline_db = sqlite_file  # see web.deps.inline_on_sqlite
    app.state.figures = FiguresCache()
    app.state.trusted_proxies = trusted_networks(settings)
    # `duban serve` sets this to flows.followup.deliver_soon: mail right after an action.
    app.state.followup = None
    reminder_window()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie="duban_session",
        max_age=12 * 3600,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))  # outermost
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    from web.routes import (
        admin,
        api,
        approvals,
        auth,
        dashboard,
        documents,
        evidence,
        ical,
        items,
        ledger_import,
        outbox,
        score,
    )

    for module in (auth, dashboard, items, evidence, approvals, ledger_import, outbox, score, ical, documents, admin):
        app.include_router(module.router)
    app.include_router(ical.pages)
    app.include_router(evidence.api)  # before api.router: its /items/{item_id}/{action} would take /files
    app.include_router(api.router)

    @app.exception_handler(DubanError)
    async def refused(request: Request, exc: DubanError) -> Response:
        if isinstance(exc, LoginRequired):
            if _wants_json(request):
                return _json_error(exc, 401, headers={"WWW-Authenticate": "Bearer"})
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        status_code, title = _status(exc)
        if _wants_json(request):
            return _json_error(exc, status_code)
        # Only a path on this site, whatever the Referer header says.
        back = urlsplit(request.headers.get("referer", "")).path or None if request.method == "POST" else None
        return _error_page(request, status_code, title, exc, back=back)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code not in (404, 405):
            return JSONResponse({"detail": exc.detail, "code": None, "params": {}}, status_code=exc.status_code,
                                headers=exc.headers)
        error = DubanError(str(exc.detail),
                           code="http.not_found" if exc.status_code == 404 else "http.method_not_allowed")
        if _wants_json(request):
            return _json_error(error, exc.status_code, headers=dict(exc.headers or {}))
        return _error_page(request, exc.status_code, "Not found", error)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        fields = [_field_problem(e) for e in exc.errors()]
        problems = "; ".join(map(str, fields))
        if _wants_json(request):  # `detail` and `params` stay English, like every API refusal
            return _json_error(DubanError(problems, code="request.invalid", params={"problems": problems}), 422)
        from web.render import locale_for

        locale = locale_for(request, getattr(request.state, "user", None))
        words = ("；" if locale == "zh-CN" else "; ").join(error_message(f, locale) for f in fields)
        return _error_page(request, 422, "Invalid input",
                           DubanError(problems, code="request.invalid", params={"problems": words}))

    return app
