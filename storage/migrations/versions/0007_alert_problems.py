"""One alert per problem: an alert's parent (the problem it is a consequence of),
the day of the event it reports (for the history horizon), and which items the
plant must release by QC before they ship.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("event_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alert_parent_id"), ["parent_id"], unique=False)
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qc_release", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("qc_release")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_parent_id"))
        batch_op.drop_column("event_on")
        batch_op.drop_column("parent_id")
