"""The due rules as people read them: overdue, due soon, 未签收, and every SQL condition for them.

models/deadlines.py holds the pure maths (an item is overdue from 00:00 local of the day after
its deadline); this module turns it into the conditions lists and counts filter on and the
traffic lights pages show. Due soon = still worked on, deadline within the default policy's first
reminder (7 working days as shipped) on the working-day calendar. Nothing else decides either.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists
from sqlmodel import col, select

from models.deadlines import ACTIVE_STATUSES
from models.read.day import DUE_SOON_WORKDAYS as DUE_SOON_WORKDAYS
from models.read.day import Day as Day
from models.read.day import ReminderWindow as ReminderWindow
from models.read.day import due_soon_until as due_soon_until
from models.read.day import light as light
from models.read.day import load_reminder_window as load_reminder_window
from models.read.day import reminder_window as reminder_window
from models.read.day import today_in as today_in
from models.tables import Item, ItemAcknowledgement, Status


def active() -> Any:
    """Still worked on by the units (not submitted, signed off or cancelled)."""
    return col(Item.status).in_(list(ACTIVE_STATUSES))


def overdue_condition(today: date) -> Any:
    """Overdue on local day `today`: worked on, deadline day ended (same as deadlines.is_overdue)."""
    return and_(active(), col(Item.deadline) < today)


def lead_acknowledged() -> Any:
    """The item's lead unit (its current one) has acknowledged it (签收, models/lifecycle.py)."""
    return exists(select(ItemAcknowledgement.item_id).where(
        ItemAcknowledgement.item_id == Item.id, ItemAcknowledgement.unit_id == Item.lead_unit_id))


def unacknowledged_condition() -> Any:
    """未签收: still worked on (assigned or in progress, the states 签收 is possible in) and not
    acknowledged by its lead unit. A co-unit's 签收 does not count; a new lead unit acknowledges afresh."""
    return and_(active(), ~lead_acknowledged())


def due_soon_condition(today: date, until: date) -> Any:
    """Due soon: worked on, deadline from `today` to `until` (see ReminderWindow.until)."""
    return and_(active(), col(Item.deadline) >= today, col(Item.deadline) <= until)


UNFINISHED_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED)


def unfinished_condition() -> Any:
    """Not signed off and not cancelled: what the figures call open (在办)."""
    return col(Item.status).in_(list(UNFINISHED_STATUSES))
