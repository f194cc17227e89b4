"""Initial schema: master data, lots, genealogy, events, alerts, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("entity", sa.String(length=48), nullable=False),
        sa.Column("entity_key", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("uom", sa.String(length=16), nullable=False),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sku"),
    )
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_gtin"), ["gtin"], unique=False)

    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "formula_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("ingredients", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("formula_version", schema=None) as batch_op:
        batch_op.create_index("uq_formula_version", ["item_id", "version"], unique=True)

    op.create_table(
        "lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("produced_on", sa.Date(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["party.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lot_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_lot_revision"), ["revision"], unique=False)
        batch_op.create_index(batch_op.f("ix_lot_item_id"), ["item_id"], unique=False)
        batch_op.create_index("uq_lot_code_item", ["lot_code", "item_id"], unique=True)

    op.create_table(
        "adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.create_index("uq_adjustment", ["lot_id", "at", "reason"], unique=True)

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("placed_by", sa.String(length=100), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("released_by", sa.String(length=100), nullable=True),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index("uq_hold", ["lot_id", "placed_at"], unique=True)

    op.create_table(
        "link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("input_lot_id", sa.Integer(), nullable=False),
        sa.Column("output_lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.Column("work_order", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["input_lot_id"],
            ["lot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["output_lot_id"],
            ["lot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_input_lot_id"), ["input_lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_link_output_lot_id"), ["output_lot_id"], unique=False)

    op.create_table(
        "qc_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("test", sa.String(length=100), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=True),
        sa.Column("spec", sa.String(length=100), nullable=True),
        sa.Column("performed_by", sa.String(length=100), nullable=True),
        sa.Column("signed_off_by", sa.String(length=100), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("qc_check", schema=None) as batch_op:
        batch_op.create_index("uq_qc_check", ["lot_id", "test", "at"], unique=True)

    op.create_table(
        "receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("supplier_lot", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["party.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["party.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipt_supplier_id"), ["supplier_id"], unique=False)
        batch_op.create_index(
            "uq_receipt", ["lot_id", "supplier_id", "received_on", "reference"], unique=True
        )

    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("from_site_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("shipped_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_site_id"],
            ["party.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["party.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_party_id"), ["party_id"], unique=False)
        batch_op.create_index(
            "uq_shipment", ["lot_id", "party_id", "shipped_on", "reference"], unique=True
        )

    # A consumption may have no recorded time; coalescing keeps its natural key unique.
    op.create_index(
        "uq_link",
        "link",
        [
            "output_lot_id",
            "input_lot_id",
            "work_order",
            sa.text("coalesce(at, '1970-01-01 00:00:00')"),
        ],
        unique=True,
    )
    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    message = "audit_log is append-only"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{operation.lower()} BEFORE {operation} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index("uq_link", table_name="link")
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index("uq_shipment")
        batch_op.drop_index(batch_op.f("ix_shipment_party_id"))

    op.drop_table("shipment")
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.drop_index("uq_receipt")
        batch_op.drop_index(batch_op.f("ix_receipt_supplier_id"))

    op.drop_table("receipt")
    with op.batch_alter_table("qc_check", schema=None) as batch_op:
        batch_op.drop_index("uq_qc_check")

    op.drop_table("qc_check")
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_output_lot_id"))
        batch_op.drop_index(batch_op.f("ix_link_input_lot_id"))

    op.drop_table("link")
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_index("uq_hold")

    op.drop_table("hold")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_lot_id"))

    op.drop_table("alert")
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_index("uq_adjustment")

    op.drop_table("adjustment")
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_index("uq_lot_code_item")
        batch_op.drop_index(batch_op.f("ix_lot_item_id"))
        batch_op.drop_index(batch_op.f("ix_lot_revision"))
        batch_op.drop_index(batch_op.f("ix_lot_expires_on"))

    op.drop_table("lot")
    with op.batch_alter_table("formula_version", schema=None) as batch_op:
        batch_op.drop_index("uq_formula_version")

    op.drop_table("formula_version")
    op.drop_table("party")
    op.drop_table("meta")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_gtin"))

    op.drop_table("item")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
