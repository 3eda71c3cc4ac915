"""催办 of a selection from /items: boxes for urgers only, a confirmation step, a report per item; the API too."""

from __future__ import annotations

from sqlmodel import select

from models.accounts import create_token
from models.tables import Item, ItemEvent, Notification, Status, Unit
from tests.web.conftest import CSRF
from tests.web.test_approvals import confirm_form


def _close(session, item_id):  # type: ignore[no-untyped-def]
    item = session.get(Item, item_id)
    item.status = Status.SIGNED_OFF
    session.add(item)
    session.commit()


def _confirm_form(page: str) -> dict[str, list[str]]:
    return confirm_form(page, "/items/urge")


def _urged(session):  # type: ignore[no-untyped-def]
    session.expire_all()
    events = session.exec(select(ItemEvent).where(ItemEvent.kind == "urged").order_by(ItemEvent.item_id)).all()
    mails = session.exec(select(Notification).where(Notification.kind == "urged").order_by(Notification.item_id)).all()
    return events, mails


def _outcome(report: str, item_id: int) -> str:
    return report.split(f'id="outcome-{item_id}"')[1].split("</li>")[0]


def test_urging_three_items_one_of_them_closed_urges_two_and_says_why_not_the_third(world, client_for, session):
    ours, theirs, unsupervised = (world.items[name] for name in ("ours", "theirs", "unsupervised"))
    _close(session, theirs.id)
    sup = client_for(world.people["sup"])
    listing = sup.get("/items").text
    assert 'action="/items/urge/confirm"' in listing and 'data-check-all="item"' in listing
    assert f'name="item" value="{ours.id}"' in listing and f'name="item" value="{theirs.id}"' not in listing

    ids = [str(ours.id), str(theirs.id), str(unsupervised.id)]
    page = sup.post("/items/urge/confirm", data={"csrf_token": CSRF, "item": ids, "text": "请本周内报送进展"})
    assert page.status_code == 200
    assert "确认催办以下 3 个事项" in page.text and "请本周内报送进展" in page.text and "扩大对外开放" in page.text
    assert _urged(session) == ([], [])  # the confirmation step changes nothing

    report = sup.post("/items/urge", data={"csrf_token": CSRF, **_confirm_form(page.text)})
    assert report.status_code == 200
    assert "已催办：2" in report.text and "未办理：1" in report.text
    assert "已催办" in _outcome(report.text, ours.id) and "已催办" in _outcome(report.text, unsupervised.id)
    refused = _outcome(report.text, theirs.id)
    assert "未办理" in refused and "已销号" in refused and "不能催办" in refused
    assert refused.count("新时代意见/2") == 1, refused  # the line names its item once, not again in the reason
    events, mails = _urged(session)
    assert [e.item_id for e in events] == [ours.id, unsupervised.id]
    assert {e.payload["text"] for e in events} == {"请本周内报送进展"}
    assert {e.actor_label for e in events} == {world.people["sup"].label()}
    assert [m.item_id for m in mails] == [ours.id, unsupervised.id]
    assert {m.key for m in mails} == {f"event:{e.id}" for e in events}


def test_an_item_changed_since_the_confirmation_step_is_left_alone(world, client_for, session):
    ours, unsupervised = world.items["ours"], world.items["unsupervised"]
    sup = client_for(world.people["sup"])
    page = sup.post("/items/urge/confirm", data={"csrf_token": CSRF, "item": [str(ours.id), str(unsupervised.id)],
                                                 "text": "请抓紧办理"})
    changed = session.get(Item, unsupervised.id)
    changed.status = Status.IN_PROGRESS
    session.add(changed)
    session.commit()
    report = sup.post("/items/urge", data={"csrf_token": CSRF, **_confirm_form(page.text)})
    assert "在您确认前已有变动" in _outcome(report.text, unsupervised.id)
    events, _mails = _urged(session)
    assert [e.item_id for e in events] == [ours.id]


def test_an_empty_message_is_refused_with_its_code_and_nothing_is_written(world, client_for, session):
    ours = world.items["ours"]
    leader = client_for(world.people["leader"])
    empty = leader.post("/items/urge/confirm", data={"csrf_token": CSRF, "item": [str(ours.id)], "text": "  "})
    assert empty.status_code == 400 and "催办须填写催办内容" in empty.text
    empty = leader.post("/items/urge", data={"csrf_token": CSRF, "item": [str(ours.id)],
                                             "version": [str(ours.version)], "text": ""})
    assert empty.status_code == 400 and "催办须填写催办内容" in empty.text
    nothing = leader.post("/items/urge/confirm", data={"csrf_token": CSRF, "text": "请报送"})
    assert nothing.status_code == 400 and "请至少选择一项" in nothing.text
    assert _urged(session) == ([], [])


def test_officers_see_no_boxes_and_may_not_urge(world, client_for, session):
    ours = world.items["ours"]
    officer = client_for(world.people["lead"])
    listing = officer.get("/items").text
    assert "推进营商环境改革" in listing and 'action="/items/urge' not in listing and 'name="item"' not in listing
    for path, data in (("/items/urge/confirm", {"item": [str(ours.id)], "text": "请报送"}),
                       ("/items/urge", {"item": [str(ours.id)], "version": [str(ours.version)], "text": "请报送"})):
        refused = officer.post(path, data={"csrf_token": CSRF, **data})
        assert refused.status_code == 403 and "只有督办人、领导和管理员可以催办" in refused.text
    assert _urged(session) == ([], [])


def test_the_api_urges_several_items_and_answers_for_each(world, session, now, anon):
    ours, theirs, unsupervised = (world.items[name] for name in ("ours", "theirs", "unsupervised"))
    _close(session, unsupervised.id)
    # The leader oversees 发改委 only (分管): 商务局's items are not theirs to see.
    fgw = session.get(Unit, world.units["fgw"].id)
    fgw.leader_emails = ["leader@dc.gov.cn"]
    session.add(fgw)
    tokens = {who: create_token(session, world.people[who], now) for who in ("leader", "sup", "lead")}
    session.commit()

    def post(who, body):  # type: ignore[no-untyped-def]
        return anon.post("/api/v1/urge", json=body, headers={"Authorization": f"Bearer {tokens[who]}"})

    chosen = [{"id": i.id, "version": session.get(Item, i.id).version} for i in (ours, theirs, unsupervised)]
    empty = post("leader", {"items": chosen, "text": " "})
    assert (empty.status_code, empty.json()["code"]) == (400, "bulk.urge_text")
    assert _urged(session) == ([], [])

    answer = post("leader", {"items": chosen, "text": "请加快进度"}).json()["items"]
    assert [(a["done"], a.get("code")) for a in answer] == [
        (True, None), (False, "item.not_found"), (False, "item.not_found")]  # not theirs to see: as if missing
    assert answer[1]["ref"] == str(theirs.id) and "扩大对外开放" not in str(answer)
    by_sup = post("sup", {"items": chosen[1:], "text": "请加快进度"}).json()["items"]
    assert [(a["ref"], a["done"], a.get("code")) for a in by_sup] == [
        ("新时代意见/2", True, None), ("新时代意见/3", False, "action.wrong_state")]
    events, mails = _urged(session)
    assert [(e.item_id, e.payload.get("by_leader")) for e in events] == [(ours.id, True), (theirs.id, None)]
    assert len(mails) == 2
    officer = post("lead", {"items": chosen[:1], "text": "请加快进度"})
    assert (officer.status_code, officer.json()["code"]) == (403, "role.urger_only")
    assert len(_urged(session)[0]) == 2


def test_urging_again_within_a_day_skips_the_items_and_says_who_urged_them_when(world, client_for, session):
    ours, unsupervised = world.items["ours"], world.items["unsupervised"]
    sup = client_for(world.people["sup"])
    first = sup.post("/items/urge/confirm", data={"csrf_token": CSRF, "item": [str(ours.id)], "text": "请抓紧办理"})
    assert "已催办：1" in sup.post("/items/urge", data={"csrf_token": CSRF, **_confirm_form(first.text)}).text
    page = sup.post("/items/urge/confirm", data={"csrf_token": CSRF, "item": [str(ours.id), str(unsupervised.id)],
                                                 "text": "请抓紧办理"})
    report = sup.post("/items/urge", data={"csrf_token": CSRF, **_confirm_form(page.text)})
    assert "已催办：1" in report.text and "未办理：1" in report.text
    skipped = _outcome(report.text, ours.id)
    assert f"{world.people['sup'].name}（督办人）已于" in skipped and "同一单位24小时内只催办一次，本次未催办" in skipped
    assert f"未办理</b> — {world.people['sup'].name}（督办人）已于" in skipped  # not "— 新时代意见/…：…" again
    events, _mails = _urged(session)
    assert [e.item_id for e in events] == [ours.id, unsupervised.id]
