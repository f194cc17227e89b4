"""Delivering alerts to Slack exactly once, and remembering events already handled.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("message_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=100), nullable=True))
    op.create_table(
        "handled_event",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("handled_event")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        for name in ("acknowledged_by", "last_error", "next_attempt_at", "message_ts", "channel"):
            batch_op.drop_column(name)
