"""An unfiltered item list on SQLite is read on the DBAPI connection (models/read/views.py,
`_sqlite_unfiltered_page`): the same rows, marks and count as the general path through SQLAlchemy,
for every kind of person, sort, page and archive."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from models.read import views
from models.read.filters import plain_rows, visible_units
from models.read.views import SORTS, ItemPage, ItemQuery, page_of_items
from models.tables import Item, ItemAcknowledgement, ItemEvent, Person, Role, Status
from tests.factories import make_document, make_item, make_person, make_unit

NOW = datetime(2024, 7, 3, 1, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def _ledger(session: Session) -> dict[str, Person | None]:
    units = [make_unit(session, f"单位{n}", code=f"U{n}", leader_emails=[f"leader{n % 2}@dc.gov.cn"])
             for n in range(5)]
    documents = [make_document(session, "新时代意见"), make_document(session, "建设方案"),
                 make_document(session, "旧方案", archived_at=NOW)]
    statuses = list(Status)
    items: list[Item] = []
    for n in range(45):
        items.append(make_item(session, document=documents[n % 3], lead_unit=units[n % 4],
                               co_units=(units[(n + 1) % 5],) if n % 3 == 0 else (),
                               deadline=date(2024, 6, 20) + timedelta(days=n // 2), status=statuses[n % len(statuses)],
                               escalation_level=n % 3, title=f"<任务> & {n}"))
    for n, item in enumerate(items):
        if n % 4 == 1:
            session.add(ItemAcknowledgement(item_id=item.id, unit_id=item.lead_unit_id, at=NOW))
        for _ in range(n % 3):
            session.add(ItemEvent(item_id=item.id, kind="urged", at=NOW, actor_label="sup"))
    people: dict[str, Person | None] = {
        "nobody": None,
        "supervisor": make_person(session, Role.SUPERVISOR),
        "officer": make_person(session, Role.OFFICER, units[1]),
        "co-unit officer": make_person(session, Role.OFFICER, units[4]),
        "officer of no unit": make_person(session, Role.OFFICER),
        "leader": make_person(session, Role.LEADER, units[2], email="leader1@dc.gov.cn"),
    }
    session.commit()
    return people


def _general(session: Session, person: Person | None, query: ItemQuery) -> ItemPage:
    original = views._sqlite_unfiltered_page
    views._sqlite_unfiltered_page = lambda *args: None  # type: ignore[assignment]
    try:
        return page_of_items(session, person, query, NOW, TZ)
    finally:
        views._sqlite_unfiltered_page = original


def test_an_unfiltered_list_reads_as_through_sqlalchemy(session: Session, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the plain reading is SQLite's")
    people = _ledger(session)
    plain_pages = 0
    for who, person in people.items():
        for sort in [*SORTS, "unknown"]:
            for archived in (False, True):
                for page in (1, 2, 3, 9):
                    query = ItemQuery(sort=sort, archived=archived, page=page, per_page=7)
                    connection = plain_rows(session)
                    plain = views._sqlite_unfiltered_page(connection, person, query, views.Day.at(NOW, TZ))
                    general = _general(session, person, query)
                    if plain is None:
                        assert who == "officer of no unit"
                    else:
                        plain_pages += 1
                        assert plain == general, (who, query)
                    assert page_of_items(session, person, query, NOW, TZ) == general, (who, query)
                    if page == 1 and who != "officer of no unit":
                        assert general.rows, (who, query)
    assert plain_pages == 5 * 7 * 2 * 4
    marks = [row for row in _general(session, None, ItemQuery(per_page=100)).rows if row.urged or row.unacknowledged]
    assert marks and all(type(row.item.deadline) is date for row in marks)


def test_a_filtered_list_takes_the_general_path(session: Session) -> None:
    people = _ledger(session)
    query = ItemQuery(overdue=True)
    assert not views._unfiltered(query) and views._unfiltered(ItemQuery(archived=True, sort="level", page=3))
    assert page_of_items(session, people["supervisor"], query, NOW, TZ) == _general(session, people["supervisor"], query)
    assert page_of_items(session, people["officer"], replace(query, unit="单位1"), NOW, TZ).rows


def test_visible_units_read_plainly_are_the_same(session: Session) -> None:
    from models.read import filters

    people = _ledger(session)
    for person in people.values():
        through_sqlalchemy = tuple(plain_rows(session).execute(filters._SCOPED_UNIT_NAMES, {
            "units": sorted(filters.scope_units(person) or ())}).scalars().all())
        if filters.scope_units(person) is not None:
            assert visible_units(session, person) == through_sqlalchemy
    assert "单位1" in visible_units(session, people["officer"])
    assert visible_units(session, people["co-unit officer"]) == ("单位1", "单位2", "单位3", "单位4")  # its items lead units


def test_a_filters_unit_read_plainly_is_match_units(session: Session) -> None:
    """The unit a list's filter names (filters._unit_named): match_unit's answer for names, codes, parts
    of them, another case, and a name that is another unit's code (both rows: match_unit chooses)."""
    from models.errors import InvalidInput
    from models.read.filters import _unit_named, match_unit

    _ledger(session)
    make_unit(session, "U1", code="X9")  # its name is 单位1's code
    make_unit(session, "发改委", code="FGW")
    session.commit()
    for text in ("单位3", "U2", " U2 ", "U1", "X9", "发改委", "fgw", "FGW", "改委", "单位", "无此单位"):
        try:
            expected = match_unit(session, text)
        except InvalidInput as exc:
            with pytest.raises(InvalidInput) as raised:
                _unit_named(session, text)
            assert raised.value.code == exc.code, text
        else:
            assert _unit_named(session, text) == (expected.id, expected.name), text
    page = page_of_items(session, None, ItemQuery(unit="U3"), NOW, TZ)
    assert page.unit == "单位3" and page.rows and page == _general(session, None, ItemQuery(unit="U3"))
