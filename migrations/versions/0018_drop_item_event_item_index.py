"""Drop `ix_item_event_item_id`: `ix_item_event_item_at` (item_id, at, id, migration 0016) serves
every lookup by item.

Its first column is the item, so a search for one item's events (the timeline, the 催办 limit, the
scores) uses it as well as the single-column index did, and in time order. The single-column index
only cost space and a second B-tree to update for every event written.

Revision ID: 0018_drop_item_event_item_index
Revises: 0017_outbox_body
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0018_drop_item_event_item_index"
down_revision: str | None = "0017_outbox_body"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_item_event_item_id", table_name="item_event")


def downgrade() -> None:
    op.create_index("ix_item_event_item_id", "item_event", ["item_id"])
