"""催办 of a selection from a supervisor's own work page (/my): the form, confirmation and report of /items."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from models.tables import Item, ItemEvent
from tests.web.conftest import CSRF
from tests.web.test_approvals import confirm_form


def _urged(session):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.exec(select(ItemEvent).where(ItemEvent.kind == "urged").order_by(ItemEvent.item_id)).all()


def test_a_supervisor_urges_their_overdue_items_from_my_work_and_comes_back_to_it(world, client_for, session):
    ours, theirs, unsupervised = (world.items[name] for name in ("ours", "theirs", "unsupervised"))
    late = session.get(Item, ours.id)
    late.deadline = date(2024, 5, 20)  # overdue, as "theirs" (supervised by sup2) is
    session.add(late)
    session.commit()
    sup = client_for(world.people["sup"])
    page = sup.get("/my")
    assert page.status_code == 200 and 'href="/my"' in page.text, "a supervisor has a 我的工作 of their own"
    overdue = page.text.split('id="my-overdue"')[1].split("</section>")[0]
    assert "推进营商环境改革" in overdue and "扩大对外开放" not in overdue and "稳外贸稳外资" not in overdue
    assert f'name="item" value="{ours.id}"' in overdue and 'data-check-all="item"' in overdue
    form = page.text.split('<form method="post" action="/items/urge/confirm" id="urge">')[1].split("</form>")[0]
    assert 'name="back" value="/my"' in form and "催办所选事项" in form and 'name="text"' in form

    confirm = sup.post("/items/urge/confirm", data={"csrf_token": CSRF, "item": [str(ours.id)],
                                                    "text": "请本周内报送进展", "back": "/my"})
    assert confirm.status_code == 200 and "确认催办以下 1 个事项" in confirm.text and 'href="/my"' in confirm.text
    assert _urged(session) == []  # the confirmation step changes nothing
    fields = confirm_form(confirm.text, "/items/urge")
    assert fields["back"] == ["/my"] and fields["item"] == [str(ours.id)]
    report = sup.post("/items/urge", data={"csrf_token": CSRF, **fields})
    assert report.status_code == 200 and "已催办：1" in report.text
    assert '<a class="button" href="/my">我的工作</a>' in report.text
    events = _urged(session)
    assert [(e.item_id, e.payload["text"]) for e in events] == [(ours.id, "请本周内报送进展")]
    assert "推进营商环境改革" in sup.get("/my").text, "still overdue after the 催办, still listed"


def test_an_unknown_page_to_come_back_to_is_items_and_officers_my_work_has_no_boxes(world, client_for, session):
    ours = world.items["ours"]
    sup = client_for(world.people["sup"])
    confirm = sup.post("/items/urge/confirm", data={"csrf_token": CSRF, "item": [str(ours.id)], "text": "请报送",
                                                    "back": "https://elsewhere.example/"})
    assert confirm_form(confirm.text, "/items/urge")["back"] == ["/items"] and "elsewhere" not in confirm.text
    officer = client_for(world.people["lead"]).get("/my").text
    assert "推进营商环境改革" in officer and 'name="item"' not in officer and "/items/urge" not in officer
    admin = client_for(world.people["admin"]).get("/my", follow_redirects=False)
    assert admin.status_code in (302, 303) and admin.headers["location"] == "/approvals"
    assert _urged(session) == []


def test_an_admin_who_supervises_items_has_a_my_work_of_their_own(world, client_for, session):
    theirs = session.get(Item, world.items["theirs"].id)  # overdue
    theirs.supervisor_id = world.people["admin"].id
    session.add(theirs)
    session.commit()
    page = client_for(world.people["admin"]).get("/my", follow_redirects=False)
    assert page.status_code == 200 and 'href="/my" class="on"' in page.text
    overdue = page.text.split('id="my-overdue"')[1].split("</section>")[0]
    assert "扩大对外开放" in overdue and "推进营商环境改革" not in overdue
    assert f'name="item" value="{theirs.id}"' in overdue and 'action="/items/urge/confirm"' in page.text
