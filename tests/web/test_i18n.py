"""Every word the pages show has its zh-CN translation."""

from __future__ import annotations

import re
from pathlib import Path

from config.i18n import lookup
from models.lifecycle import TRANSITIONS, Action
from models.tables import Role, Status
from web.i18n import translator, without_ref

WEB = Path(__file__).resolve().parents[2] / "web"


def test_every_message_in_templates_and_routes_is_translated():
    used = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("routes/*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\b_\("([^"]+)"\)', text))
        used |= set(re.findall(r'flash\(request, "([^"]+)"', text))
        used |= set(re.findall(r"\('[a-z_-]+', '([A-Z][^']+)'\)", text))  # (key, label) lists
    missing = sorted(m for m in used if lookup("zh-CN", m) is None)
    assert not missing, missing


def test_states_roles_events_and_actions_are_translated():
    words = [*Status, *Role, *(t.event for t in TRANSITIONS.values())]
    assert [w for w in words if lookup("zh-CN", w) is None] == []
    assert translator("en")("in_progress") == "in progress"
    assert translator("zh-CN")(Action.SIGN_OFF.value.replace("_", " ").capitalize()) == "销号"


def test_who_did_it_shows_in_the_page_language():
    from models.sweep import ACTOR_LABEL
    from web.i18n import actor_text

    label = "李督查 <sup@dc.gov.cn> (supervisor)"
    assert actor_text(label, "zh-CN") == "李督查 <sup@dc.gov.cn>（督办人）"
    assert actor_text(label, "en") == label
    assert actor_text("王科员 <o@fgw.gov.cn> (officer)", "en") == "王科员 <o@fgw.gov.cn> (officer)"
    assert actor_text(ACTOR_LABEL, "zh-CN") == "系统自动督办"
    assert actor_text(ACTOR_LABEL, "en") == "the sweep"
    assert actor_text("import:台账.xlsx", "zh-CN") == "台账导入：台账.xlsx"
    assert actor_text("import:ledger.xlsx", "en") == "ledger import: ledger.xlsx"
    assert actor_text("someone (chief)", "zh-CN") == "someone (chief)"  # not a role: left as stored


def test_the_timeline_names_roles_in_chinese(world, client_for):
    from tests.web.conftest import CSRF

    lead, item = client_for(world.people["lead"]), world.items["ours"]
    form = {"csrf_token": CSRF, "action": "report_progress", "text": "已召开协调会", "version": str(item.version)}
    assert lead.post(f"/items/{item.id}/act", data=form).status_code == 303
    page = lead.get(f"/items/{item.id}").text
    assert f"{world.people['lead'].name}（市发改委）" in page and "(officer)" not in page
    assert "lead@fgw.gov.cn&gt;" not in page  # the item page names people, it is not about accounts


def test_a_refused_comment_is_called_a_comment_not_the_sign_offs_opinion():
    """留言 (a comment in the timeline) and 意见 (the sign-off's comment) are two things (docs/glossary.md)."""
    from models.errors import InvalidTransition
    from web.i18n import error_message

    refused = InvalidTransition("closed", code="action.wrong_state", params={
        "ref": "新时代意见/1", "status": "signed_off", "action": "comment", "allowed": ["assigned", "submitted"]})
    words = error_message(refused, "zh-CN")
    assert "留言" in words and "意见" not in words.replace("新时代意见", "")


def test_the_timeline_names_what_each_text_is_and_shows_no_ids(world, client_for):
    from tests.web.conftest import CSRF

    item = world.items["ours"]
    for who, action, text in (("lead", "acknowledge", ""), ("sup", "urge", "请抓紧报送"),
                              ("leader", "instruct", "要加快进度"), ("co", "comment", "材料已补充")):
        data = {"csrf_token": CSRF, "action": action, **({"text": text} if text else {})}
        assert client_for(world.people[who]).post(f"/items/{item.id}/act", data=data).status_code == 303
    timeline = client_for(world.people["sup"]).get(f"/items/{item.id}").text.split('class="timeline"')[1]
    assert "催办意见：请抓紧报送" in timeline and "批示：要加快进度" in timeline and "留言内容：材料已补充" in timeline
    assert "进展：" not in timeline and "unit_id" not in timeline and "by_leader" not in timeline


def test_a_reason_on_a_line_naming_its_item_drops_the_leading_reference_only():
    assert without_ref("新时代意见/38：李督查（督办人）已于…催办", "新时代意见/38") == "李督查（督办人）已于…催办"
    assert without_ref("新时代意见/38: it is signed_off", "新时代意见/38") == "it is signed_off"
    assert without_ref("新时代意见/38 was urged by 李督查", "新时代意见/38") == "was urged by 李督查"
    assert without_ref("新时代意见/38：…", "新时代意见/3") == "新时代意见/38：…"  # another item's reference
    assert without_ref("no item with id 7", "7") == "no item with id 7"
    assert without_ref("事项新时代意见/3与第4行重复", "新时代意见/3") == "事项新时代意见/3与第4行重复"
