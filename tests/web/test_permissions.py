"""Who sees and does what: each role and unit against everyone else's items, on pages and the API."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from models.accounts import create_token
from models.tables import Item, Status
from tests.web.conftest import CSRF

# who -> the items they may see (the rest must look exactly like ids that do not exist)
SEES = {
    "lead": {"ours"},
    "co": {"ours"},
    "other": {"theirs", "unsupervised"},
    "sup": {"ours", "theirs", "unsupervised"},
    "sup2": {"ours", "theirs", "unsupervised"},
    "leader": {"ours", "theirs", "unsupervised"},
    "admin": {"ours", "theirs", "unsupervised"},
}
ITEMS = ("ours", "theirs", "unsupervised")


def _submit_all(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    for item in world.items.values():
        fresh = session.get(Item, item.id)
        fresh.status = Status.SUBMITTED  # setting up the scene, not acting: no lifecycle needed
        session.add(fresh)
    session.commit()


@pytest.mark.parametrize("who", list(SEES))
def test_item_page_shows_only_items_the_person_may_see(world, client_for, who):
    client = client_for(world.people[who])
    for name in ITEMS:
        response = client.get(f"/items/{world.items[name].id}")
        assert response.status_code == (200 if name in SEES[who] else 404), (who, name)
        if response.status_code == 404:
            assert world.items[name].title not in response.text
    assert client.get("/items/999999").status_code == 404


@pytest.mark.parametrize("who", list(SEES))
def test_item_list_and_export_leak_nothing(world, client_for, who):
    client = client_for(world.people[who])
    page = client.get("/items").text
    for name in ITEMS:
        assert (world.items[name].title in page) == (name in SEES[who]), (who, name)
    # filtering by another unit does not open a door
    page = client.get("/items", params={"unit": "市商务局"}).text
    for name in ("theirs", "unsupervised"):
        assert (world.items[name].title in page) == (name in SEES[who])
    export = client.get("/items.xlsx")
    assert export.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    titles = {row[2] for row in load_workbook(BytesIO(export.content)).active.iter_rows(min_row=2, values_only=True)}
    assert titles == {world.items[name].title for name in SEES[who]}


@pytest.mark.parametrize("who", list(SEES))
def test_api_applies_the_same_visibility(world, client_for, session, now, who):
    token = create_token(session, world.people[who], now)
    session.commit()
    client = client_for(world.people[who])
    client.cookies.clear()  # the API ignores cookies: the token alone counts
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/items", headers=headers).json()
    assert {row["title"] for row in listed["items"]} == {world.items[n].title for n in SEES[who]}
    assert listed["total"] == len(SEES[who])
    for name in ITEMS:
        response = client.get(f"/api/v1/items/{world.items[name].id}", headers=headers)
        assert response.status_code == (200 if name in SEES[who] else 404), (who, name)


def test_api_without_a_valid_token_is_401(world, anon):
    assert anon.get("/api/v1/items").status_code == 401
    assert anon.get("/api/v1/items", headers={"Authorization": "Bearer dbn_nope"}).status_code == 401


def _act(client, item, action, **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/items/{item.id}/act", data={"csrf_token": CSRF, "action": action, **fields})


def test_officer_acting_on_another_units_item_gets_404(world, client_for):
    response = _act(client_for(world.people["lead"]), world.items["theirs"], "report_progress", text="x")
    assert response.status_code == 404


def test_co_unit_reports_progress_but_may_not_submit(world, client_for):
    client = client_for(world.people["co"])
    assert _act(client, world.items["ours"], "report_progress", text="配合完成数据报送").status_code == 303
    response = _act(client, world.items["ours"], "submit", evidence="done")
    assert response.status_code == 403
    assert "只有牵头单位可以申请销号" in response.text


def test_leader_sees_everything_but_only_instructs_and_comments(world, client_for, session):
    _submit_all(session, world)
    client = client_for(world.people["leader"])
    for name in ITEMS:
        page = client.get(f"/items/{world.items[name].id}").text
        forms = set(re.findall(r'id="form-([a-z_]+)"', page))
        assert forms == {"instruct", "comment"}, forms  # 批示 and 留言; nothing that decides
        assert _act(client, world.items[name], "sign_off").status_code == 403
    assert client.get("/approvals").status_code == 403


def test_supervisor_acts_on_own_and_unsupervised_items_only(world, client_for, session):
    _submit_all(session, world)
    sup = client_for(world.people["sup"])
    assert "form-sign_off" not in sup.get(f"/items/{world.items['theirs'].id}").text
    assert _act(sup, world.items["theirs"], "sign_off").status_code == 403
    assert _act(sup, world.items["ours"], "sign_off").status_code == 303
    assert "form-sign_off" in sup.get(f"/items/{world.items['unsupervised'].id}").text
    assert _act(sup, world.items["unsupervised"], "sign_off").status_code == 303


def test_approvals_lists_what_each_supervisor_may_decide(world, client_for, session):
    _submit_all(session, world)
    pages = {who: client_for(world.people[who]).get("/approvals").text for who in ("sup", "sup2", "admin")}
    titles = {name: world.items[name].title for name in ITEMS}
    assert titles["ours"] in pages["sup"] and titles["theirs"] not in pages["sup"]
    assert titles["theirs"] in pages["sup2"] and titles["ours"] not in pages["sup2"]
    assert all(t in pages["admin"] for t in titles.values())
    assert all(titles["unsupervised"] in page for page in pages.values())


@pytest.mark.parametrize("path", ["/approvals", "/import", "/outbox", "/digest"])
def test_office_pages_are_refused_to_officers(world, client_for, path):
    assert client_for(world.people["lead"]).get(path).status_code == 403


def test_only_admins_retry_dead_mail(world, client_for):
    response = client_for(world.people["sup"]).post("/outbox/1/retry", data={"csrf_token": CSRF})
    assert response.status_code == 403
    response = client_for(world.people["admin"]).post("/outbox/1/retry", data={"csrf_token": CSRF})
    assert response.status_code == 404  # allowed, but there is no such message


def test_inactive_person_is_logged_out(world, client_for, session):
    client = client_for(world.people["lead"])
    person = world.people["lead"]
    person.active = False
    session.add(person)
    session.commit()
    response = client.get("/items")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
