"""/admin/people: admins only; add, change and deactivate people, each change logged."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.admin import AdminChange
from models.tables import Person, Role
from tests.web.conftest import CSRF


@pytest.mark.parametrize("who", ["lead", "sup", "leader"])
def test_only_admins_may_open_or_post(world, client_for, who):
    client = client_for(world.people[who])
    assert client.get("/admin/people").status_code == 403
    target = world.people["other"].id
    assert client.post(f"/admin/people/{target}/deactivate", data={"csrf_token": CSRF}).status_code == 403
    assert client.post("/admin/people", data={"csrf_token": CSRF, "email": "x@y.cn", "role": "admin"}).status_code == 403


def test_an_admin_adds_changes_and_deactivates_a_person(session, world, client_for):
    client = client_for(world.people["admin"])
    page = client.get("/admin/people")
    assert page.status_code == 200 and "lead@fgw.gov.cn" in page.text and "市发改委" in page.text
    response = client.post("/admin/people", data={"csrf_token": CSRF, "email": "New@swj.gov.cn", "name": "赵六",
                                                  "role": "officer", "unit": "商务局", "locale": "en"})
    assert response.status_code == 303
    session.expire_all()
    new = session.exec(select(Person).where(Person.email == "new@swj.gov.cn")).one()
    assert new.unit_id == world.units["swj"].id and new.locale == "en" and new.name == "赵六"

    lead = world.people["lead"]
    response = client.post(f"/admin/people/{lead.id}", data={"csrf_token": CSRF, "role": "officer",
                                                              "unit": "市财政局", "locale": ""})
    assert response.status_code == 303
    assert client.post(f"/admin/people/{lead.id}/deactivate", data={"csrf_token": CSRF}).status_code == 303
    session.expire_all()
    lead = session.get(Person, lead.id)
    assert lead.unit_id == world.units["czj"].id and not lead.active
    changes = session.exec(select(AdminChange).order_by(AdminChange.id)).all()
    assert [(c.by, c.target) for c in changes] == [("admin@dc.gov.cn", "new@swj.gov.cn"),
                                                   ("admin@dc.gov.cn", "lead@fgw.gov.cn"),
                                                   ("admin@dc.gov.cn", "lead@fgw.gov.cn")]
    assert client_for(lead).get("/items").status_code != 200
    assert "lead@fgw.gov.cn" in client.get("/admin/people").text  # history keeps them


def test_refusals_name_the_problem_and_change_nothing(session, world, client_for):
    client = client_for(world.people["admin"])
    response = client.post(f"/admin/people/{world.people['sup'].id}",
                           data={"csrf_token": CSRF, "role": "officer", "unit": "发改"})
    assert response.status_code == 303  # 发改 finds 市发改委: accepted
    response = client.post(f"/admin/people/{world.people['co'].id}",
                           data={"csrf_token": CSRF, "role": "officer", "unit": "发展改革委员会"})
    assert response.status_code in (400, 422) and "市发改委" in response.text
    response = client.post(f"/admin/people/{world.people['admin'].id}/deactivate", data={"csrf_token": CSRF})
    assert response.status_code in (400, 409, 422) and "admin@dc.gov.cn" in response.text
    session.expire_all()
    assert session.get(Person, world.people["admin"].id).active
    assert session.get(Person, world.people["co"].id).unit_id == world.units["czj"].id
    assert session.get(Person, world.people["sup"].id).role == Role.OFFICER
