"""An alert's state beyond open and acknowledged: snoozed until a time, resolved with
a note, and who last changed it and when.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("state_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        for name in ("note", "snoozed_until", "state_at", "state_by"):
            batch_op.drop_column(name)
