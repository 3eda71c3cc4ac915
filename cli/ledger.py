"""Ledger import and the demo (issue 2): `duban import`, `duban demo`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cli.common import console, err_console, open_session, print_json, resolve_now, settings
from cli.options import JsonOption, NowOption
from cli.words import _, counts, details, locale, n_, problem_text
from config.i18n import week_name

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_FILES = ("units.csv", "ledger.xlsx")
SHOWN_PROBLEMS = 200

IMPORT_HELP = """Import ledger files (台账): .xlsx (sheets 单位/units and 台账/ledger) and .csv (UTF-8 or GB18030).

All files are checked together and applied in one transaction: any bad row refuses the whole import and lists every problem (file, sheet, row, column, reason); nothing is written.

Importing the same files again changes nothing. A changed title, deadline, category, lead unit, co-units or supervisor is applied with an `updated` event on the item. The status column is used only when an item is created; after that the lifecycle (progress, submit, sign-off...) owns it. Items of the imported documents that are missing from the files are left alone and listed.
"""


class EngineChoice(StrEnum):
    AUTO = "auto"
    LOCAL = "local"
    PREFECT = "prefect"


def register(app: typer.Typer) -> None:
    app.command("import", help=IMPORT_HELP)(import_)
    app.command("demo")(demo)


@contextmanager
def _progress_bar() -> Iterator[Any]:
    stages = {"read": _("reading rows"), "apply": _("writing items")}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stages.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report


def import_(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Ledger files (.xlsx, .csv).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and show what would change; write nothing.")] = False,
    engine: Annotated[EngineChoice, typer.Option("--engine", help="auto: Prefect only if PREFECT_API_URL is set.")] = EngineChoice.AUTO,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    from flows.runtime import choose_engine, run_flow

    at = resolve_now(now)
    with open_session():  # refuses an uninitialised database before any work
        pass
    from flows.assign import assign
    from models.ledger.plan import LedgerError

    chosen = choose_engine(engine.value)  # type: ignore[arg-type]
    # No database URL among the parameters: Prefect stores them, and the URL may hold a password.
    params: dict[str, Any] = {"files": [str(f) for f in files], "now": at.isoformat(), "dry_run": dry_run}
    try:
        if chosen == "local":
            with _progress_bar() as progress:
                outcome = run_flow(assign, engine="local", progress=progress, **params)
        else:
            outcome = run_flow(assign, engine="prefect", **params)
    except LedgerError as exc:
        print_problems(exc)
        raise typer.Exit(1) from None
    if as_json:
        print_json({**outcome.result, "engine": outcome.engine})
    else:
        print_summary(outcome.result, outcome.engine)


def print_problems(exc: Any) -> None:
    table = Table(title=n_("The import was refused: {n} problem; nothing was written",
                          "The import was refused: {n} problems; nothing was written", len(exc.problems)),
                  title_justify="left", title_style="bold red")
    for column in (_("File"), _("Sheet"), _("Row"), _("Column"), _("Problem")):
        table.add_column(column, overflow="fold")
    for p in exc.problems[:SHOWN_PROBLEMS]:
        table.add_row(p.file, p.sheet or "", str(p.row or ""), p.column or "", problem_text(p))
    err_console.print(table)
    if len(exc.problems) > SHOWN_PROBLEMS:
        err_console.print(_("... and {count} more problems not shown", count=len(exc.problems) - SHOWN_PROBLEMS))


def print_summary(summary: dict[str, Any], engine: str) -> None:
    files = ", ".join(summary["files"])
    dry = summary["dry_run"]
    table = Table(title=(_("Import of {files} (dry run: nothing was written)", files=files) if dry
                         else _("Import of {files}", files=files)), title_justify="left")
    table.add_column(_("Kind"))
    for column in (_("Would be new"), _("Would be updated")) if dry else (_("New"), _("Updated")):
        table.add_column(column, justify="right")
    table.add_column(_("Unchanged"), justify="right")
    table.add_column(_("Missing from the files"), justify="right")
    table.add_row(_("Documents"), str(summary["documents_created"]), "", "", "")
    table.add_row(_("Units"), str(summary["units_created"]), str(summary["units_updated"]), "", "")
    table.add_row(_("People"), str(summary["people_created"]), "", "", "")
    table.add_row(_("Items"), str(summary["items_created"]), str(summary["items_updated"]),
                  str(summary["items_unchanged"]), str(len(summary["missing"])))
    console.print(table)
    for change in summary["changes"][:20]:
        fields = details({k: f"{v[0]} -> {v[1]}" for k, v in change.items() if k != "item"})
        console.print("  " + _("updated {item}: {fields}", item=change["item"], fields=fields), highlight=False)
    if summary["missing"]:
        shown = "、".join(summary["missing"][:20]) + (" ..." if len(summary["missing"]) > 20 else "")
        console.print("  " + _("missing from the files (left alone): {items}", items=shown), highlight=False)
    if summary["notifications_queued"]:
        console.print("  " + _("assignment notices queued: {count}", count=summary["notifications_queued"]))
    console.print(_("engine: {engine}", engine=engine))


DEMO_NOW = "2023-06-26T09:00+08:00"  # a Monday: the digest is due and the half-year items fall due
DEMO_LEADERSHIP = "zhuren@example.gov.cn"  # the office leadership in the demo's policy
DEMO_DEFAULT_SUPERVISOR = "duban-sup1@example.gov.cn"  # told when an item has no supervisor (models/notices.py)
# The ledger names people by email only: the import calls a 督办人 by the part before the @ and a unit
# leader by the first unit listing them. The demo's office people get names, as an admin would give them.
DEMO_NAMES = {
    "duban-sup1@example.gov.cn": "李督查", "duban-sup2@example.gov.cn": "张督查", "duban-sup3@example.gov.cn": "孙督查",
    "fsz-wang@example.gov.cn": "王副市长", "fsz-liu@example.gov.cn": "刘副市长", "fsz-chen@example.gov.cn": "陈副市长",
    "fsz-zhao@example.gov.cn": "赵副市长", "fsz-zhou@example.gov.cn": "周副市长", "swcw-xu@example.gov.cn": "徐常委",
}


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build the demo (rebuilt from scratch).")] = Path("duban-demo"),
    now: NowOption = None,
) -> None:
    """Build a self-contained demo: its own database, the sample ledger, some history, a sweep, mail, the report.

    The demo plays at Monday 26 June 2023, 09:00 (Asia/Shanghai) unless --now says otherwise: a week
    in which the 2023 plan's half-year items fall due, so reminders, overdue notices and escalations
    all happen.
    """
    from models.db import make_engine

    at = resolve_now(now or DEMO_NOW)
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("duban.db*"):
        leftover.unlink()
    shutil.rmtree(directory / "mail", ignore_errors=True)
    policy_file = directory / "policy.yaml"
    policy_file.write_text(
        (Path(__file__).resolve().parent.parent / "config" / "policy.yaml").read_text(encoding="utf-8")
        .replace("leadership_emails: []", f"leadership_emails: [{DEMO_LEADERSHIP}]")
        .replace("default_supervisors: []", f"default_supervisors: [{DEMO_DEFAULT_SUPERVISOR}]"), encoding="utf-8")
    for name in SAMPLE_FILES:
        shutil.copyfile(SAMPLES / name, directory / name)
    (directory / "duban.toml").write_text(
        'database_url = "sqlite:///duban.db"\ndata_dir = ".duban"\npolicy_file = "policy.yaml"\n', encoding="utf-8")
    engine = make_engine(f"sqlite:///{(directory / 'duban.db').resolve()}")
    # Every job below (import, lifecycle, sweep, digest, delivery) reads the demo's own policy.
    with configured_policy(policy_file):
        _play(engine, directory, at)
    console.print("\n" + _("The demo lives in {directory}/ (its own duban.toml and database). Try:",
                           directory=directory)
                  + f"\n  cd {directory}\n  duban items --overdue\n  duban show 2023年工作计划/1\n  duban report",
                  highlight=False)


@contextmanager
def configured_policy(policy_file: Path) -> Iterator[None]:
    """Make `policy_file` the configured policy file (DUBAN_POLICY_FILE) for the duration."""
    import os

    from config.settings import get_settings

    saved = os.environ.get("DUBAN_POLICY_FILE")
    os.environ["DUBAN_POLICY_FILE"] = str(policy_file.resolve())
    get_settings.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("DUBAN_POLICY_FILE", None)
        else:
            os.environ["DUBAN_POLICY_FILE"] = saved
        get_settings.cache_clear()


def _play(engine: Any, directory: Path, at: datetime) -> None:
    """Import the samples, play the history, sweep, queue the digest, deliver, print the report."""
    from sqlmodel import Session

    from cli.views import render_report
    from migrations.runner import upgrade
    from models.ledger.apply import import_ledger
    from models.read.figures import build_report

    try:
        upgrade(engine)
        with Session(engine) as session:
            summary = import_ledger(session, [directory / name for name in SAMPLE_FILES], now=at - timedelta(days=30))
            session.commit()
            print_summary(summary.as_dict(), "local")
            name_people(session)
            play_history(session, at)
            session.commit()
            sweep_and_digest(session, at)
            render_report(build_report(session, at, settings().tz))
        from notifications.mailcatcher import deliver_to_maildir

        mail, stored = deliver_to_maildir(engine, at, settings(), directory / "mail")
        console.print("\n" + _("mail: {grouped} message(s) grouped from the notifications and delivered to a mail "
                               "catcher: {stored} in {directory}/mail/ (a Maildir)",
                               grouped=mail.grouped, stored=stored, directory=directory), highlight=False)
    finally:
        engine.dispose()


def name_people(session: Any) -> None:
    """Give the demo's supervisors and unit leaders their names (DEMO_NAMES) before any history names them."""
    from sqlmodel import col, select

    from models.tables import Person

    for person in session.exec(select(Person).where(col(Person.email).in_(list(DEMO_NAMES)))).all():
        person.name = DEMO_NAMES[person.email]
        session.add(person)


def sweep_and_digest(session: Any, now: datetime) -> None:
    """The main jobs at the demo's time: the sweep (reminders, overdue, escalation), then the weekly digest."""
    from config.calendar import load_calendar
    from config.policy import load_policy
    from models.sweep import sweep
    from notifications.digest import queue_digests

    result = sweep(session, now=now, policy=load_policy(), calendar=load_calendar(), tz=settings().tz)
    session.commit()
    console.print(_("sweep: {examined} items examined; events: {events}; {notifications} notifications queued",
                    examined=result.examined, events=counts(sorted(result.events.items())),
                    notifications=result.notifications), highlight=False)
    digests = queue_digests(session, now, settings())
    session.commit()
    console.print(_("weekly digest {week}: {queued} queued ({audiences})", week=week_name(digests.week, locale()),
                    queued=digests.queued, audiences=counts(digests.by_audience.items())), highlight=False)


def play_history(session: Any, now: datetime) -> None:
    """A few weeks of work on the 2023 plan, through the lifecycle, so timelines have something to show."""
    from models.lifecycle import Action, apply
    from models.queries import find_item, find_person
    from models.tables import Person, Status, Unit

    def officer(unit_id: int) -> Person:
        unit = session.get(Unit, unit_id)
        return find_person(session, unit.contact_emails[0])

    def supervisor(item: Any) -> Person:
        return session.get(Person, item.supervisor_id) if item.supervisor_id else find_person(session, "duban-sup1@example.gov.cn")

    day = timedelta(days=1)
    plan = "2023年工作计划"
    first, second, third, fourth = (find_item(session, f"{plan}/{n}") for n in (1, 2, 3, 4))
    apply(session, first, Action.REPORT_PROGRESS, officer(first.lead_unit_id), now - 25 * day,
          text="已召开专题会议，明确责任分工", percent=30)
    apply(session, first, Action.REPORT_PROGRESS, officer(first.lead_unit_id), now - 18 * day,
          text="规划文本已报省政府审议", percent=70)
    apply(session, first, Action.SUBMIT, officer(first.lead_unit_id), now - 12 * day, evidence="省政府已印发实施")
    apply(session, first, Action.RETURN, supervisor(first), now - 10 * day, reason="请补充印发文件文号及分工方案")
    apply(session, first, Action.SUBMIT, officer(first.lead_unit_id), now - 6 * day,
          evidence="赣府发〔2023〕12号已印发，分工方案见附件")
    apply(session, first, Action.SIGN_OFF, supervisor(first), now - 4 * day, comment="材料齐全，同意销号")
    apply(session, second, Action.REPORT_PROGRESS, officer(second.lead_unit_id), now - 20 * day,
          text="已梳理政策文件落实台账", percent=40)
    apply(session, third, Action.REQUEST_EXTENSION, officer(third.lead_unit_id), now - 16 * day,
          deadline=third.deadline + timedelta(days=91), reason="需待国家部委年度计划下达后推进")
    apply(session, third, Action.APPROVE_EXTENSION, supervisor(third), now - 14 * day, reason="同意延期一个季度")
    apply(session, fourth, Action.SUBMIT, officer(fourth.lead_unit_id), now - 2 * day, evidence="蓝皮书已完成编撰")
    # 签收: the lead units acknowledge their new items within a day or two of the import, one of them
    # late (7); three have not yet (9, 15, 20), so 未签收 and its reminder have something to show.
    for n in range(5, 22):
        item = find_item(session, f"{plan}/{n}")
        if n not in (9, 15, 20) and item.status == Status.ASSIGNED:
            apply(session, item, Action.ACKNOWLEDGE, officer(item.lead_unit_id),
                  now - (22 if n == 7 else 29 - n % 2) * day)
    # 催办 by a supervisor and by a unit's leader (分管领导), and the leader's 批示.
    leader = find_person(session, "fsz-wang@example.gov.cn")  # 分管 市发改委 and 市苏区办
    waiting, late = find_item(session, f"{plan}/9"), find_item(session, f"{plan}/5")
    apply(session, waiting, Action.URGE, supervisor(waiting), now - 3 * day, text="请于本周内签收，并报送工作进展")
    apply(session, late, Action.URGE, leader, now - 5 * day, text="该事项已逾期，请抓紧推进并书面说明原因")
    apply(session, second, Action.INSTRUCT, leader, now - 8 * day,
          text="请加强与省发改委对接，力争6月底前出台，并做好政策宣传解读")
    # 频次: 按季调度 (12) is reported on within its quarter; 走访座谈 (13) is not (docs/periods.md).
    quarterly = find_item(session, f"{plan}/12")
    apply(session, quarterly, Action.REPORT_PROGRESS, officer(quarterly.lead_unit_id), now - 7 * day,
          text="已调度二季度税收、财政、投资政策执行情况")
