"""The sweep and deadlines (issue 3): `duban sweep`, `duban forecast`, `duban calendar`, `duban doctor`."""

from __future__ import annotations

import os
import socket
import stat
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer

# Rich (its console, tables, text) is imported where a command prints with it, not here: `duban run
# --json`, the cron job, prints none of it (about 0.015 s of its start; docs/benchmarks.md).
from cli import job
from cli.common import CliError, local, open_session, print_json, resolve_now, settings
from cli.job import print_sweep
from cli.launch import ENGINES
from cli.options import EngineOption, JsonOption, NowOption
from cli.words import _, locale, n_, threshold


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("run")(run)
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

    if engine not in ENGINES:
        raise typer.BadParameter(_("{value!r}: use auto, local or prefect", value=engine), param_hint="--engine")
    at = resolve_now(now)
    with open_session():
        pass  # refuses an uninitialised or outdated database with the fix
    outcome = run_flow(sweep_flow, engine=cast(FlowEngine, engine), now=at.isoformat())
    summary = {**outcome.result, "engine": outcome.engine}
    if as_json:
        print_json(summary)
        return
    print_sweep(summary, at)


def run(now: NowOption = None, engine: EngineOption = "auto", as_json: JsonOption = False) -> None:
    """Sweep, then group and send the mail that is due: the whole reminder job in one process (for cron)."""
    if engine not in ENGINES:
        raise typer.BadParameter(_("{value!r}: use auto, local or prefect", value=engine), param_hint="--engine")
    job.run(now, engine, as_json)


def forecast(
    days: Annotated[int, typer.Option("--days", min=0, help="How many days ahead.")] = 7,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """What will be reminded, flagged or escalated in the next N days, and to whom (writes nothing)."""
    from rich.table import Table
    from rich.text import Text

    from cli.common import console
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
    table = Table(title=_("{count} notifications in the next {days} days (from {at})", count=len(entries),
                          days=days, at=local(at)), title_justify="left")
    for column in (_("When"), _("Item"), _("Kind"), _("To"), _("Cc")):
        table.add_column(column, overflow="fold")
    separator = "、" if locale() == "zh-CN" else ", "
    for e in entries:
        what = Text(threshold(e.threshold))
        if e.also:  # crossed in the same catch-up: each address hears the most severe addressed to it
            what.append(" + " + separator.join(threshold(t) for t in e.also), style="dim")
        table.add_row(local(e.when), e.ref, what, ", ".join(e.to) or Text(_("nobody"), style="red"), ", ".join(e.cc))
    console.print(table)


def calendar_check(
    year: Annotated[int | None, typer.Argument(help="The year to check (default: this year and next).")] = None,
    now: NowOption = None,
) -> None:
    """Which years the calendar covers, and whether the overrides fill the gap. Exit 1 on a gap."""
    from cli.common import console
    from config.calendar import PACKAGE_YEARS, coverage, load_calendar

    calendar = load_calendar()
    this_year = resolve_now(now).astimezone(settings().tz).year
    years = [year] if year else [this_year, this_year + 1]
    console.print(_("chinese-calendar covers {first}-{last}; overrides: {source}", first=min(PACKAGE_YEARS),
                    last=max(PACKAGE_YEARS), source=calendar.source), highlight=False)
    if calendar.complete_years:
        console.print(_("overrides complete the years {years}",
                        years=", ".join(map(str, sorted(calendar.complete_years)))), highlight=False)
    gaps = []
    for y in years:
        how = coverage(calendar, y)
        line = {"package": _("covered by chinese-calendar"), "overrides": _("covered by the overrides file"),
                "fallback": _("NOT covered: Monday-Friday plus overrides")}[how]
        extra = sum(1 for d in calendar.extra_holidays | calendar.extra_workdays if d.year == y)
        console.print(_("{year}: {coverage} ({extra} override days)", year=y, coverage=line, extra=extra),
                      highlight=False)
        if how == "fallback":
            gaps.append(y)
    if gaps:
        raise CliError(_(
            "{years} not covered; add the official holidays and make-up working days to {source} and list the year "
            "under complete_years (or upgrade chinesecalendar)",
            years=", ".join(map(str, gaps)), source=calendar.source))


def doctor(now: NowOption = None) -> None:
    """Check what must work before trusting duban; print each problem with its fix. Exit 1 if any."""
    from rich.cells import cell_len
    from rich.text import Text

    from cli.common import console

    checks: list[tuple[str, Literal["ok", "problem", "warning"], str]] = []

    def record(name: str, state: Literal["ok", "problem", "warning"], text: str) -> None:
        checks.append((name, state, text))

    _doctor_checks(resolve_now(now), record)
    styles = {"ok": "green", "problem": "bold red", "warning": "yellow"}
    for name, state, text in checks:
        word = {"ok": _("ok"), "problem": _("problem"), "warning": _("warning")}[state]
        console.print(Text.assemble(" " * max(0, 9 - cell_len(word)), (word, styles[state]), "  ",
                                    _("{name}: {value}", name=name, value=text)), highlight=False, soft_wrap=True)
    problems = sum(1 for check in checks if check[1] == "problem")
    if problems:
        raise CliError(n_("{n} problem found; fix it and run `duban doctor` again",
                          "{n} problems found; fix them and run `duban doctor` again", problems))


def _doctor_checks(at: Any, record: Any) -> None:
    from config.settings import SettingsError, get_settings

    try:
        s = get_settings()
    except SettingsError as exc:
        record(_("settings"), "problem", _("{error}; fix: correct the DUBAN_* variable or duban.toml", error=exc))
        return
    record(_("settings"), "ok", _("database {database}, timezone {timezone}, locale {locale}",
                                  database=s.database_display, timezone=s.timezone, locale=s.locale))
    deadline_years: dict[int, int] = {}
    if _check_database(s, record):
        from cli.schedules import doctor_checks

        doctor_checks(record)
        deadline_years = _open_deadline_years()
    _check_data_dir(s.data_dir, record)
    _check_policy(record)
    _check_scoring(record)
    _check_calendar(at.astimezone(s.tz).year, record, deadline_years)
    smtp = f"{s.smtp_host}:{s.smtp_port}"
    try:
        with socket.create_connection((s.smtp_host, s.smtp_port), timeout=3):
            record(_("smtp"), "ok", _("{server} accepts connections", server=smtp))
    except OSError as exc:
        record(_("smtp"), "problem", _(
            "cannot connect to {server} ({error}); fix: start the mail server or set DUBAN_SMTP_HOST/DUBAN_SMTP_PORT "
            "(`duban mailcatcher` for tests)", server=smtp, error=exc.strerror or exc))


def _check_database(s: Any, record: Any) -> bool:
    """True when the database is reachable and migrated."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session, col

    from cli.common import engine
    from migrations.runner import current_revision, head_revision
    from models.sweep_tables import SweepRun

    try:
        current = current_revision(engine())
    except SQLAlchemyError as exc:
        record(_("database"), "problem", _(
            "cannot reach {database} ({error}); fix: check DUBAN_DATABASE_URL and that the server is running",
            database=s.database_display, error=str(exc).splitlines()[0]))
        return False
    head = head_revision()
    if current != head:
        record(_("database"), "problem", _("schema at {current}, code expects {head}; fix: run `duban init`",
                                           current=current or _("empty"), head=head))
        return False
    record(_("database"), "ok", _("reachable, migrated ({head})", head=head))
    with Session(engine()) as session:
        last = session.scalars(select(SweepRun).order_by(col(SweepRun.id).desc()).limit(1)).first()
    if last is None:
        record(_("sweep"), "warning",
               _("no sweep has run yet; fix: `duban sweep`, or `duban serve` to run it on schedule"))
    else:
        record(_("sweep"), "warning" if last.warnings else "ok", _(
            "last sweep at {at}: {examined} items examined, {notifications} notifications queued",
            at=local(last.now), examined=last.examined, notifications=last.notifications))
        for warning in last.warnings:
            record(_("sweep"), "warning", warning)
    _check_unreached(record)
    return True


def _check_unreached(record: Any) -> None:
    """Notices that reached nobody, not even the fallback (models/notices.py): a count, then each item."""
    from sqlmodel import Session

    from cli.common import engine
    from models.notices import unreached_notices

    with Session(engine()) as session:
        found = unreached_notices(session)
    if not found:
        record(_("notices"), "ok", _("every notice reached someone"))
        return
    record(_("notices"), "warning", _(
        "{count} notice(s) reached nobody, not even the fallback (the item's supervisor, the document's default "
        "supervisor, the policy's default_supervisors, the admins); the admins' digest lists them; fix: give the "
        "units contact emails and the items a supervisor, or set default_supervisors", count=len(found)))
    by_item: dict[int, list[str]] = {}
    items: dict[int, tuple[str, str]] = {}
    for notice in found:  # newest first
        what = _("escalation level {n}", n=notice.level) if notice.level else _(notice.kind)
        by_item.setdefault(notice.item_id, []).append(_("{what} at {at}", what=what, at=local(notice.at)))
        items[notice.item_id] = (notice.ref, notice.title)
    separator = "；" if locale() == "zh-CN" else "; "
    for item_id, notices in by_item.items():
        ref, title = items[item_id]
        record(_("notices"), "warning", _("{ref} {title}: {notices}", ref=ref, title=title,
                                          notices=separator.join(notices)))


def _check_data_dir(path: Path, record: Any) -> None:
    """Exists or can be made, writable, and closed to other users (it holds uploads and the cookie key)."""
    name = _("data directory")
    if not path.exists():
        parent = next((p for p in path.absolute().parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK | os.X_OK):
            record(name, "problem", _("{path} does not exist and cannot be created here; fix: create it "
                                      "(mkdir -m 700 {path}) or set DUBAN_DATA_DIR", path=path))
        else:
            record(name, "ok", _("{path} will be created on first use", path=path))
        return
    if not path.is_dir():
        record(name, "problem", _("{path} is not a directory; fix: set DUBAN_DATA_DIR to a directory", path=path))
    elif not os.access(path, os.W_OK | os.X_OK):
        record(name, "problem", _("{path} is not writable by this user; fix: chown it to the user running duban "
                                  "or set DUBAN_DATA_DIR", path=path))
    elif (mode := stat.S_IMODE(path.stat().st_mode)) & 0o007:
        record(name, "problem", _("{path} is open to every user on this machine (mode {mode}); it holds uploads, "
                                  "evidence files and the cookie key; fix: chmod 700 {path}", path=path,
                                  mode=oct(mode)[2:]))
    else:
        record(name, "ok", _("{path}: writable, only this user may read it", path=path))


def _check_policy(record: Any) -> None:
    from config.policy import PolicyError, load_policy

    try:
        policy = load_policy()
    except PolicyError as exc:
        record(_("policy"), "problem", _("{error}; fix: correct the file (DUBAN_POLICY_FILE)", error=exc))
        return
    record(_("policy"), "ok", _("{source}: {documents} document and {categories} category overrides",
                                source=policy.source, documents=len(policy.documents),
                                categories=len(policy.categories)))
    for problem in policy.problems():
        record(_("policy"), "problem", problem)


def _check_scoring(record: Any) -> None:
    from config.scoring import ScoringError, load_scoring

    try:
        model = load_scoring()
    except ScoringError as exc:
        record(_("scoring"), "problem", _("{error}; fix: correct the file (DUBAN_SCORING_FILE)", error=exc))
        return
    record(_("scoring"), "ok", _("{source}: base {base}, {rules} rules", source=model.source, base=model.base,
                                 rules=len(model.rules)))


def _open_deadline_years() -> dict[int, int]:
    from sqlmodel import Session

    from cli.common import engine
    from models.sweep import open_deadline_years

    with Session(engine()) as session:
        return open_deadline_years(session)


def _check_calendar(year: int, record: Any, deadline_years: dict[int, int] | None = None) -> None:
    """This year and next, and every later year an open item falls due in: covered, or a problem naming it."""
    from config.calendar import CalendarError, coverage, load_calendar

    try:
        calendar = load_calendar()
    except CalendarError as exc:
        record(_("calendar"), "problem", _("{error}; fix: correct the file (DUBAN_CALENDAR_FILE)", error=exc))
        return
    for y in (year, year + 1):
        if coverage(calendar, y) == "fallback":
            record(_("calendar"), "problem", _(
                "{year} is not covered (Monday-Friday fallback); fix: add its holidays and make-up working days to "
                "{source} and list {year} under complete_years", year=y, source=calendar.source))
        else:
            how = _("by chinese-calendar") if coverage(calendar, y) == "package" else _("by the overrides file")
            record(_("calendar"), "ok", _("{year} covered ({how})", year=y, how=how))
    for y, due in sorted((deadline_years or {}).items()):
        if y > year + 1 and coverage(calendar, y) == "fallback":
            record(_("calendar"), "problem", n_(
                "{year}: {n} open item falls due in it, but the calendar does not cover it (Monday-Friday "
                "fallback); fix: add its holidays and make-up working days to {source} and list {year} under "
                "complete_years",
                "{year}: {n} open items fall due in it, but the calendar does not cover it (Monday-Friday "
                "fallback); fix: add its holidays and make-up working days to {source} and list {year} under "
                "complete_years", due, year=y, source=calendar.source))
