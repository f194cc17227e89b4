"""Sensor readings kept with lots, and items' storage temperature limits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("temperature_min", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("temperature_max", sa.Float(), nullable=True))
    op.create_table(
        "sensor_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sensor_reading", schema=None) as batch_op:
        batch_op.create_index("ix_sensor_reading_lot_id", ["lot_id"], unique=False)
    # A reading of no lot in particular has no lot id: coalescing keeps its key unique.
    op.create_index(
        "uq_sensor_reading",
        "sensor_reading",
        [sa.text("coalesce(lot_id, 0)"), "type", "at", "device"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("sensor_reading")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("temperature_max")
        batch_op.drop_column("temperature_min")
