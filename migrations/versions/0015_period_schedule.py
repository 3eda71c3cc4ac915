"""The periods made before the period sweep existed are swept: their next_action_at was left NULL.

0011 made `item_period.next_action_at`, but until the sweep's periods pass came, nothing set it, and
a sweep reads only the periods whose next_action_at has come (models/period_sweep.py); a re-import
keeps a period whose due day has not moved as it is. So those periods were never reminded, flagged
or escalated.

Each such period (not reported, of an item not signed off or cancelled, with no period event
recorded for it yet: a period the sweep has already taken through its last threshold is NULL too,
and stays so) gets an instant before any threshold. That is how a new period is scheduled: it is
swept from its first threshold (`Schedule.first_period_action_at`), and a sweep plans the thresholds
from next_action_at on (models/schedule.py, `plan`), so any instant at or before the first one
gives the same events; this one needs neither the policy nor the calendar, which a migration does
not read. The next sweep then catches each period up as it does after downtime, and sets its
next_action_at to its next threshold.

Revision ID: 0015_period_schedule
Revises: 0014_imported_acknowledgement
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.db

revision: str = "0015_period_schedule"
down_revision: str | None = "0014_imported_acknowledgement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE_ANY_THRESHOLD = datetime(1970, 1, 1, tzinfo=UTC)
PERIOD_EVENTS = ("period_reminder", "period_missed", "period_escalated")


def upgrade() -> None:
    period = sa.table("item_period", sa.column("item_id", sa.Integer()), sa.column("due", sa.Date()),
                      sa.column("fulfilled_at", models.db.UTCDateTime()),
                      sa.column("next_action_at", models.db.UTCDateTime()))
    item = sa.table("item", sa.column("id", sa.Integer()), sa.column("status", sa.String()))
    event = sa.table("item_event", sa.column("item_id", sa.Integer()), sa.column("kind", sa.String()),
                     sa.column("payload", sa.JSON()))
    op.execute(
        period.update()
        .where(period.c.next_action_at.is_(None), period.c.fulfilled_at.is_(None),
               sa.exists().where(item.c.id == period.c.item_id, item.c.status.not_in(["signed_off", "cancelled"])),
               ~sa.exists().where(event.c.item_id == period.c.item_id, event.c.kind.in_(PERIOD_EVENTS),
                                  event.c.payload["period_due"].as_string() == sa.cast(period.c.due, sa.String)))
        .values(next_action_at=BEFORE_ANY_THRESHOLD)
    )


def downgrade() -> None:
    period = sa.table("item_period", sa.column("next_action_at", models.db.UTCDateTime()))
    op.execute(period.update().where(period.c.next_action_at == BEFORE_ANY_THRESHOLD).values(next_action_at=None))
