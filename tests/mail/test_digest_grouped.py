"""The supervisors' unit tables come from grouped queries and equal, row for row, what the read side
gives for each supervisor's filter (`unit_rows(ItemFilter(supervisor=…))`), on a varied ledger."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from config.settings import load_settings
from models.read.due import Day
from models.read.figures import signed_off_since, supervisors_unit_rows, unit_rows
from models.read.filters import ItemFilter, conditions
from models.tables import Item, ItemAcknowledgement, ItemEvent, ItemPeriod, Person, Role, Status
from notifications.digest_context import compile_digests, unit_table
from tests.factories import make_document, make_item, make_person, make_unit

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
TODAY = date(2024, 6, 3)


def _varied_ledger(session: Session) -> list[str]:
    """Five units, three supervisors (and items with none), a current and an archived document; items
    of every state, overdue and due soon, some acknowledged, urged, recurring or signed off this week."""
    rng = random.Random(15)
    units = [make_unit(session, f"单位{n}", contact_emails=[f"u{n}@example.gov.cn"]) for n in range(5)]
    supervisors = [make_person(session, Role.SUPERVISOR, name=f"督查{n}", email=f"sup{n}@dc.gov.cn") for n in range(3)]
    current, archived = make_document(session, "现行文件"), make_document(session, "旧文件")
    archived.archived_at = NOW - timedelta(days=30)
    statuses = [Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED, Status.SIGNED_OFF, Status.CANCELLED]
    items = []
    for n in range(160):
        items.append(make_item(
            session, document=current if rng.random() < 0.85 else archived, lead_unit=rng.choice(units),
            co_units=(rng.choice(units),) if rng.random() < 0.3 else (),
            supervisor=rng.choice([*supervisors, None]), status=rng.choice(statuses), number=str(n),
            deadline=TODAY + timedelta(days=rng.randint(-40, 30)), frequency="每月" if n % 7 == 0 else None))
    session.flush()
    for item in items:
        if item.status == Status.SIGNED_OFF and rng.random() < 0.7:  # the others count from their import
            session.add(ItemEvent(item_id=item.id, kind="signed_off", at=NOW - timedelta(days=rng.randint(0, 14)),  # type: ignore[arg-type]
                                  actor_label="test", from_status="submitted", to_status="signed_off"))
        if rng.random() < 0.4:
            session.add(ItemAcknowledgement(item_id=item.id, unit_id=item.lead_unit_id, at=NOW - timedelta(days=3)))  # type: ignore[arg-type]
        for _ in range(rng.choice([0, 0, 1, 2])):
            session.add(ItemEvent(item_id=item.id, kind="urged", at=NOW - timedelta(days=1), actor_label="test"))  # type: ignore[arg-type]
        if item.frequency:
            for month in (3, 4, 5):
                session.add(ItemPeriod(item_id=item.id, starts=date(2024, month, 1), ends=date(2024, month, 28),  # type: ignore[arg-type]
                                       due=date(2024, month + 1, 5),
                                       fulfilled_at=NOW - timedelta(days=rng.randint(0, 90)) if rng.random() < 0.6 else None))
    session.commit()
    return [s.email for s in supervisors]


def test_grouped_unit_tables_equal_each_supervisor_s_filtered_figures(session: Session) -> None:
    emails = _varied_ledger(session)
    day = Day.at(NOW, load_settings().tz)
    since = NOW - timedelta(days=7)
    grouped = supervisors_unit_rows(session, day, since)
    people = {row.link.supervisor for rows, _ in grouped.values() for row in rows.values()}  # type: ignore[union-attr]
    assert people == set(emails), "every supervisor with items has a table"
    for supervisor_id, (rows, signed) in grouped.items():
        mine = ItemFilter(supervisor=session.get(Person, supervisor_id).email)  # type: ignore[union-attr]
        expected = unit_rows(session, day, mine)
        assert {k: (r.as_dict(), r.link) for k, r in rows.items()} == {k: (r.as_dict(), r.link) for k, r in expected.items()}
        assert signed == signed_off_since(session, Item.lead_unit_id,
                                          conditions(session, None, mine, day.today, day.soon_until), since)
    checked = [r for rows, _ in grouped.values() for r in rows.values()]
    assert any(r.overdue for r in checked) and any(r.urged for r in checked) and any(r.periods_due for r in checked)
    assert any(r.acknowledged for r in checked) and any(signed for _, signed in grouped.values())


def test_a_supervisor_s_digest_shows_the_unit_table_of_their_filter(session: Session) -> None:
    emails = _varied_ledger(session)
    settings = load_settings(delivery_window=False, base_url="https://duban.example")
    digests, _ = compile_digests(session, NOW, settings)
    day = Day.at(NOW, settings.tz)
    shown = {d.recipient: d.context["units"] for d in digests if d.audience == "supervisor"}
    assert set(shown) == set(emails)
    for email, units in shown.items():
        since = datetime.combine(TODAY - timedelta(days=7), datetime.min.time(), tzinfo=settings.tz)
        assert units == unit_table(session, day, ItemFilter(supervisor=email), since, settings.base_url)
