"""Logistic units: what each SSCC (pallet, case) holds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("child_sscc", sa.String(length=18), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("packed_at", sa.DateTime(), nullable=False),
        sa.Column("unpacked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("packing", schema=None) as batch_op:
        batch_op.create_index("ix_packing_sscc", ["sscc"], unique=False)
        batch_op.create_index("ix_packing_lot_id", ["lot_id"], unique=False)
    # A unit holding another unit has no lot: coalescing keeps its key unique.
    op.create_index(
        "uq_packing",
        "packing",
        ["sscc", sa.text("coalesce(lot_id, 0)"), "child_sscc", "packed_at"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("packing")
