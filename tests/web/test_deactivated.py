"""A deactivated person cannot log in, their open session ends, and the outbox mails them nothing."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models.admin import deactivate
from models.outbox import OutboxMessage
from models.tables import Person, Role
from notifications.outbox import group_pending
from tests.factories import make_item, make_person, make_unit
from tests.mail.conftest import notify
from tests.web.conftest import PASSWORD


def _deactivate(session: Session, person: Person, now) -> None:  # type: ignore[no-untyped-def]
    deactivate(session, session.get(Person, person.id), now, "admin@dc.gov.cn")  # type: ignore[arg-type]
    session.commit()


def test_a_deactivated_person_cannot_log_in_and_their_session_ends(session, world, anon, client_for, now):
    client = client_for(world.people["lead"])
    assert client.get("/items").status_code == 200
    _deactivate(session, world.people["lead"], now)
    assert client.get("/items").status_code in (302, 303, 401)
    page = anon.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = anon.post("/login", data={"csrf_token": token, "email": "lead@fgw.gov.cn", "password": PASSWORD})
    assert response.status_code != 303
    assert anon.get("/items").status_code != 200


def test_grouping_skips_a_deactivated_person(session, now, web_settings):
    unit = make_unit(session, "市发改委", contact_emails=["wang@fgw.gov.cn", "li@fgw.gov.cn"])
    wang = make_person(session, Role.OFFICER, unit, email="wang@fgw.gov.cn")
    make_person(session, Role.OFFICER, unit, email="li@fgw.gov.cn")
    make_person(session, Role.ADMIN, email="root@dc.gov.cn")
    notify(session, make_item(session, lead_unit=unit, deadline=date(2024, 6, 10)), "reminder", unit.contact_emails)
    session.commit()
    _deactivate(session, wang, now)
    assert group_pending(session, now, web_settings) == 1
    session.expire_all()
    assert [m.recipients for m in session.exec(select(OutboxMessage)).all()] == [["li@fgw.gov.cn"]]
