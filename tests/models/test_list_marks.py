"""A whole list (export, `duban items`) marks its rows 未签收 and 催办 as its pages do.

A whole list asks for the marks with the list's own conditions, a page with its ids
(models/read/views.py, `_marks_within` and `_marks`); both must give every row the same marks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models.read.filters import UnitRole
from models.read.views import ItemQuery, list_rows
from models.tables import Item, ItemAcknowledgement, ItemEvent, Role, Status
from tests.factories import make_document, make_item, make_person, make_unit

NOW = datetime(2024, 7, 3, 1, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def test_a_whole_list_and_its_pages_mark_the_same_rows(session: Session) -> None:
    units = [make_unit(session, f"单位{n}", code=f"U{n}") for n in range(4)]
    documents = [make_document(session, "新时代意见"), make_document(session, "建设方案")]
    statuses = [Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED, Status.SIGNED_OFF, Status.CANCELLED]
    items: list[Item] = []
    for n in range(40):
        items.append(make_item(session, document=documents[n % 2], lead_unit=units[n % 4],
                               co_units=(units[(n + 1) % 4],) if n % 3 == 0 else (),
                               deadline=date(2024, 6, 20) + timedelta(days=n), status=statuses[n % 5]))
    for n, item in enumerate(items):
        if n % 4 == 1:  # acknowledged by its lead unit
            session.add(ItemAcknowledgement(item_id=item.id, unit_id=item.lead_unit_id, at=NOW))
        if n % 6 == 2:  # acknowledged by a co-unit only: still 未签收
            session.add(ItemAcknowledgement(item_id=item.id, unit_id=units[(n + 1) % 4].id, at=NOW))
        for _ in range(n % 3):
            session.add(ItemEvent(item_id=item.id, kind="urged", at=NOW, actor_label="sup"))
    session.add(ItemEvent(item_id=items[0].id, kind="reminded", at=NOW, actor_label="sweep"))
    officer = make_person(session, Role.OFFICER, units[1])
    session.commit()
    marked = 0
    for person in (None, officer):
        for query in (ItemQuery(), ItemQuery(unacknowledged=True), ItemQuery(unit="单位2", unit_role=UnitRole.CO),
                      ItemQuery(overdue=True, sort="level"), ItemQuery(document="建设方案", sort="-deadline")):
            whole = list_rows(session, person, query, NOW, TZ, everything=True)
            pages = [row for page in range(1, 8) for row in
                     list_rows(session, person, ItemQuery(**{**query.__dict__, "page": page, "per_page": 7}), NOW, TZ)]
            assert whole, (person, query)
            assert [(r.item.id, r.unacknowledged, r.urged) for r in whole] == \
                [(r.item.id, r.unacknowledged, r.urged) for r in pages], (person, query)
            marked += sum(1 for r in whole if r.unacknowledged) + sum(r.urged for r in whole)
    assert marked > 0
