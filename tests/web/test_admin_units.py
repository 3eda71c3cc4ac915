"""/admin/units: admins only; add and change units (name, code, parent, contacts, leaders), logged."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.admin import AdminChange
from models.tables import Unit
from tests.web.conftest import CSRF


@pytest.mark.parametrize("who", ["lead", "sup", "leader"])
def test_only_admins_may_open_or_post(world, client_for, who):
    client = client_for(world.people[who])
    assert client.get("/admin/units").status_code == 403
    assert client.post("/admin/units", data={"csrf_token": CSRF, "name": "市新局"}).status_code == 403


def test_an_admin_adds_a_unit_and_renames_another_and_its_leader_then_sees_it(session, world, client_for):
    client = client_for(world.people["admin"])
    assert "市商务局" in client.get("/admin/units").text
    response = client.post("/admin/units", data={"csrf_token": CSRF, "name": "市商务局外贸处", "code": "SWJ-WM",
                                                 "parent": "商务局", "contacts": "wm@swj.gov.cn"})
    assert response.status_code == 303
    swj = world.units["swj"]
    response = client.post(f"/admin/units/{swj.id}", data={
        "csrf_token": CSRF, "name": "市商务厅", "code": swj.code, "parent": "",
        "contacts": "a@swj.gov.cn, B@swj.gov.cn", "leaders": "boss@swj.gov.cn"})
    assert response.status_code == 303
    session.expire_all()
    child = session.exec(select(Unit).where(Unit.name == "市商务局外贸处")).one()
    renamed = session.get(Unit, swj.id)
    assert child.parent_id == swj.id and child.contact_emails == ["wm@swj.gov.cn"]
    assert renamed.name == "市商务厅" and renamed.contact_emails == ["a@swj.gov.cn", "b@swj.gov.cn"]
    assert renamed.leader_emails == ["boss@swj.gov.cn"]
    change = session.exec(select(AdminChange).where(AdminChange.target == "市商务厅")).one()
    assert change.changes["name"] == ["市商务局", "市商务厅"] and change.by == "admin@dc.gov.cn"


def test_refusals_change_nothing(session, world, client_for):
    client = client_for(world.people["admin"])
    fgw, czj = world.units["fgw"], world.units["czj"]
    bad = [
        {"name": "市财政局"},  # taken
        {"name": "市发改委", "parent": "市发改委"},  # its own parent
        {"name": "市发改委", "contacts": "not-an-email"},
        {"name": "市发改委", "parent": "发展改革委员会"},  # unknown: closest named
    ]
    for form in bad:
        response = client.post(f"/admin/units/{fgw.id}", data={"csrf_token": CSRF, **form})
        assert response.status_code in (400, 404, 409, 422), form
    # a cycle two steps long: 财政局 under 发改委, then 发改委 under 财政局
    assert client.post(f"/admin/units/{czj.id}", data={"csrf_token": CSRF, "name": "市财政局",
                                                        "parent": "市发改委"}).status_code == 303
    assert client.post(f"/admin/units/{fgw.id}", data={"csrf_token": CSRF, "name": "市发改委",
                                                        "parent": "市财政局"}).status_code in (400, 422)
    session.expire_all()
    assert session.get(Unit, fgw.id).parent_id is None and session.get(Unit, fgw.id).contact_emails == fgw.contact_emails
    assert len(session.exec(select(AdminChange)).all()) == 1
