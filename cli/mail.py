"""Mail (issue 4): `duban deliver`, `duban outbox`, `duban digest`, `duban mailcatcher`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.common import CliError, console, local, open_session, print_json, resolve_now, settings
from cli.options import EngineOption, JsonOption, NowOption
from cli.words import _, locale, n_
from config.i18n import week_name


def register(app: typer.Typer) -> None:
    app.command("deliver")(deliver)
    app.command("outbox")(outbox)
    app.command("digest")(digest)
    app.command("mailcatcher")(mailcatcher)


def _engine(value: str) -> Any:
    if value not in ("auto", "local", "prefect"):
        raise typer.BadParameter(_("{value!r}: use auto, local or prefect", value=value))
    return value


def deliver(now: NowOption = None, engine: EngineOption = "auto", json: JsonOption = False) -> None:
    """Group pending notifications into mail and send what is due, once (inside the delivery window)."""
    from flows.deliver import deliver as deliver_flow
    from flows.runtime import run_flow

    at = resolve_now(now)
    with open_session():  # refuses early when the database is not initialised
        pass
    outcome = run_flow(deliver_flow, engine=_engine(engine), now=at.isoformat())
    if json:
        print_json({**outcome.result, "engine": outcome.engine})
        return
    print_delivery(outcome.result, outcome.engine)


def print_delivery(summary: dict[str, Any], engine: str) -> None:
    console.print(_("grouped {grouped} new message(s); sent {sent}, retried {retried}, dead {dead}, "
                    "refused recipients {refused_recipients}; {seconds:.2f}s", **summary), highlight=False)
    if summary["window_opens"]:
        from config.clock import parse_instant

        console.print(_("outside the delivery window: mail waits until {at}",
                        at=local(parse_instant(summary["window_opens"]))))
    for error in summary["errors"]:
        console.print(Text.assemble("  ", (str(error), "yellow")), highlight=False)
    console.print(_("engine: {engine}", engine=engine))


def outbox(
    status: Annotated[str | None, typer.Option("--status", help="pending, failed, sent or dead.")] = None,
    retry: Annotated[int | None, typer.Option("--retry", help="Queue this dead message again (admins).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Email of the admin retrying.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    now: NowOption = None,
    json: JsonOption = False,
) -> None:
    """List outbox messages with their status, or let an admin retry a dead one."""
    from models.read.timeline import event_word
    from notifications.outbox import list_outbox, retry_dead

    with open_session() as session:
        if retry is not None:
            if not by:
                raise CliError(_("--retry needs --by EMAIL (an admin)"))
            message = retry_dead(session, retry, by, resolve_now(now))
            session.commit()
            console.print(_("message {id} to {recipients} is queued again", id=message.id,
                            recipients=", ".join(message.recipients)), highlight=False)
            return
        rows = list_outbox(session, status, limit)
    if json:
        print_json([row.model_dump(exclude={"raw"}, warnings=False) for row in rows])
        return
    table = Table(_("Id"), _("Status"), _("Kind"), _("To"), _("Subject"), _("Attempts"), _("Next / sent"),
                  _("Last error"))
    for row in rows:
        when = local(row.sent_at) if row.sent_at else local(row.next_attempt_at)
        table.add_row(str(row.id), _(row.status), event_word(row.kind, locale()), ", ".join(row.recipients), row.subject,
                      str(row.attempts), when, row.last_error[:80])
    console.print(table)


def digest(
    now: NowOption = None,
    preview: Annotated[Path | None, typer.Option("--preview", help="Write the HTML digests here instead of queuing them.")] = None,
    engine: EngineOption = "auto",
) -> None:
    """Compile this week's escalation digests and queue them (at most one per recipient and week)."""
    at = resolve_now(now)
    if preview is not None:
        from notifications.digest import write_previews

        with open_session() as session:
            written = write_previews(session, at, settings(), preview)
        console.print(n_("wrote {n} digest preview to {directory}", "wrote {n} digest previews to {directory}", len(written),
                         directory=preview),
                      highlight=False)
        return
    from flows.digest import digest as digest_flow
    from flows.runtime import run_flow

    with open_session():
        pass
    outcome = run_flow(digest_flow, engine=_engine(engine), now=at.isoformat())
    summary = outcome.result
    counts = {**summary, "week": week_name(summary["week"], locale())}
    console.print(n_("{week}: queued {n} digest (supervisors {supervisor}, leadership {leadership}, units {unit}, "
                     "admins {admin}); already sent this week {already_sent}, empty {empty}",
                     "{week}: queued {n} digests (supervisors {supervisor}, leadership {leadership}, units {unit}, "
                     "admins {admin}); already sent this week {already_sent}, empty {empty}",
                     summary["queued"], **{k: v for k, v in counts.items() if k != "queued"}), highlight=False)
    console.print(_("engine: {engine}", engine=outcome.engine))


def mailcatcher(
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 1025,
    maildir: Annotated[Path, typer.Option("--maildir", help="Where to store what arrives.")] = Path("duban-mail"),
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
) -> None:
    """Run an SMTP server that stores every message it receives in a Maildir (Ctrl-C stops it)."""
    from notifications.mailcatcher import start_mailcatcher

    try:
        catcher = start_mailcatcher(maildir, host, port)
    except (OSError, RuntimeError) as exc:
        raise CliError(_("cannot listen on {host}:{port}: {error}", host=host, port=port, error=exc)) from None
    console.print(_("mail catcher on {host}:{port}, storing into {maildir} (Ctrl-C to stop)", host=host, port=port,
                    maildir=maildir.resolve()), highlight=False)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()
        console.print(n_("stored {n} message", "stored {n} messages", catcher.handler_.count))
