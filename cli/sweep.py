"""The sweep and deadlines (issue 3): `duban sweep`, `duban forecast`, `duban calendar`, `duban doctor`."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Annotated, Any, Literal, cast

import typer
from rich.table import Table

from cli.common import (
    CliError,
    EngineOption,
    JsonOption,
    NowOption,
    console,
    local,
    open_session,
    print_json,
    resolve_now,
    settings,
)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("forecast")(forecast)
    app.command("doctor")(doctor)
    calendar_app = typer.Typer(help="The working-day calendar.", no_args_is_help=True)
    calendar_app.command("check")(calendar_check)
    app.add_typer(calendar_app, name="calendar")


def sweep(now: NowOption = None, engine: EngineOption = "auto", as_json: JsonOption = False) -> None:
    """Remind, flag and escalate every item whose next threshold has come (once; `serve` repeats it)."""
    from flows.runtime import Engine as FlowEngine
    from flows.runtime import run_flow
    from flows.sweep import sweep as sweep_flow

    if engine not in ("auto", "local", "prefect"):
        raise typer.BadParameter(f"{engine!r}: use auto, local or prefect", param_hint="--engine")
    at = resolve_now(now)
    with open_session():
        pass  # refuses an uninitialised or outdated database with the fix
    outcome = run_flow(sweep_flow, engine=cast(FlowEngine, engine), now=at.isoformat())
    summary = {**outcome.result, "engine": outcome.engine}
    if as_json:
        print_json(summary)
        return
    events = ", ".join(f"{kind} {count}" for kind, count in sorted(summary["events"].items())) or "none"
    console.print(
        f"sweep at {local(at)}: examined {summary['examined']} items; events: {events}; "
        f"notifications queued {summary['notifications']}; {summary['seconds']:.2f} s; engine {outcome.engine}",
        highlight=False, soft_wrap=True,
    )
    for warning in summary["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)


_WHAT = {"reminder": "提醒 reminder", "overdue": "逾期 overdue", "repeat_reminder": "再提醒 repeat",
         "escalated": "升级 escalation"}


def forecast(
    days: Annotated[int, typer.Option("--days", min=0, help="How many days ahead.")] = 7,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """What will be reminded, flagged or escalated in the next N days, and to whom (writes nothing)."""
    from config.calendar import load_calendar
    from config.policy import load_policy
    from models.forecast import forecast as build_forecast

    at, tz = resolve_now(now), settings().tz
    policy, calendar = load_policy(), load_calendar()
    with open_session() as session:
        entries = build_forecast(session, now=at, until=at + timedelta(days=days), policy=policy,
                                 calendar=calendar, tz=tz)
    if as_json:
        print_json([{**e.__dict__, "when": e.when.isoformat()} for e in entries])
        return
    table = Table(title=f"{len(entries)} notifications in the next {days} days (from {local(at)})",
                  title_justify="left")
    for column in ("when", "item", "what", "to", "cc"):
        table.add_column(column, overflow="fold")
    for e in entries:
        what = _WHAT.get(e.kind, e.kind) + (f" L{e.level}" if e.kind == "escalated" else "") + f" ({e.threshold})"
        if e.also:
            what += f" [dim]+ {', '.join(e.also)}[/]"
        table.add_row(local(e.when), e.ref, what, ", ".join(e.to) or "[red]nobody[/]", ", ".join(e.cc))
    console.print(table)


def calendar_check(
    year: Annotated[int | None, typer.Argument(help="The year to check (default: this year and next).")] = None,
    now: NowOption = None,
) -> None:
    """Which years the calendar covers, and whether the overrides fill the gap. Exit 1 on a gap."""
    from config.calendar import PACKAGE_YEARS, coverage, load_calendar

    calendar = load_calendar()
    this_year = resolve_now(now).astimezone(settings().tz).year
    years = [year] if year else [this_year, this_year + 1]
    console.print(f"chinese-calendar covers {min(PACKAGE_YEARS)}-{max(PACKAGE_YEARS)}; overrides: {calendar.source}",
                  highlight=False)
    if calendar.complete_years:
        console.print(f"overrides complete the years {', '.join(map(str, sorted(calendar.complete_years)))}",
                      highlight=False)
    gaps = []
    for y in years:
        how = coverage(calendar, y)
        line = {"package": "covered by chinese-calendar", "overrides": "covered by the overrides file",
                "fallback": "NOT covered: Monday-Friday plus overrides"}[how]
        extra = sum(1 for d in calendar.extra_holidays | calendar.extra_workdays if d.year == y)
        console.print(f"{y}: {line} ({extra} override days)", highlight=False)
        if how == "fallback":
            gaps.append(y)
    if gaps:
        raise CliError(
            f"{', '.join(map(str, gaps))} not covered; add the official holidays and make-up working days to "
            f"{calendar.source} and list the year under complete_years (or upgrade chinesecalendar)"
        )


def doctor(now: NowOption = None) -> None:
    """Check what must work before trusting duban; print each problem with its fix. Exit 1 if any."""
    checks: list[tuple[str, Literal["ok", "problem", "warning"], str]] = []

    def record(name: str, state: Literal["ok", "problem", "warning"], text: str) -> None:
        checks.append((name, state, text))

    _doctor_checks(resolve_now(now), record)
    for name, state, text in checks:
        mark = {"ok": "[green]ok[/]", "problem": "[bold red]problem[/]", "warning": "[yellow]warning[/]"}[state]
        console.print(f"{mark:>22}  {name}: {text}", highlight=False, soft_wrap=True)
    problems = sum(1 for _, state, _ in checks if state == "problem")
    if problems:
        raise CliError(f"{problems} problem(s) found; fix them and run `duban doctor` again")


def _doctor_checks(at: Any, record: Any) -> None:
    from config.settings import SettingsError, get_settings

    try:
        s = get_settings()
    except SettingsError as exc:
        record("settings", "problem", f"{exc}; fix: correct the DUBAN_* variable or duban.toml")
        return
    record("settings", "ok", f"database {s.database_display}, timezone {s.timezone}, locale {s.locale}")
    _check_database(s, record)
    _check_policy(record)
    _check_calendar(at.astimezone(s.tz).year, record)
    try:
        with socket.create_connection((s.smtp_host, s.smtp_port), timeout=3):
            record("smtp", "ok", f"{s.smtp_host}:{s.smtp_port} accepts connections")
    except OSError as exc:
        record("smtp", "problem", f"cannot connect to {s.smtp_host}:{s.smtp_port} ({exc.strerror or exc}); fix: "
               "start the mail server or set DUBAN_SMTP_HOST/DUBAN_SMTP_PORT (`duban mailcatcher` for tests)")


def _check_database(s: Any, record: Any) -> None:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session, col

    from cli.common import engine
    from migrations.runner import current_revision, head_revision
    from models.sweep_tables import SweepRun

    try:
        current = current_revision(engine())
    except SQLAlchemyError as exc:
        record("database", "problem", f"cannot reach {s.database_display} ({str(exc).splitlines()[0]}); fix: check "
               "DUBAN_DATABASE_URL and that the server is running")
        return
    head = head_revision()
    if current != head:
        record("database", "problem", f"schema at {current or 'empty'}, code expects {head}; fix: run `duban init`")
        return
    record("database", "ok", f"reachable, migrated ({head})")
    with Session(engine()) as session:
        last = session.scalars(select(SweepRun).order_by(col(SweepRun.id).desc()).limit(1)).first()
    if last is None:
        record("sweep", "warning", "no sweep has run yet; fix: `duban sweep`, or `duban serve` to run it on schedule")
    else:
        record("sweep", "warning" if last.warnings else "ok", f"last sweep at {local(last.now)}: "
               f"{last.examined} items examined, {last.notifications} notifications queued")
        for warning in last.warnings:
            record("sweep", "warning", warning)


def _check_policy(record: Any) -> None:
    from config.policy import PolicyError, load_policy

    try:
        policy = load_policy()
    except PolicyError as exc:
        record("policy", "problem", f"{exc}; fix: correct the file (DUBAN_POLICY_FILE)")
        return
    record("policy", "ok", f"{policy.source}: {len(policy.documents)} document and "
           f"{len(policy.categories)} category overrides")
    for problem in policy.problems():
        record("policy", "problem", problem)


def _check_calendar(year: int, record: Any) -> None:
    from config.calendar import CalendarError, coverage, load_calendar

    try:
        calendar = load_calendar()
    except CalendarError as exc:
        record("calendar", "problem", f"{exc}; fix: correct the file (DUBAN_CALENDAR_FILE)")
        return
    for y in (year, year + 1):
        if coverage(calendar, y) == "fallback":
            record("calendar", "problem", f"{y} is not covered (Monday-Friday fallback); fix: add its holidays and "
                   f"make-up working days to {calendar.source} and list {y} under complete_years")
        else:
            record("calendar", "ok", f"{y} covered ({coverage(calendar, y)})")
