"""The admin pages' log of changes reads as the clerk's words: field names from the forms, values rendered, the channel."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from models.admin import AdminChange
from tests.web.conftest import CSRF
from web.admin_log import change_rows

AT = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)


def _what(changes: dict, locale: str = "zh-CN", by: str = "cli") -> tuple[str, str]:
    row, = change_rows([AdminChange(at=AT, by=by, kind="person", target="a@fgw.gov.cn", changes=changes)],
                       locale, {"admin@dc.gov.cn": "王管理"})
    return row.by, row.what


def _shown(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_fields_are_named_as_the_forms_name_them_and_values_as_the_forms_show_them() -> None:
    assert _what({"locale": [None, "en"]}) == ("命令行", "语言 默认 → English")
    assert _what({"role": ["officer", "supervisor"], "unit": ["市发改委", None]}, by="admin@dc.gov.cn") == (
        "王管理（网页）", "角色 单位联络员 → 督办人；单位 市发改委 → —")
    assert _what({"active": [True, False]})[1] == "状态 有效 → 已停用"
    assert _what({"added": [None, {"role": "officer", "unit": "市商务局"}]})[1] == "已添加（角色 单位联络员、单位 市商务局）"
    assert _what({"contact_emails": [[], ["a@x.cn", "b@x.cn"]], "parent": [None, "市政府"]})[1] == (
        "联系邮箱 — → a@x.cn、b@x.cn；上级单位 — → 市政府")
    assert _what({"archived": [False, True]})[1] == "已归档"
    assert _what({"locale": ["zh-CN", None], "role": ["admin", "leader"]}, "en", by="admin@dc.gov.cn") == (
        "王管理 (web)", "Language 中文 → default; Account role admin → leader")


def test_people_a_ledger_import_added_show_the_import_as_the_channel_and_the_file_as_the_title() -> None:
    added = {"added": [None, {"role": "supervisor", "unit": None}]}
    assert _what(added, by="import:ledger.xlsx") == ("导入", "已添加（角色 督办人）")
    assert _what(added, "en", by="import:ledger.xlsx")[0] == "import"
    row, = change_rows([AdminChange(at=AT, by="import:台账 2024.xlsx", kind="person", target="s@dc.gov.cn",
                                    changes=added)], "zh-CN", {})
    assert row.by_email == "台账 2024.xlsx"


def test_an_unknown_admin_email_shows_as_is_and_an_unknown_field_by_its_id() -> None:
    assert _what({"shoe_size": [1, 2]}, by="gone@dc.gov.cn") == ("gone@dc.gov.cn（网页）", "shoe_size 1 → 2")


def test_the_people_units_and_documents_pages_show_the_log_in_words(world, client_for) -> None:
    client = client_for(world.people["admin"])
    lead = world.people["lead"]
    assert client.post(f"/admin/people/{lead.id}", data={"csrf_token": CSRF, "role": "supervisor", "unit": "",
                                                          "locale": "en"}).status_code == 303
    page = _shown(client.get("/admin/people").text)
    name = world.people["admin"].name
    assert f"{name}（网页） · lead@fgw.gov.cn：语言 默认 → English；单位 市发改委 → —；角色 单位联络员 → 督办人" in page
    assert "locale None" not in page
    unit = world.units["fgw"]
    old_leaders = "、".join(unit.leader_emails) or "—"
    assert client.post(f"/admin/units/{unit.id}", data={
        "csrf_token": CSRF, "name": "市发展改革委", "code": unit.code or "", "contacts": " ".join(unit.contact_emails),
        "leaders": "boss@fgw.gov.cn"}).status_code == 303
    page = _shown(client.get("/admin/units").text)
    assert f"：单位 市发改委 → 市发展改革委；分管领导 {old_leaders} → boss@fgw.gov.cn" in page
