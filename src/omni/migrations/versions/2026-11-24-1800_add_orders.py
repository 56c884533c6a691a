"""add orders: orders, their lines, state history, returns and returned items

Revision ID: 0de700000001
Revises: ca7a10900001
Create Date: 2026-11-24 10:01:15.178354+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import omni.db.types
from omni.db.types import JSONDocument

revision: str = "0de700000001"
down_revision: str | None = "ca7a10900001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_order",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("channel_kind", sa.String(length=16), nullable=False),
        sa.Column("fulfilment", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("store_code", sa.String(length=64), nullable=True),
        sa.Column("pickup_code", sa.String(length=16), nullable=True),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("anonymous_id", sa.String(length=200), nullable=True),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column(
            "ship_to",
            JSONDocument,
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("discount_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("total_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "sourcing",
            JSONDocument,
            nullable=False,
        ),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("placed_at", omni.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ready_at", omni.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", omni.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_order")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_customer_order_idempotency_key")),
        sa.UniqueConstraint("number", name=op.f("uq_customer_order_number")),
    )
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.create_index("ix_customer_order_placed_at", ["placed_at"], unique=False)
        batch_op.create_index("ix_customer_order_store_state", ["store_code", "state"], unique=False)

    op.create_table(
        "customer_order_line",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("returned_quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["customer_order.id"], name=op.f("fk_customer_order_line_order_id_customer_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_order_line")),
        sa.UniqueConstraint("order_id", "line_no", name=op.f("uq_customer_order_line_order_id_line_no")),
    )
    with op.batch_alter_table("customer_order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_order_line_order_id"), ["order_id"], unique=False)

    op.create_table(
        "customer_order_return",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("store_code", sa.String(length=64), nullable=False),
        sa.Column("refund_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("by", sa.String(length=254), nullable=False),
        sa.Column("created_at", omni.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["customer_order.id"], name=op.f("fk_customer_order_return_order_id_customer_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_order_return")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_customer_order_return_idempotency_key")),
    )
    with op.batch_alter_table("customer_order_return", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_order_return_order_id"), ["order_id"], unique=False)

    op.create_table(
        "customer_order_state_change",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=254), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", omni.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["customer_order.id"],
            name=op.f("fk_customer_order_state_change_order_id_customer_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_order_state_change")),
    )
    with op.batch_alter_table("customer_order_state_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_order_state_change_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "customer_order_return_item",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("return_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=16), nullable=False),
        sa.Column("refund_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["customer_order_return.id"],
            name=op.f("fk_customer_order_return_item_return_id_customer_order_return"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_order_return_item")),
    )
    with op.batch_alter_table("customer_order_return_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_order_return_item_return_id"), ["return_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_order_return_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_order_return_item_return_id"))

    op.drop_table("customer_order_return_item")
    with op.batch_alter_table("customer_order_state_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_order_state_change_order_id"))

    op.drop_table("customer_order_state_change")
    with op.batch_alter_table("customer_order_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_order_return_order_id"))

    op.drop_table("customer_order_return")
    with op.batch_alter_table("customer_order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_order_line_order_id"))

    op.drop_table("customer_order_line")
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_order_store_state")
        batch_op.drop_index("ix_customer_order_placed_at")

    op.drop_table("customer_order")
