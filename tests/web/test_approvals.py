"""Bulk decisions on /approvals: a confirmation step, one comment or reason for all, a report per item."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from models.tables import ExtensionRequest, ExtensionStatus, Item, ItemEvent, Status
from tests.web.conftest import CSRF


def _submitted(session, world, *names):  # type: ignore[no-untyped-def]
    for name in names:
        item = session.get(Item, world.items[name].id)
        item.status = Status.SUBMITTED
        session.add(item)
    session.commit()
    return [session.get(Item, world.items[name].id) for name in names]


def confirm_form(page: str, posts_to: str = "/approvals/") -> dict[str, list[str]]:
    """The hidden fields of the confirmation step's form (its action starting `posts_to`), as a browser sends them."""
    form = page.split(f'<form method="post" action="{posts_to}', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    return fields


def _events(session, kind):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.exec(select(ItemEvent).where(ItemEvent.kind == kind).order_by(ItemEvent.item_id)).all()


def test_bulk_sign_off_confirms_first_then_signs_off_each_with_the_one_comment(world, client_for, session):
    ours, unsupervised = _submitted(session, world, "ours", "unsupervised")
    sup = client_for(world.people["sup"])
    assert 'action="/approvals/confirm"' in sup.get("/approvals").text

    chosen = {"csrf_token": CSRF, "action": "sign_off", "item": [str(ours.id), str(unsupervised.id)],
              "comment": "材料齐全，同意销号"}
    page = sup.post("/approvals/confirm", data=chosen)
    assert page.status_code == 200
    assert "推进营商环境改革" in page.text and "稳外贸稳外资" in page.text and "材料齐全，同意销号" in page.text
    assert _events(session, "signed_off") == []  # the confirmation step changes nothing

    form = confirm_form(page.text)
    assert form["item"] == [str(ours.id), str(unsupervised.id)] and form["version"] == [str(ours.version)] * 2
    report = sup.post("/approvals/sign-off", data={"csrf_token": CSRF, **form})
    assert report.status_code == 200
    assert "已销号：2" in report.text and "未办理：0" in report.text
    events = _events(session, "signed_off")
    assert [e.item_id for e in events] == [ours.id, unsupervised.id]
    assert {e.payload["comment"] for e in events} == {"材料齐全，同意销号"}
    assert {e.actor_label for e in events} == {world.people["sup"].label()}


def test_the_report_names_each_refused_item_and_why(world, client_for, session):
    ours, theirs, unsupervised = _submitted(session, world, "ours", "theirs", "unsupervised")
    sup = client_for(world.people["sup"])
    page = sup.post("/approvals/confirm", data={"csrf_token": CSRF, "action": "sign_off",
                                                "item": [str(ours.id), str(theirs.id), str(unsupervised.id)]})
    form = confirm_form(page.text)
    # Between the confirmation step and the confirm, the lead unit takes one back (its version moves on).
    changed = session.get(Item, unsupervised.id)
    changed.status = Status.IN_PROGRESS
    session.add(changed)
    session.commit()

    report = sup.post("/approvals/sign-off", data={"csrf_token": CSRF, **form})
    assert report.status_code == 200
    done = report.text.split(f'id="outcome-{ours.id}"')[1].split("</li>")[0]
    assert "已销号" in done
    refused = report.text.split(f'id="outcome-{theirs.id}"')[1].split("</li>")[0]
    assert "未办理" in refused and "督办人" in refused  # not sup's item: sup2 supervises it
    stale = report.text.split(f'id="outcome-{unsupervised.id}"')[1].split("</li>")[0]
    assert "在您确认前已有变动" in stale and "办理中" in stale and "未作处理" in stale
    session.expire_all()
    assert session.get(Item, ours.id).status == Status.SIGNED_OFF
    assert session.get(Item, theirs.id).status == Status.SUBMITTED
    assert session.get(Item, unsupervised.id).status == Status.IN_PROGRESS
    assert [e.item_id for e in _events(session, "signed_off")] == [ours.id]


def test_bulk_return_needs_a_reason_and_gives_it_to_every_item(world, client_for, session):
    ours, unsupervised = _submitted(session, world, "ours", "unsupervised")
    sup = client_for(world.people["sup"])
    ids = [str(ours.id), str(unsupervised.id)]
    empty = sup.post("/approvals/confirm", data={"csrf_token": CSRF, "action": "return", "item": ids, "reason": " "})
    assert empty.status_code == 400 and "退回须填写理由" in empty.text
    versions = [str(ours.version), str(unsupervised.version)]
    empty = sup.post("/approvals/return", data={"csrf_token": CSRF, "item": ids, "version": versions, "text": ""})
    assert empty.status_code == 400 and "退回须填写理由" in empty.text
    assert _events(session, "returned") == []

    page = sup.post("/approvals/confirm", data={"csrf_token": CSRF, "action": "return", "item": ids,
                                                "reason": "缺少印发文号"})
    assert "确认退回" in page.text
    report = sup.post("/approvals/return", data={"csrf_token": CSRF, **confirm_form(page.text)})
    assert "已退回：2" in report.text
    events = _events(session, "returned")
    assert len(events) == 2 and {e.payload["reason"] for e in events} == {"缺少印发文号"}
    assert {session.get(Item, e.item_id).status for e in events} == {Status.IN_PROGRESS}


def test_a_bulk_decision_without_the_confirmation_step_or_a_choice_is_refused(world, client_for, session):
    (ours,) = _submitted(session, world, "ours")
    sup = client_for(world.people["sup"])
    unconfirmed = sup.post("/approvals/sign-off", data={"csrf_token": CSRF, "item": [str(ours.id)]})
    assert unconfirmed.status_code == 400 and "请先确认" in unconfirmed.text
    nothing = sup.post("/approvals/confirm", data={"csrf_token": CSRF, "action": "sign_off"})
    assert nothing.status_code == 400 and "请至少选择一项" in nothing.text
    assert _events(session, "signed_off") == []
    officer = client_for(world.people["lead"])
    assert officer.post("/approvals/confirm", data={"csrf_token": CSRF, "action": "sign_off",
                                                    "item": [str(ours.id)]}).status_code == 403


def test_rejecting_an_extension_from_approvals_needs_a_reason(world, client_for, session):
    item = session.get(Item, world.items["ours"].id)
    session.add(ExtensionRequest(item_id=item.id, requested_deadline=date(2024, 9, 30), reason="需等待省里批复",
                                 requester_id=world.people["lead"].id, requested_at=item.updated_at))
    session.commit()
    sup = client_for(world.people["sup"])
    page = sup.get("/approvals").text
    assert 'value="reject_extension"' in page and re.search(r'name="reason" required', page)
    response = sup.post(f"/items/{item.id}/act", data={"csrf_token": CSRF, "action": "reject_extension",
                                                        "version": str(item.version), "reason": ""})
    assert response.status_code in (400, 409) and "理由" in response.text
    session.expire_all()
    assert session.exec(select(ExtensionRequest)).one().status == ExtensionStatus.PENDING


def test_the_api_decides_several_items_and_answers_for_each(world, session, now, anon):
    from models.accounts import create_token

    ours, theirs = _submitted(session, world, "ours", "theirs")
    token = create_token(session, world.people["sup"], now)
    session.commit()

    def post(action, body):  # type: ignore[no-untyped-def]
        return anon.post(f"/api/v1/approvals/{action}", json=body, headers={"Authorization": f"Bearer {token}"})

    chosen = [{"id": ours.id, "version": ours.version}, {"id": theirs.id, "version": theirs.version}]
    assert post("return", {"items": chosen, "reason": ""}).json()["code"] == "bulk.return_reason"
    answer = post("sign_off", {"items": [*chosen, {"id": ours.id, "version": ours.version + 5}],
                               "comment": "同意"}).json()["items"]
    assert [(a["ref"], a["done"], a.get("code")) for a in answer] == [
        ("新时代意见/1", True, None), ("新时代意见/2", False, "action.supervisor_only"),
        ("新时代意见/1", False, "bulk.changed_meanwhile"),  # it was signed off a moment before
    ]
    assert [e.item_id for e in _events(session, "signed_off")] == [ours.id]
