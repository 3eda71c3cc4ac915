"""Importing ledgers into the database (SQLite and PostgreSQL): create, re-import, update, refuse."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from models.ledger.apply import import_ledger
from models.ledger.plan import LedgerError
from models.lifecycle import Action, apply
from models.queries import find_item, find_person
from models.tables import (
    Document,
    Item,
    ItemCoUnit,
    ItemEvent,
    Notification,
    Person,
    Role,
    Status,
    Unit,
)
from tests.ledger.conftest import LEDGER, LEDGER_HEADER, UNITS, UNITS_HEADER, write_csv, write_xlsx


def run(session: Session, paths: list[Path], now, dry_run: bool = False):
    summary = import_ledger(session, paths, now=now, dry_run=dry_run)
    session.commit()
    return summary


def write(tmp_path: Path, ledger=LEDGER, units=UNITS, header=LEDGER_HEADER, name="ledger.xlsx") -> list[Path]:
    tmp_path.mkdir(exist_ok=True)
    return [write_csv(tmp_path / "units.csv", [UNITS_HEADER, *units]),
            write_xlsx(tmp_path / name, {"台账": [header, *ledger]})]


def counts(session: Session) -> dict[str, int]:
    tables = (Unit, Person, Document, Item, ItemCoUnit, ItemEvent, Notification)
    return {t.__name__: session.exec(select(func.count()).select_from(t)).one() for t in tables}


def events(session: Session, ref: str) -> list[ItemEvent]:
    item = find_item(session, ref)
    return list(session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id)).all())


def test_import_creates_units_people_documents_and_items(session, ledger_files, now):
    summary = run(session, ledger_files, now)
    assert (summary.units_created, summary.people_created, summary.documents_created, summary.items_created) == (3, 6, 1, 3)
    first = find_item(session, "新时代意见/1")
    assert (first.title, first.category, first.deadline, first.original_deadline) == ("支持建设示范区", "规划", date(2024, 6, 30), date(2024, 6, 30))
    # The schedule starts at the first threshold: 7 working days before Sunday 30 June is Thursday 20 June.
    assert first.status == Status.ASSIGNED
    assert first.next_action_at == datetime(2024, 6, 20, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert session.get(Unit, first.lead_unit_id).name == "市发改委"
    assert session.get(Person, first.supervisor_id).role == Role.SUPERVISOR
    third = find_item(session, "新时代意见/3")
    co_units = session.exec(select(Unit.name).join(ItemCoUnit, ItemCoUnit.unit_id == Unit.id).where(ItemCoUnit.item_id == third.id)).all()
    assert sorted(co_units) == ["市发改委", "市财政局"]
    assert find_item(session, "新时代意见/2").lead_unit_id == find_item(session, "新时代意见/1").lead_unit_id + 1  # CZJ by code


def test_unit_emails_become_officers_and_leaders_of_that_unit(session, tmp_path, now):
    units = [["FGW", "市发改委", "", "FGW@Example.gov.cn", "Leader@example.gov.cn"], *UNITS[1:]]
    run(session, write(tmp_path, units=units), now)
    officer, leader = find_person(session, "fgw@example.gov.cn"), find_person(session, "leader@example.gov.cn")
    fgw = session.exec(select(Unit).where(Unit.name == "市发改委")).one()
    assert (officer.email, officer.role, officer.unit_id) == ("fgw@example.gov.cn", Role.OFFICER, fgw.id)
    assert (leader.role, leader.unit_id) == (Role.LEADER, fgw.id)
    assert fgw.contact_emails == ["fgw@example.gov.cn"]


def test_existing_person_is_not_duplicated_or_changed(session, ledger_files, now):
    session.add(Person(name="老张", email="sup1@example.gov.cn", role=Role.ADMIN))
    session.commit()
    summary = run(session, ledger_files, now)
    assert summary.people_created == 5
    assert find_person(session, "sup1@example.gov.cn").name == "老张"


def test_each_created_item_has_one_imported_event_with_its_status(session, ledger_files, now):
    run(session, ledger_files, now)
    (created,) = events(session, "新时代意见/1")
    assert (created.kind, created.actor_id, created.actor_label, created.at) == ("imported", None, "import:ledger.xlsx", now)
    assert created.payload["imported_as"] == "assigned" and created.payload["row"] == 2
    (done,) = events(session, "新时代意见/3")
    assert (done.to_status, done.payload["imported_as"]) == ("signed_off", "signed_off")
    assert find_item(session, "新时代意见/3").next_action_at is None


def test_new_open_items_queue_one_assignment_notice_each(session, ledger_files, now):
    run(session, ledger_files, now)
    notices = session.exec(select(Notification).order_by(Notification.id)).all()
    first = find_item(session, "新时代意见/1")
    assert [n.kind for n in notices] == ["assigned", "assigned"]  # item 3 was imported as done
    notice = notices[0]
    assert (notice.key, notice.item_id) == (f"assigned:{first.id}", first.id)
    assert notice.to_addrs == ["fgw@example.gov.cn"]
    assert notice.cc_addrs == ["czj@example.gov.cn", "czj2@example.gov.cn"]
    assert notice.payload == {"document": "新时代意见", "number": "1", "title": "支持建设示范区", "deadline": "2024-06-30"}


def test_a_new_lead_unit_gets_an_assignment_notice_on_reimport(session, tmp_path, now):
    run(session, write(tmp_path / "a"), now)
    changed = [list(row) for row in LEDGER]
    changed[0][4] = "市商务局"
    later = now + timedelta(days=3)
    summary = run(session, write(tmp_path / "b", ledger=changed), later)
    assert summary.notifications_queued == 1
    first = find_item(session, "新时代意见/1")
    [notice] = session.exec(select(Notification).where(Notification.created_at == later)).all()
    assert (notice.kind, notice.item_id, notice.to_addrs) == ("assigned", first.id, ["swj@example.gov.cn"])
    assert notice.cc_addrs == ["czj@example.gov.cn", "czj2@example.gov.cn"]
    assert notice.payload["reassigned_from"] == "市发改委" and notice.payload["deadline"] == "2024-06-30"
    assert run(session, write(tmp_path / "c", ledger=changed), later + timedelta(days=1)).notifications_queued == 0


def test_same_files_again_change_nothing_and_write_no_events(session, ledger_files, now):
    run(session, ledger_files, now)
    before = counts(session)
    versions = session.exec(select(Item.id, Item.version)).all()
    summary = run(session, ledger_files, now + timedelta(days=1))
    assert (summary.items_created, summary.items_updated, summary.items_unchanged) == (0, 0, 3)
    assert (summary.units_created, summary.units_updated, summary.people_created) == (0, 0, 0)
    assert counts(session) == before
    assert session.exec(select(Item.id, Item.version)).all() == versions


@pytest.mark.parametrize(
    ("column", "value", "field", "old", "new"),
    [
        (2, "支持建设高质量发展示范区", "title", "支持建设示范区", "支持建设高质量发展示范区"),
        (6, "2024年9月底", "deadline", "2024-06-30", "2024-09-30"),
        (4, "市商务局", "lead_unit", "市发改委", "市商务局"),
        (5, "", "co_units", ["市财政局"], []),
        (3, "产业", "category", "规划", "产业"),
        (7, "", "supervisor", "sup1@example.gov.cn", None),
    ],
)
def test_a_changed_field_is_applied_with_one_updated_event(session, tmp_path, now, column, value, field, old, new):
    run(session, write(tmp_path / "a"), now)
    changed = [list(row) for row in LEDGER]
    changed[0][column] = value
    later = now + timedelta(days=3)
    summary = run(session, write(tmp_path / "b", ledger=changed), later)
    assert (summary.items_updated, summary.items_unchanged) == (1, 2)
    imported, updated = events(session, "新时代意见/1")
    assert (updated.kind, updated.at, updated.actor_id, updated.actor_label) == ("updated", later, None, "import:ledger.xlsx")
    assert updated.payload[field] == {"old": old, "new": new}
    assert set(updated.payload) == {field, "file", "sheet", "row"}


def test_deadline_change_starts_a_new_deadline_version_and_keeps_the_original(session, tmp_path, now):
    run(session, write(tmp_path / "a"), now)
    item = find_item(session, "新时代意见/1")
    item.escalation_level = 2
    session.add(item)
    session.commit()
    changed = [list(row) for row in LEDGER]
    changed[0][6] = "2024年第三季度"
    run(session, write(tmp_path / "b", ledger=changed), now)
    session.refresh(item)
    assert (item.deadline, item.original_deadline) == (date(2024, 9, 30), date(2024, 6, 30))
    assert (item.deadline_version, item.escalation_level, item.next_action_at) == (2, 0, now)


def test_several_changes_to_one_item_make_one_event(session, tmp_path, now):
    run(session, write(tmp_path / "a"), now)
    changed = [list(row) for row in LEDGER]
    changed[1][2], changed[1][6], changed[1][4] = "新标题", "2024年底", "市发改委"
    run(session, write(tmp_path / "b", ledger=changed), now)
    imported, updated = events(session, "新时代意见/2")
    assert {"title", "deadline", "lead_unit"} <= set(updated.payload)


def test_status_in_the_file_is_used_only_on_creation(session, tmp_path, now):
    run(session, write(tmp_path / "a"), now)
    changed = [list(row) for row in LEDGER]
    changed[0][8] = "已落实"
    summary = run(session, write(tmp_path / "b", ledger=changed), now)
    assert summary.items_unchanged == 3
    assert find_item(session, "新时代意见/1").status == Status.ASSIGNED


def test_reimport_keeps_an_approved_extension(session, ledger_files, tmp_path, now):
    run(session, ledger_files, now)
    item = find_item(session, "新时代意见/1")
    apply(session, item, Action.REQUEST_EXTENSION, find_person(session, "fgw@example.gov.cn"), now,
          deadline=date(2024, 12, 31), reason="等待批复")
    apply(session, item, Action.APPROVE_EXTENSION, find_person(session, "sup1@example.gov.cn"), now)
    session.commit()
    assert run(session, ledger_files, now).items_unchanged == 3
    assert find_item(session, "新时代意见/1").deadline == date(2024, 12, 31)
    changed = [list(row) for row in LEDGER]
    changed[0][6] = "2024-07-31"  # the office really moved it in the ledger: the ledger wins
    assert run(session, write(tmp_path / "b", ledger=changed), now).items_updated == 1
    assert find_item(session, "新时代意见/1").deadline == date(2024, 7, 31)


def test_items_missing_from_a_later_import_are_left_alone_and_listed(session, tmp_path, now):
    run(session, write(tmp_path / "a"), now)
    summary = run(session, write(tmp_path / "b", ledger=LEDGER[:1]), now)
    assert summary.missing == ["新时代意见/2", "新时代意见/3"]
    assert find_item(session, "新时代意见/2").status == Status.IN_PROGRESS


def test_dry_run_reports_what_would_change_and_writes_nothing(session, ledger_files, now):
    summary = import_ledger(session, ledger_files, now=now, dry_run=True)
    session.commit()
    assert (summary.dry_run, summary.items_created, summary.units_created) == (True, 3, 3)
    assert set(counts(session).values()) == {0}


def test_unit_changes_are_applied_without_creating_a_second_unit(session, tmp_path, now):
    run(session, write(tmp_path / "a"), now)
    units = [list(row) for row in UNITS]
    units[2] = ["SWJ", "市商务局", "市发改委", "swj@example.gov.cn、swj-new@example.gov.cn", ""]
    summary = run(session, write(tmp_path / "b", units=units), now)
    assert (summary.units_created, summary.units_updated, summary.people_created) == (0, 1, 1)
    swj = session.exec(select(Unit).where(Unit.code == "SWJ")).one()
    assert swj.contact_emails == ["swj@example.gov.cn", "swj-new@example.gov.cn"]
    assert session.get(Unit, swj.parent_id).name == "市发改委"


# -- refusals: every problem listed with file, sheet, row and column; nothing written ------------

def _ledger_with(row: int, column: int, value: str) -> list[list[str]]:
    rows = [list(r) for r in LEDGER]
    rows[row][column] = value
    return rows


REFUSALS = {
    "unknown lead unit": (dict(ledger=_ledger_with(0, 4, "市发改")),
                          ("ledger.xlsx", "台账", 2, "牵头单位"), "unknown unit '市发改'; closest known: 市发改委"),
    "unknown co-unit": (dict(ledger=_ledger_with(2, 5, "市发改委、市财务局")),
                        ("ledger.xlsx", "台账", 4, "配合单位"), "closest known: 市财政局"),
    "bad deadline": (dict(ledger=_ledger_with(1, 6, "尽快")), ("ledger.xlsx", "台账", 3, "完成时限"), "'尽快': not a date"),
    "impossible date": (dict(ledger=_ledger_with(1, 6, "2024-02-30")), ("ledger.xlsx", "台账", 3, "完成时限"), "day 30 does not exist"),
    "duplicate number": (dict(ledger=_ledger_with(2, 1, "1")), ("ledger.xlsx", "台账", 4, "编号"), "新时代意见/1 is also on row 2"),
    "unknown status": (dict(ledger=_ledger_with(0, 8, "搞定了")), ("ledger.xlsx", "台账", 2, "状态"), "unknown status '搞定了'"),
    "unknown frequency": (dict(header=[*LEDGER_HEADER, "频次"], ledger=[[*r, "每周" if r is LEDGER[0] else ""] for r in LEDGER]),
                          ("ledger.xlsx", "台账", 2, "频次"), "unknown frequency '每周'"),
    "empty title": (dict(ledger=_ledger_with(0, 2, "")), ("ledger.xlsx", "台账", 2, "事项"), "is empty"),
    "bad supervisor email": (dict(ledger=_ledger_with(0, 7, "张三")), ("ledger.xlsx", "台账", 2, "督办人"), "'张三' is not an email address"),
    "bad unit email": (dict(units=[UNITS[0], ["CZJ", "市财政局", "", "czj#example.gov.cn", ""], UNITS[2]]),
                       ("units.csv", None, 3, "联系邮箱"), "'czj#example.gov.cn' is not an email address"),
    "unit without email": (dict(units=[UNITS[0], ["CZJ", "市财政局", "", "", ""], UNITS[2]]),
                           ("units.csv", None, 3, "联系邮箱"), "needs at least one email address"),
    "duplicate unit": (dict(units=[*UNITS, ["FGW2", "市发改委", "", "x@example.gov.cn", ""]]),
                       ("units.csv", None, 5, "单位名称"), "unit '市发改委' is also on row 2"),
    "unknown parent": (dict(units=[UNITS[0], ["CZJ", "市财政局", "市政府", "czj@example.gov.cn", ""], UNITS[2]]),
                       ("units.csv", None, 3, "上级单位"), "unknown unit '市政府'"),
    "parent units in a circle": (dict(units=[["FGW", "市发改委", "市财政局", "fgw@example.gov.cn", ""],
                                             ["CZJ", "市财政局", "FGW", "czj@example.gov.cn", ""], UNITS[2]]),
                                 ("units.csv", None, 2, "上级单位"), "in a circle (市发改委 → 市财政局 → 市发改委)"),
    "missing column": (dict(header=[h for h in LEDGER_HEADER if h != "事项"], ledger=[r[:2] + r[3:] for r in LEDGER]),
                       ("ledger.xlsx", "台账", 1, "事项|title"), "required column is missing"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_file_is_refused_naming_where_and_nothing_is_written(session, tmp_path, now, case):
    files, (file, sheet, row, column), reason = REFUSALS[case]
    with pytest.raises(LedgerError) as raised:
        import_ledger(session, write(tmp_path, **files), now=now)
    session.rollback()
    matching = [p for p in raised.value.problems if reason in p.reason]
    assert [(p.file, p.sheet, p.row, p.column) for p in matching] == [(file, sheet, row, column)], raised.value.problems
    assert f"row {row}, column {column}: " in str(raised.value) and reason in str(raised.value)
    assert set(counts(session).values()) == {0}


def test_unknown_sheet_is_refused(session, tmp_path, now):
    book = write_xlsx(tmp_path / "book.xlsx", {"Sheet1": [["姓名"], ["张三"]]})
    with pytest.raises(LedgerError, match=r"book.xlsx: no sheet named 单位/units or 台账/ledger .*sheets: Sheet1"):
        import_ledger(session, [book], now=now)


def test_supervisor_email_of_an_officer_is_refused(session, tmp_path, now):
    rows = _ledger_with(0, 7, "czj@example.gov.cn")
    with pytest.raises(LedgerError, match=r"row 2, column 督办人: czj@example.gov.cn is already the officer of 市财政局 on units.csv row 3"):
        import_ledger(session, write(tmp_path / "a", ledger=rows), now=now)
    session.rollback()
    run(session, write(tmp_path / "b"), now)
    with pytest.raises(LedgerError, match=r"row 2, column 督办人: czj@example.gov.cn has the role officer, not supervisor"):
        import_ledger(session, write(tmp_path / "c", ledger=rows), now=now)


def test_every_problem_in_every_file_is_listed_at_once(session, tmp_path, now):
    units = [UNITS[0], ["CZJ", "市财政局", "", "bad-email", ""], UNITS[2]]
    rows = _ledger_with(0, 6, "尽快")
    rows[1][4] = "市财政"
    rows[2][8] = "完成"
    with pytest.raises(LedgerError) as raised:
        import_ledger(session, write(tmp_path, units=units, ledger=rows), now=now)
    located = [(p.file, p.row, p.column) for p in raised.value.problems]
    assert located == [("units.csv", 3, "联系邮箱"), ("ledger.xlsx", 2, "完成时限"),
                       ("ledger.xlsx", 3, "牵头单位"), ("ledger.xlsx", 4, "状态")]
    assert str(raised.value).startswith("the import was refused (4 problems); nothing was written")


def test_a_refused_reimport_leaves_the_database_as_it_was(session, tmp_path, now):
    run(session, write(tmp_path / "a"), now)
    before = counts(session)
    rows = _ledger_with(0, 2, "新标题")
    rows.append(["新时代意见", "4", "新事项", "", "市不存在局", "", "2024年底", "", ""])
    with pytest.raises(LedgerError):
        import_ledger(session, write(tmp_path / "b", ledger=rows), now=now)
    session.rollback()
    assert counts(session) == before
    assert find_item(session, "新时代意见/1").title == "支持建设示范区"


def test_a_parallel_import_that_got_there_first_is_a_conflict_not_a_crash(session, ledger_files, now, monkeypatch):
    from models.errors import ConflictError
    from models.ledger import apply as ledger_apply

    stale = ledger_apply.load_snapshot(session)  # what this import saw before the other one committed
    run(session, ledger_files, now)
    before = counts(session)
    monkeypatch.setattr(ledger_apply, "load_snapshot", lambda _session: stale)
    with pytest.raises(ConflictError, match="another import wrote"):
        import_ledger(session, ledger_files, now=now)
    session.rollback()
    assert counts(session) == before


def test_a_leader_named_as_supervisor_is_refused(session, tmp_path, now):
    rows = _ledger_with(0, 7, "fsz-wang@example.gov.cn")
    with pytest.raises(LedgerError, match=r"column 督办人: fsz-wang@example.gov.cn is already the leader of 市发改委 on units.csv row 2"):
        import_ledger(session, write(tmp_path, ledger=rows), now=now)


def test_a_contact_listed_for_two_units_is_refused(session, tmp_path, now):
    units = [UNITS[0], ["CZJ", "市财政局", "", "fgw@example.gov.cn", ""], UNITS[2]]
    with pytest.raises(LedgerError, match=r"row 3, column 联系邮箱: fgw@example.gov.cn is already the officer of 市发改委 on row 2"):
        import_ledger(session, write(tmp_path, units=units), now=now)


def test_new_items_and_a_new_lead_unit_wait_for_acknowledgement(session, tmp_path, now):
    from models.lifecycle import acknowledgements
    from models.tables import ItemAcknowledgement

    run(session, write(tmp_path / "a"), now)  # Monday 3 June 2024, 09:00
    first = find_item(session, "新时代意见/1")
    assert first.acknowledge_due_at == datetime(2024, 6, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert find_item(session, "新时代意见/3").acknowledge_due_at is None  # imported as done
    from tests.factories import make_person

    officer = make_person(session, Role.OFFICER)
    session.add(ItemAcknowledgement(item_id=first.id, unit_id=first.lead_unit_id, person_id=officer.id, at=now))
    first.acknowledge_due_at = None
    session.commit()
    changed = [list(row) for row in LEDGER]
    changed[0][4] = "市商务局"
    run(session, write(tmp_path / "b", ledger=changed), now + timedelta(days=3))  # Thursday
    first = find_item(session, "新时代意见/1")
    assert first.lead_unit_id not in acknowledgements(session, first)
    assert first.acknowledge_due_at == datetime(2024, 6, 11, tzinfo=ZoneInfo("Asia/Shanghai"))  # Fri 7, (Mon 10 端午) Tue 11


def test_the_frequency_column_in_zh_and_en_is_stored_on_the_item(session, tmp_path, now):
    ledger = [[*LEDGER[0], "每季度"], [*LEDGER[1], "monthly by day 25"], [*LEDGER[2], ""]]
    run(session, write(tmp_path, ledger=ledger, header=[*LEDGER_HEADER, "频次"]), now)
    assert [find_item(session, f"新时代意见/{n}").frequency for n in "123"] == ["quarterly", "monthly by day 25", None]
    ledger[0][-1] = "每季度首月10日前"
    run(session, write(tmp_path / "again", ledger=ledger, header=[*LEDGER_HEADER, "frequency"]), now)
    assert find_item(session, "新时代意见/1").frequency == "quarterly by month 1 day 10"
    assert events(session, "新时代意见/1")[-1].payload["frequency"] == {
        "old": "quarterly", "new": "quarterly by month 1 day 10"}


def test_an_item_imported_as_under_way_is_acknowledged_by_the_import_and_not_unacknowledged(session, tmp_path, now):
    """进行中 in the ledger: the unit works on it already, so no 签收 reminder (no acknowledge_due_at) and,
    the same rule on the read side, not 未签收; its 签收 names no person. A fresh assignment is 未签收."""
    from models.lifecycle import acknowledgements
    from models.read.views import ItemQuery, list_rows

    run(session, write(tmp_path), now)
    under_way, fresh = find_item(session, "新时代意见/2"), find_item(session, "新时代意见/1")
    assert under_way.acknowledge_due_at is None
    row = acknowledgements(session, under_way)[under_way.lead_unit_id]
    assert row.person_id is None and row.at == now
    assert acknowledgements(session, fresh) == {}
    waiting = list_rows(session, None, ItemQuery(unacknowledged=True), now, ZoneInfo("Asia/Shanghai"), everything=True)
    assert [r.as_dict()["ref"] for r in waiting] == ["新时代意见/1"]


def test_people_an_import_adds_are_in_the_people_pages_log_as_imported_from_their_file(session, ledger_files, now):
    from models.admin import AdminChange

    run(session, ledger_files, now, dry_run=True)
    assert session.exec(select(AdminChange)).all() == []  # a dry run logs nothing
    import_ledger(session, ledger_files, now=now)
    session.rollback()  # the log rows belong to the import's transaction: gone with it
    assert session.exec(select(AdminChange)).all() == []
    run(session, ledger_files, now)
    changes = session.exec(select(AdminChange).order_by(AdminChange.id)).all()
    people = session.exec(select(Person).order_by(Person.id)).all()
    assert [c.target for c in changes] == [p.email for p in people] and len(changes) == 6
    sup = next(c for c in changes if c.target == "sup1@example.gov.cn")
    assert (sup.kind, sup.by, sup.at) == ("person", "import:ledger.xlsx", now)
    assert sup.changes == {"added": [None, {"role": "supervisor", "unit": None}]}
    officer = next(c for c in changes if c.target == "fgw@example.gov.cn")
    assert officer.by == "import:units.csv" and officer.changes["added"][1] == {"role": "officer", "unit": "市发改委"}
    run(session, ledger_files, now + timedelta(days=1))  # nobody new: nothing more logged
    assert len(session.exec(select(AdminChange)).all()) == 6
