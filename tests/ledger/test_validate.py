"""Deciding what an import changes, against a hand-made snapshot of the database (pure, no database)."""

from __future__ import annotations

from datetime import date

import pytest

from models.ledger.parse import ParsedFiles, RawRow
from models.ledger.plan import ItemRecord, LedgerError, Snapshot, UnitRecord
from models.ledger.validate import build_plan
from models.tables import Role, Status

COLUMNS = {name: name for name in ("document", "number", "title", "lead_unit", "deadline")}


def ledger_row(row: int = 2, **values: object) -> RawRow:
    base = {"document": "新时代意见", "number": "1", "title": "支持建设示范区", "lead_unit": "市发改委", "deadline": "2024年6月底"}
    return RawRow("ledger.csv", None, row, {**base, **values}, dict(COLUMNS))


def snapshot(deadline: date = date(2024, 6, 30), imported: date | None = None) -> Snapshot:
    db = Snapshot()
    db.units[1] = UnitRecord(1, "市发改委", "FGW", None, ("fgw@example.gov.cn",), ())
    db.people["fgw@example.gov.cn"] = (1, Role.OFFICER, 1)
    db.documents["新时代意见"] = 1
    db.items[(1, "1")] = ItemRecord(7, 1, "1", "支持建设示范区", "", "", 1, None, deadline, Status.ASSIGNED)
    if imported:
        db.imported_deadlines[7] = imported
    return db


def test_rows_equal_to_the_database_are_unchanged():
    plan = build_plan(ParsedFiles(ledger=[ledger_row()], files=["ledger.csv"]), snapshot())
    assert (plan.unchanged, plan.new_items, plan.changed_items) == (1, [], [])


def test_unit_code_names_the_same_unit():
    plan = build_plan(ParsedFiles(ledger=[ledger_row(lead_unit="FGW")], files=["ledger.csv"]), snapshot())
    assert plan.unchanged == 1


def test_an_extended_deadline_is_compared_with_what_the_ledger_said_last():
    extended = snapshot(deadline=date(2024, 12, 31), imported=date(2024, 6, 30))
    assert build_plan(ParsedFiles(ledger=[ledger_row()], files=["ledger.csv"]), extended).unchanged == 1
    exported = ledger_row(deadline="2024-12-31")  # the current deadline, as the items export writes it
    assert build_plan(ParsedFiles(ledger=[exported], files=["ledger.csv"]), extended).unchanged == 1
    moved = build_plan(ParsedFiles(ledger=[ledger_row(deadline="2024-09-30")], files=["ledger.csv"]), extended)
    (update,) = moved.changed_items
    assert update.changes == {"deadline": (date(2024, 12, 31), date(2024, 9, 30))}


def test_new_number_in_a_known_document_is_created_and_the_others_are_missing():
    plan = build_plan(ParsedFiles(ledger=[ledger_row(number="2")], files=["ledger.csv"]), snapshot())
    assert [item.ref for item in plan.new_items] == ["新时代意见/2"]
    assert plan.missing == ["新时代意见/1"] and plan.new_documents == []


def test_unknown_unit_suggests_known_names_from_the_database():
    with pytest.raises(LedgerError, match="unknown unit '市发改'; closest known: 市发改委"):
        build_plan(ParsedFiles(ledger=[ledger_row(lead_unit="市发改")], files=["ledger.csv"]), snapshot())
