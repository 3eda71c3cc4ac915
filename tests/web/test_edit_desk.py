"""Editing an item, 批示 and 留言 on the item page."""

from __future__ import annotations

from sqlmodel import Session, select

from models.tables import Item, ItemEvent
from tests.web.conftest import CSRF


def _act(client, item, action, **fields):
    return client.post(f"/items/{item.id}/act", data={"csrf_token": CSRF, "action": action, **fields})


def _edit(client, item, version, **changes):
    form = {"title": "推进营商环境改革", "deadline": "2024-06-30", "reason": "", "lead_unit": "市发改委",
            "co_units": "市财政局", "supervisor": "sup@dc.gov.cn", "category": "", "version": str(version)}
    return _act(client, item, "edit", **{**form, **changes})


def test_a_supervisor_edits_from_the_item_page_and_the_timeline_names_old_and_new(world, client_for, engine):
    item, sup = world.items["ours"], client_for(world.people["sup"])
    page = sup.get(f"/items/{item.id}").text
    assert 'id="form-edit"' in page and 'value="sup@dc.gov.cn"' in page
    assert 'id="form-edit"' not in client_for(world.people["lead"]).get(f"/items/{item.id}").text
    assert _edit(sup, item, item.version, deadline="2024-07-31", reason="上级调整", co_units="").status_code == 303
    page = sup.get(f"/items/{item.id}").text
    assert "完成时限：2024年6月30日 → 2024年7月31日" in page and "配合单位：市财政局 → —" in page
    assert "申请延至日期" not in page and "deadline" not in page.split('class="timeline"')[1]
    with Session(engine) as s:
        event = s.exec(select(ItemEvent).where(ItemEvent.kind == "edited")).one()
        assert event.payload["deadline"] == {"old": "2024-06-30", "new": "2024-07-31"}


def test_a_refused_edit_says_why_and_keeps_nothing(world, client_for, engine):
    item, sup = world.items["ours"], client_for(world.people["sup"])
    refused = _edit(sup, item, item.version, lead_unit="市发改局")
    assert refused.status_code == 400 and "市发改委" in refused.text
    refused = _edit(sup, item, item.version, deadline="2024-08-01")
    assert refused.status_code == 400
    with Session(engine) as s:
        assert s.get(Item, item.id).deadline.isoformat() == "2024-06-30"  # type: ignore[union-attr]


def test_an_edit_after_someone_elses_change_keeps_what_was_typed(world, client_for):
    item, sup = world.items["ours"], client_for(world.people["sup"])
    old_version = item.version
    assert _act(sup, item, "urge", text="请推进").status_code == 303
    conflict = _edit(sup, item, old_version, title="我的新标题")
    assert conflict.status_code == 409 and "我的新标题" in conflict.text


def test_a_leaders_instruction_stands_out_and_others_cannot_write_one(world, client_for):
    item = world.items["ours"]
    leader, sup = client_for(world.people["leader"]), client_for(world.people["sup"])
    assert 'id="form-instruct"' in leader.get(f"/items/{item.id}").text
    assert 'id="form-instruct"' not in sup.get(f"/items/{item.id}").text
    assert _act(leader, item, "instruct", text="要加快进度").status_code == 303
    page = sup.get(f"/items/{item.id}").text
    block = page.split('id="instructions"')[1].split("</section>")[0]
    assert "要加快进度" in block
    assert _act(sup, item, "instruct", text="x").status_code == 403


def test_everyone_who_sees_the_item_comments_in_its_timeline(world, client_for):
    item = world.items["ours"]
    co, other = client_for(world.people["co"]), client_for(world.people["other"])
    assert _act(co, item, "comment", text="资金已到位").status_code == 303
    assert "资金已到位" in co.get(f"/items/{item.id}").text
    assert _act(other, item, "comment", text="x").status_code in (403, 404)


def test_the_api_edits_with_the_same_rules(world, session, now, anon):
    from models.accounts import create_token

    tokens = {who: create_token(session, world.people[who], now) for who in ("sup", "other")}
    session.commit()
    item = world.items["ours"]

    def call(who, action, **body):
        return anon.post(f"/api/v1/items/{item.id}/{action}", json=body,
                         headers={"Authorization": f"Bearer {tokens[who]}"})

    edited = call("sup", "edit", lead_unit="市商务局", co_units=[], category="开放")
    assert edited.status_code == 200, edited.text
    assert (edited.json()["lead_unit"], edited.json()["co_units"], edited.json()["category"]) == ("市商务局", [], "开放")
    assert call("sup", "edit", deadline="2024-09-30").status_code == 400, "a new deadline needs a reason"
    assert call("other", "edit", title="x").status_code == 403, "the new lead unit sees it, edits nothing"
