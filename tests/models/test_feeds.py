"""A calendar feed lists the open items the item list gives the same person or unit (models/read)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from config.settings import load_settings
from models.feeds import open_items
from models.read.views import ItemQuery, list_rows
from models.tables import Person, Role, Status
from tests.factories import make_document, make_item, make_person, make_unit


def _world(session: Session) -> dict[str, Any]:
    own = make_unit(session, "市水利局")
    overseen = make_unit(session, "市交通局", leader_emails=["Fu@dc.gov.cn"])
    other = make_unit(session, "市财政局")
    document = make_document(session, "防汛意见")
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    items = {
        "own": make_item(session, document=document, lead_unit=own, supervisor=supervisor, deadline=date(2024, 7, 1)),
        "co": make_item(session, document=document, lead_unit=other, co_units=(overseen,), deadline=date(2024, 7, 2)),
        "other": make_item(session, document=document, lead_unit=other, supervisor=supervisor, deadline=date(2024, 7, 3)),
        "done": make_item(session, document=document, lead_unit=own, status=Status.SIGNED_OFF, deadline=date(2024, 5, 1)),
        "cancelled": make_item(session, document=document, lead_unit=own, status=Status.CANCELLED,
                               deadline=date(2024, 7, 4)),
    }
    people = {
        "leader": make_person(session, Role.LEADER, unit=own, email="fu@dc.gov.cn"),
        "officer": make_person(session, Role.OFFICER, unit=overseen),
        "supervisor": supervisor,
    }
    session.commit()
    return {"items": items, "people": people, "units": {"own": own, "overseen": overseen, "other": other}}


def _listed(session: Session, person: Person, now: Any) -> list[int]:
    rows = list_rows(session, person, ItemQuery(open=True), now, load_settings().tz, everything=True)
    return [row.item.id for row in rows]  # type: ignore[misc]


def test_a_leader_s_feed_is_the_open_items_they_see_their_own_unit_s_too(session: Session, now: Any) -> None:
    world = _world(session)
    leader = world["people"]["leader"]
    fed = [item.id for item, _, _ in open_items(session, person=leader)]
    assert fed == _listed(session, leader, now)
    assert fed == [world["items"]["own"].id, world["items"]["co"].id]


def test_an_officer_s_and_a_supervisor_s_feed_are_their_lists(session: Session, now: Any) -> None:
    world = _world(session)
    officer, supervisor = world["people"]["officer"], world["people"]["supervisor"]
    assert [item.id for item, _, _ in open_items(session, person=officer)] == _listed(session, officer, now)
    assert [item.id for item, _, _ in open_items(session, person=supervisor)] == [
        world["items"]["own"].id, world["items"]["other"].id]


def test_a_unit_s_feed_holds_its_open_items_as_lead_and_as_co_unit(session: Session) -> None:
    world = _world(session)
    assert [item.id for item, _, _ in open_items(session, unit=world["units"]["overseen"])] == [world["items"]["co"].id]
    assert [item.id for item, _, _ in open_items(session, unit=world["units"]["own"])] == [world["items"]["own"].id]
