"""The desk's spreadsheets: text typed by people never becomes a formula; the items export imports again."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from models.ledger.apply import import_ledger
from models.lifecycle import Action, apply
from models.sheets import XLSX
from models.tables import Item
from tests.factories import make_document, make_item, make_unit
from tests.models.test_sheets import RISKY, assert_no_formulas
from tests.web.conftest import CSRF


def _risky_world(world, session, now):  # type: ignore[no-untyped-def]
    """Titles, progress, a document and a unit named like formulas, all visible to the supervisor."""
    document, unit = make_document(session, "@SUM(A1)"), make_unit(session, "-2+3")
    for n, text in enumerate(RISKY, start=1):
        item = make_item(session, document=document, lead_unit=unit, supervisor=world.people["sup"],
                         number=str(n), title=text, deadline=date(2024, 5, 1))
        item.notes = text
    ours = world.items["ours"]
    apply(session, ours, Action.REPORT_PROGRESS, world.people["lead"], now, text=RISKY[0])
    session.commit()


def test_items_export_keeps_formula_like_text_as_text(world, client_for, session, now):
    _risky_world(world, session, now)
    response = client_for(world.people["sup"]).get("/items.xlsx", params={"sort": "ref"})
    assert_no_formulas(response.content)
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    titles = {row[2] for row in rows[1:]}
    assert set(RISKY) <= titles  # as typed, a CR too (openpyxl writes through lxml, which escapes it)
    assert {row[0] for row in rows[1:]} >= {"@SUM(A1)"} and {row[4] for row in rows[1:]} >= {"-2+3"}
    assert RISKY[0] in {row[13] for row in rows[1:]}  # the latest progress


def test_figures_export_keeps_formula_like_names_as_text(world, client_for, session, now):
    _risky_world(world, session, now)
    response = client_for(world.people["sup"]).get("/report.xlsx")
    assert response.status_code == 200
    assert_no_formulas(response.content)
    values = {value for sheet in load_workbook(BytesIO(response.content)).worksheets
              for row in sheet.iter_rows(values_only=True) for value in row}
    assert {"@SUM(A1)", "-2+3"} <= values  # a document name, a unit name


def test_score_export_keeps_formula_like_names_as_text(world, client_for, session, now):
    _risky_world(world, session, now)
    response = client_for(world.people["sup"]).get("/score.xlsx", params={"period": "quarter", "on": "2024-05-10"})
    assert response.status_code == 200
    assert_no_formulas(response.content)
    values = {value for sheet in load_workbook(BytesIO(response.content)).worksheets
              for row in sheet.iter_rows(values_only=True) for value in row}
    assert "-2+3" in values and any(str(v).startswith("@SUM(A1)/") for v in values)  # a unit, an item's ref


def test_an_exported_list_edited_imports_the_edits(world, client_for, session, now, tmp_path: Path):
    client = client_for(world.people["sup"])
    path = tmp_path / "items.xlsx"
    path.write_bytes(client.get("/items.xlsx", params={"sort": "ref"}).content)
    workbook = load_workbook(path)
    sheet = workbook["台账"]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("事项")].value == "推进营商环境改革")
    row[header.index("事项")].value = "深化营商环境改革"
    row[header.index("完成时限")].value = date(2024, 7, 31)
    workbook.save(path)

    upload = [("files", (path.name, path.read_bytes(), XLSX))]
    dry = client.post("/import", data={"csrf_token": CSRF}, files=upload)  # the import page's dry run
    assert dry.status_code == 200, dry.text
    assert "深化营商环境改革" in dry.text and "2024-07-31" in dry.text
    session.expire_all()
    assert session.get(Item, world.items["ours"].id).title == "推进营商环境改革"  # type: ignore[union-attr]
    token = dry.text.split('name="token" value="')[1].split('"')[0]
    assert client.post("/import/apply", data={"csrf_token": CSRF, "token": token}).status_code == 303
    session.expire_all()
    item = session.get(Item, world.items["ours"].id)
    assert item is not None and (item.title, item.deadline) == ("深化营商环境改革", date(2024, 7, 31))
    assert import_ledger(session, [path], now=now, dry_run=True).items_updated == 0  # exactly those edits
    session.rollback()
    again = load_workbook(BytesIO(client.get("/items.xlsx", params={"sort": "ref"}).content))["台账"]
    editable = header.index("备注") + 1
    assert ([r[:editable] for r in again.iter_rows(values_only=True)]
            == [r[:editable] for r in load_workbook(path)["台账"].iter_rows(values_only=True)])
