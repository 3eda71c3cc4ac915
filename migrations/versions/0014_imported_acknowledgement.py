"""签收 by the ledger import: an item imported as under way (办理中) is acknowledged, by no person.

Items imported as under way were never reminded to acknowledge (the import sets no
acknowledge_due_at for them), yet with no 签收 row they counted as 未签收 and pulled 签收率 down
to 0 for every historical ledger. The import now records their 签收 with no person; this makes
person_id nullable and records it for the items already imported that way and still without one.

Revision ID: 0014_imported_acknowledgement
Revises: 0013_schedule_owner
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_imported_acknowledgement"
down_revision: str | None = "0013_schedule_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("item_acknowledgement") as batch_op:
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=True)
    # Items imported as under way, never edited or re-imported with changes since (so the lead unit is
    # the one imported; the others stay 未签收 until their unit acknowledges), with no 签收 by it yet.
    op.execute(sa.text("""
        INSERT INTO item_acknowledgement (item_id, unit_id, person_id, at)
        SELECT item.id, item.lead_unit_id, NULL, item.created_at FROM item
        WHERE item.status = 'in_progress'
          AND EXISTS (SELECT 1 FROM item_event e WHERE e.item_id = item.id AND e.kind = 'imported'
                      AND e.to_status = 'in_progress')
          AND NOT EXISTS (SELECT 1 FROM item_event e WHERE e.item_id = item.id AND e.kind IN ('edited', 'updated'))
          AND NOT EXISTS (SELECT 1 FROM item_acknowledgement a
                          WHERE a.item_id = item.id AND a.unit_id = item.lead_unit_id)
    """))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM item_acknowledgement WHERE person_id IS NULL"))
    with op.batch_alter_table("item_acknowledgement") as batch_op:
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
