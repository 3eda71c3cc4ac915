"""Logging in and out, one's own password and API tokens, switching the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from models.accounts import (
    create_token,
    end_web_session,
    find_token,
    revoke_token,
    start_web_session,
    tokens_of,
)
from models.errors import DubanError
from models.tables import Person
from web.auth import BadCredentials, authenticate, change_password, client_address
from web.deps import CurrentUser, DbInt, NowDep, PageRouter, SessionDep
from web.i18n import LOCALES, error_message
from web.render import flash, locale_for, redirect, render

router = PageRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `//evil.example` or `https://...` would send people away."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", None, next=_safe_next(next), email="", error=None)


@router.post("/login")
def login(
    request: Request, session: SessionDep, now: NowDep,
    email: Annotated[str, Form()], password: Annotated[str, Form()], next: Annotated[str, Form()] = "/",
) -> Response:
    address = client_address(request.client.host if request.client else None,
                             request.headers.get("x-forwarded-for"), request.app.state.trusted_proxies)
    try:
        person = authenticate(session, email, password, address, now)
    except BadCredentials as exc:
        session.commit()  # the failed attempt counts
        return render(request, "login.html", None, 401, next=_safe_next(next), email=email,
                      error=error_message(exc, locale_for(request, None)))
    session_id = start_web_session(session, person, now)
    session.commit()
    lang = request.session.get("lang")
    request.session.clear()  # a fresh session (and CSRF token) after login
    if lang:
        request.session["lang"] = lang
    request.session["sid"] = session_id
    return redirect(_safe_next(next))


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """Ends the session on the server: a copy of the cookie kept elsewhere no longer works."""
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        end_web_session(session, session_id)
        session.commit()
    request.session.clear()
    return redirect("/login")


@router.get("/password")
def password_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "password.html", user, error=None)


@router.post("/password")
def password(
    request: Request, session: SessionDep, user: CurrentUser,
    current: Annotated[str, Form()], new: Annotated[str, Form()], repeated: Annotated[str, Form()],
) -> Response:
    try:
        change_password(session, user, current, new, repeated, keep_session=request.session.get("sid"))
    except DubanError as exc:
        return render(request, "password.html", user, 400, error=error_message(exc, locale_for(request, user)))
    session.commit()  # this session stays; all others have ended
    flash(request, "Password changed.")
    return redirect("/")


def _tokens_page(request: Request, session: Session, user: Person, secret: str | None = None) -> Response:
    response = render(request, "tokens.html", user, tokens=tokens_of(session, user), secret=secret)
    response.headers["Cache-Control"] = "no-store"  # the page may hold a new token's secret
    return response


@router.get("/account/tokens")
def tokens_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return _tokens_page(request, session, user)


@router.post("/account/tokens")
def new_token(request: Request, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Shown once, in this response: a redirect would have to carry it in the URL or the cookie."""
    secret = create_token(session, user, now)
    session.commit()
    return _tokens_page(request, session, user, secret)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: DbInt, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """One's own tokens only, admins included: someone else's id is a 404 like a missing one."""
    revoked = revoke_token(session, find_token(session, token_id, by=user, own_only=True), now)
    session.commit()
    if revoked:
        flash(request, "Token revoked.")
    else:
        flash(request, "The token was already revoked.")
    return redirect("/account/tokens")


@router.post("/lang")
def language(request: Request, lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    if lang in LOCALES:
        request.session["lang"] = lang
    return redirect(_safe_next(next))
