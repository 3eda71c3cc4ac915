"""People and their access to the web app: `duban user add|list|set|deactivate|password`,
`duban token create|list|revoke`."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer
from sqlmodel import select

from cli.common import CliError, console, err_console, open_session, resolve_now
from cli.options import NowOption
from cli.words import _, actor
from models.errors import InvalidInput, NotFound
from models.queries import find_person
from models.tables import Person, Role


def register(app: typer.Typer) -> None:
    user = typer.Typer(help="People who log in to the web app.", no_args_is_help=True)
    user.command("add")(add)
    user.command("list")(list_people)
    user.command("set")(set_fields)
    user.command("deactivate")(deactivate)
    user.command("password")(password)
    app.add_typer(user, name="user")
    token = typer.Typer(help="API tokens for scripts (/api/v1).", no_args_is_help=True)
    token.command("create")(token_create)
    token.command("list")(token_list)
    token.command("revoke")(token_revoke)
    app.add_typer(token, name="token")


def add(
    email: Annotated[str, typer.Argument(help="Their email address (the login name).")],
    role: Annotated[Role, typer.Option(help="officer, supervisor, leader or admin.")],
    unit: Annotated[str | None, typer.Option(help="Their unit (name or code); officers need one.")] = None,
    name: Annotated[str | None, typer.Option(help="Their name as shown on pages (default: the email).")] = None,
    now: NowOption = None,
) -> None:
    """Add a person (or update the role, unit and name of an existing one), logged as an administrative
    change as the admin page's are."""
    from models.admin import add_person, checked_email, set_person

    address = checked_email(email)
    if role == Role.OFFICER and not unit:
        raise InvalidInput(_("{email}: an officer needs --unit (the unit whose items they work on)", email=address))
    at = resolve_now(now)
    with open_session() as session:
        person = session.exec(select(Person).where(Person.email == address)).first()
        if person is None:
            person = add_person(session, at, "cli", address, name or "", role, unit or "")
            said = _("added {person}; set a password with `duban user password {email}`",
                     person=actor(person.label()), email=address)
        else:
            set_person(session, person, at, "cli", role=role, unit=unit or "", name=name)
            said = _("updated {person}; set a password with `duban user password {email}`",
                     person=actor(person.label()), email=address)
        session.commit()
        console.print(said, highlight=False)


def list_people() -> None:
    """Everyone: email, name, role, unit, language, and whether they are active."""
    from models.admin import people
    from models.tables import Unit

    with open_session() as session:
        units = {u.id: u.name for u in session.exec(select(Unit)).all()}
        for person in people(session):
            state = _("active") if person.active else _("deactivated")
            console.print("  ".join([person.email, person.name, str(person.role), units.get(person.unit_id, "-"),
                                     person.locale or "-", state]), highlight=False)


def set_fields(
    email: Annotated[str, typer.Argument(help="Whose details to change.")],
    locale: Annotated[str | None, typer.Option(help="Their language for pages and mail: zh-CN or en.")] = None,
    role: Annotated[Role | None, typer.Option(help="officer, supervisor, leader or admin.")] = None,
    unit: Annotated[str | None, typer.Option(help="Their unit (name or code; \"\" for none).")] = None,
    now: NowOption = None,
) -> None:
    """Change a person's language, role or unit (logged as an administrative change)."""
    from models.admin import set_person

    at = resolve_now(now)
    with open_session() as session:
        person = find_person(session, email)
        change = set_person(session, person, at, "cli", role=role, unit=unit, locale=locale)
        session.commit()
        if change is None:
            console.print(_("{email}: nothing to change", email=person.email), highlight=False)
        else:
            console.print(_("updated {person}", person=actor(person.label())), highlight=False)


def deactivate(email: Annotated[str, typer.Argument(help="Who may no longer log in or get mail.")],
               now: NowOption = None) -> None:
    """Deactivate a person: no login, no API tokens, no mail; their name stays in the history."""
    from models.admin import deactivate as deactivate_person

    at = resolve_now(now)
    with open_session() as session:
        person = find_person(session, email)
        change = deactivate_person(session, person, at, "cli")
        session.commit()
        if change is None:
            console.print(_("{email} was already deactivated", email=person.email), highlight=False)
        else:
            console.print(_("{email} deactivated: no login, no API tokens, no mail", email=person.email),
                          highlight=False)


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = typer.prompt(_("new password"), hide_input=True)
    if typer.prompt(_("again"), hide_input=True) != first:
        raise CliError(_("the two passwords differ; nothing was changed"))
    return str(first)


def password(email: Annotated[str, typer.Argument(help="Whose password to set.")]) -> None:
    """Set a person's password (read from standard input when it is not a terminal)."""
    from models.accounts import set_password

    with open_session() as session:
        person = find_person(session, email)
        set_password(session, person, _read_password())
        session.commit()
        console.print(_("password set for {email}; their other sessions have ended", email=person.email),
                      highlight=False)


def token_create(email: Annotated[str, typer.Argument(help="Whose token (it acts with their rights).")],
                 now: NowOption = None) -> None:
    """Create an API token; it is printed once and only its hash is stored."""
    from models.accounts import create_token

    at = resolve_now(now)
    with open_session() as session:
        person = find_person(session, email)
        if not person.active:
            raise InvalidInput(_("{email} is not active", email=person.email))
        token = create_token(session, person, at)
        session.commit()
        sys.stdout.write(token + "\n")
        err_console.print(_("(for {email}; keep it secret: it cannot be shown again)", email=person.email),
                          highlight=False)


def token_list(email: Annotated[str, typer.Argument(help="Whose tokens.")]) -> None:
    """A person's API tokens: id, first characters, when created and last used, whether revoked."""
    from models.accounts import tokens_of

    with open_session() as session:
        person = find_person(session, email)
        tokens = tokens_of(session, person)
        if not tokens:
            console.print(_("{email} has no API tokens", email=person.email), highlight=False)
            return
        for token in tokens:
            state = _("revoked {at}", at=_when(token.revoked_at)) if token.revoked_at else _("active")
            used = _("last used {at}", at=_when(token.last_used_at)) if token.last_used_at else _("never used")
            created = _("created {at}", at=_when(token.created_at))
            console.print(f"{token.id:>6}  {token.hint}…  {created}  {used}  {state}", highlight=False)


def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (from `duban token list`).")],
                 now: NowOption = None) -> None:
    """Revoke an API token: requests with it are refused from now on."""
    from models.accounts import find_token, revoke_token

    at = resolve_now(now)
    with open_session() as session:
        try:
            token = find_token(session, token_id)
        except NotFound:
            raise CliError(_("no API token with id {id} (see `duban token list EMAIL`)", id=token_id)) from None
        already = not revoke_token(session, token, at)
        session.commit()
        person = session.get(Person, token.person_id)
        owner = person.email if person else token.person_id
        if already:
            said = _("token {id} ({hint}…) of {owner} was already revoked", id=token_id, hint=token.hint, owner=owner)
        else:
            said = _("token {id} ({hint}…) of {owner} revoked", id=token_id, hint=token.hint, owner=owner)
        console.print(said, highlight=False)


def _when(at: datetime | None) -> str:
    from config.settings import get_settings

    return at.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M") if at else ""
