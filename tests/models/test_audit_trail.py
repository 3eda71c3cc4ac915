"""The audit trail (item_event) cannot be emptied: TRUNCATE is refused on PostgreSQL like UPDATE and DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from models.db import is_postgres
from models.lifecycle import Action, apply
from models.tables import ItemEvent, Role
from tests.factories import make_item, make_person, make_unit


# CASCADE: without it PostgreSQL refuses already for the tables that reference item_event.
@pytest.mark.parametrize("statement", ["TRUNCATE item_event CASCADE", "TRUNCATE item_event RESTART IDENTITY CASCADE",
                                       "TRUNCATE item CASCADE"])
def test_truncate_of_the_audit_trail_is_refused(session, statement, now):
    if not is_postgres(session):
        pytest.skip("SQLite has no TRUNCATE (its DELETE trigger refuses an unqualified DELETE too)")
    unit = make_unit(session, "市发改委")
    lead = make_person(session, Role.OFFICER, unit)
    apply(session, make_item(session, lead_unit=unit), Action.REPORT_PROGRESS, lead, now, text="已召开协调会")
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert session.exec(select(func.count()).select_from(ItemEvent)).one() == 1
