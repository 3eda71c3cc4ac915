"""催办 at most once in `urge_interval_hours` per item and lead unit, whichever interface urges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from models.approvals import Chosen, decide
from models.errors import InvalidTransition
from models.lifecycle import Action, apply, item_ref
from models.tables import Document, ItemEvent, Notification, Role
from tests.factories import make_item, make_person, make_unit
from web.i18n import error_message

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def cast(session: Session) -> dict[str, Any]:
    lead = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"])
    people = {"sup": make_person(session, Role.SUPERVISOR, name="李督查", email="sup@dc.gov.cn"),
              "leader": make_person(session, Role.LEADER)}
    item = make_item(session, lead_unit=lead, number="3")
    other = make_item(session, document=session.get(Document, item.document_id), lead_unit=lead, number="4")
    session.commit()
    return {"item": item, "other": other, "lead": lead, **people}


def _urges(session: Session) -> tuple[int, int]:
    return (session.exec(select(func.count()).select_from(ItemEvent).where(ItemEvent.kind == "urged")).one(),
            session.exec(select(func.count()).select_from(Notification).where(Notification.kind == "urged")).one())


def test_a_second_urge_within_a_day_is_refused_naming_the_last_one(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    apply(session, item, Action.URGE, cast["sup"], NOW, text="请本周内报送进展")
    session.commit()
    version = item.version
    with pytest.raises(InvalidTransition) as again:  # by anyone: the unit was urged
        apply(session, item, Action.URGE, cast["leader"], NOW + timedelta(hours=23, minutes=59), text="抓紧推进")
    session.rollback()
    assert again.value.code == "urge.too_soon"
    assert again.value.params == {"ref": item_ref(session, item),
                                  "by": "李督查 <sup@dc.gov.cn> (supervisor)", "at": "2024-06-03 09:00", "hours": "24"}
    assert f"{item_ref(session, item)} was urged by 李督查 <sup@dc.gov.cn> (supervisor) at 2024-06-03 09:00" in str(again.value)
    assert error_message(again.value, "zh-CN").endswith("：李督查（督办人）已于2024-06-03 09:00催办，同一单位24小时内只催办一次，本次未催办。")
    assert _urges(session) == (1, 1) and item.version == version, "a refused urge changes nothing"
    apply(session, item, Action.URGE, cast["leader"], NOW + timedelta(hours=24), text="抓紧推进")
    assert _urges(session) == (2, 2)


def test_the_limit_is_per_item_and_a_new_lead_unit_may_be_urged_at_once(session: Session, cast: dict[str, Any]) -> None:
    item, other = cast["item"], cast["other"]
    apply(session, item, Action.URGE, cast["sup"], NOW, text="请推进")
    apply(session, other, Action.URGE, cast["sup"], NOW, text="请推进")
    item.lead_unit_id = make_unit(session, "市商务局").id  # type: ignore[assignment]
    session.flush()
    apply(session, item, Action.URGE, cast["sup"], NOW + timedelta(minutes=5), text="请新牵头单位推进")
    assert _urges(session) == (3, 3)


def test_a_bulk_urge_reports_the_items_it_skipped(session: Session, cast: dict[str, Any]) -> None:
    item, other = cast["item"], cast["other"]
    apply(session, item, Action.URGE, cast["sup"], NOW, text="请推进")
    session.commit()
    chosen = [Chosen(item.id, item.version), Chosen(other.id, other.version)]  # type: ignore[arg-type]
    outcomes = decide(session, Action.URGE, cast["sup"], NOW + timedelta(hours=1), chosen, "请本周报送")
    assert [o.done for o in outcomes] == [False, True]
    assert outcomes[0].error is not None and outcomes[0].error.code == "urge.too_soon"
    assert _urges(session) == (2, 2)


def test_no_limit_when_the_interval_is_zero(session: Session, cast: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("DUBAN_URGE_INTERVAL_HOURS", "0")
    get_settings.cache_clear()
    for minutes in (0, 1):
        apply(session, cast["item"], Action.URGE, cast["sup"], NOW + timedelta(minutes=minutes), text="请推进")
    assert _urges(session) == (2, 2)
