"""Typed dependencies every route uses: the database session, the time, the person asking."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import annotated_types
from fastapi import APIRouter, Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from config import clock
from config.settings import Settings
from models.accounts import person_for_token, person_for_web_session
from models.errors import DubanError, Forbidden
from models.lifecycle import URGER_ROLES
from models.tables import Person, Role
from web.auth import csrf_matches, new_csrf_token

R = TypeVar("R")


class LoginRequired(DubanError):
    """No (valid) login: pages redirect to /login, the API answers 401."""


class CsrfError(Forbidden):
    pass


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, and each such hand-over (two for a generator) cost more than the work itself
# (docs/benchmarks.md). Opening a session takes no connection; closing one only hands its
# connection back. Work that queries runs in the loop only on SQLite (see inline_on_sqlite),
# whose pool never makes the loop wait (web/app.py).

async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


async def get_now(request: Request) -> datetime:
    """A request reads the clock once, here, and passes the instant down."""
    return request_now(request)


def request_now(request: Request) -> datetime:
    """The request's instant: the clock read at the first ask, the same instant at every later one
    (the login check asks without a dependency of its own, see current_user)."""
    now: datetime | None = request.scope.get("duban.now")
    if now is None:
        now = request.scope["duban.now"] = clock.now()
    return now


# Every whole number a request carries (ids, versions, pages, levels) is one of these: the
# columns they are compared with are INTEGER, 32 bits on PostgreSQL (SQLite's hold 64), and a
# number past that reached a query as a 500 on both. Out of range is a 422 like any other
# malformed field.
DB_INT_MAX = 2**31 - 1
DbInt = Annotated[int, annotated_types.Interval(ge=-DB_INT_MAX - 1, le=DB_INT_MAX)]

SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return str(token)


async def csrf_protect(request: Request) -> None:
    """On every unsafe request to the pages: the form's token must match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    submitted = request.headers.get("x-csrf-token")
    if submitted is None:
        form = await request.form()  # Starlette caches it; the route's Form() fields still work
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else None
    if not csrf_matches(request.session.get("csrf"), submitted):
        raise CsrfError("the form has expired or did not come from this site; reload the page and try again",
                        code="csrf.expired")


_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


class PageRouter(APIRouter):
    """The pages' router: each route that takes a form checks its CSRF token (csrf_protect) before its
    other dependencies. The others do without: csrf_protect passes a safe method untouched, and each
    dependency costs FastAPI about 30 µs a request to solve (docs/benchmarks.md)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], *, methods: Any = None,
                      dependencies: Sequence[params.Depends] | None = None, **kwargs: Any) -> None:
        if set(methods or ("GET",)) - _SAFE_METHODS:
            dependencies = [Depends(csrf_protect), *(dependencies or ())]
        super().add_api_route(path, endpoint, methods=methods, dependencies=dependencies, **kwargs)


def inline_on_sqlite(route: Callable[..., R]) -> Callable[..., Awaitable[R]]:
    """A page's synchronous work, run in the event loop on SQLite and in the thread pool otherwise.

    On a SQLite file a page is a few milliseconds of Python around sub-millisecond queries:
    handing it to a thread costs more than it saves, and the threads then take turns at the GIL
    (docs/benchmarks.md). A PostgreSQL query waits on the network, which the loop must not.
    The route needs a `request` parameter; FastAPI reads the signature of `route` itself.
    """
    @functools.wraps(route)
    async def endpoint(**kwargs: Any) -> R:
        if kwargs["request"].app.state.inline_db:
            return route(**kwargs)
        return await run_in_threadpool(route, **kwargs)

    return endpoint


async def current_user(request: Request, session: SessionDep) -> Person:
    # The time comes from request_now, not NowDep: FastAPI solves each dependency again wherever it
    # is named (about 30 µs each, docs/benchmarks.md), and a page names the login check and the time both.
    now = request_now(request)
    if request.app.state.inline_db:
        return _logged_in(request, session, now)
    return await run_in_threadpool(_logged_in, request, session, now)


def _logged_in(request: Request, session: Session, now: datetime) -> Person:
    """The cookie's session id must name a live row (models.accounts.WebSession): logout ends it."""
    session_id = request.session.get("sid")
    person = person_for_web_session(session, session_id, now) if isinstance(session_id, str) else None
    if person is None:
        request.session.pop("sid", None)
        raise LoginRequired("please log in", code="login.required")
    request.state.user = person
    return person


CurrentUser = Annotated[Person, Depends(current_user)]


async def supervisor_user(person: CurrentUser) -> Person:
    if person.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(f"{person.email} ({person.role}): only supervisors and admins may do this",
                        code="role.supervisor_only", params={"email": person.email, "role": person.role})
    return person


async def admin_user(person: CurrentUser) -> Person:
    if person.role != Role.ADMIN:
        raise Forbidden(f"{person.email} ({person.role}): only admins may do this",
                        code="role.admin_only", params={"email": person.email, "role": person.role})
    return person


def require_urger(person: Person) -> Person:
    """催办 is for supervisors, leaders and admins (the lifecycle's Who.URGER); officers are refused whole."""
    if person.role not in URGER_ROLES:
        raise Forbidden(f"{person.email} ({person.role}): only supervisors, leaders and admins may urge items",
                        code="role.urger_only", params={"email": person.email, "role": person.role})
    return person


async def urger_user(person: CurrentUser) -> Person:
    return require_urger(person)


SupervisorUser = Annotated[Person, Depends(supervisor_user)]
UrgerUser = Annotated[Person, Depends(urger_user)]
AdminUser = Annotated[Person, Depends(admin_user)]

_bearer = HTTPBearer(auto_error=False, description="An API token from `duban token create EMAIL`.")


def api_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    now: NowDep,
) -> Person:
    """The API authenticates by bearer token only (no cookies), so it needs no CSRF token."""
    person = person_for_token(session, credentials.credentials, now) if credentials else None
    if person is None:
        raise LoginRequired("a valid API token is required (Authorization: Bearer <token>)", code="api.token_required")
    return person


ApiUser = Annotated[Person, Depends(api_user)]


def after_change(request: Request, now: datetime) -> None:
    """After a committed change: trigger follow-up flows (mail now) when the app was told how."""
    hook = getattr(request.app.state, "followup", None)
    if hook is not None:
        hook(now)
