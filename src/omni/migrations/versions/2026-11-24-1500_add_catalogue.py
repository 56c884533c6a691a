"""add catalogue: sales channels, categories, products, variants, prices

Revision ID: ca7a10900001
Revises: ab835d77028b
Create Date: 2026-11-24 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import omni.db.types

revision: str = "ca7a10900001"
down_revision: str | None = "ab835d77028b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["category.id"], name=op.f("fk_category_parent_id_category")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("slug", name=op.f("uq_category_slug")),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", omni.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", omni.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_product_category_id_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("code", name=op.f("uq_product_code")),
    )
    op.create_table(
        "sales_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("stock_buffer", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["location.id"], name=op.f("fk_sales_channel_store_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_channel")),
        sa.UniqueConstraint("code", name=op.f("uq_sales_channel_code")),
    )
    op.create_table(
        "sales_channel_location",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["sales_channel.id"],
            name=op.f("fk_sales_channel_location_channel_id_sales_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_sales_channel_location_location_id_location")
        ),
        sa.PrimaryKeyConstraint("channel_id", "location_id", name=op.f("pk_sales_channel_location")),
    )
    op.create_table(
        "variant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("barcode", sa.String(length=32), nullable=True),
        sa.Column("size", sa.String(length=32), nullable=False),
        sa.Column("colour", sa.String(length=64), nullable=False),
        sa.Column("colour_en", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_variant_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variant")),
        sa.UniqueConstraint("barcode", name=op.f("uq_variant_barcode")),
        sa.UniqueConstraint("sku", name=op.f("uq_variant_sku")),
    )
    with op.batch_alter_table("variant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_variant_product_id"), ["product_id"], unique=False)

    op.create_table(
        "price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["sales_channel.id"], name=op.f("fk_price_channel_id_sales_channel")
        ),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_price_variant_id_variant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price")),
        sa.UniqueConstraint("variant_id", "channel_id", name=op.f("uq_price_variant_id_channel_id")),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safety_stock", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_column("safety_stock")

    op.drop_table("price")
    with op.batch_alter_table("variant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_variant_product_id"))

    op.drop_table("variant")
    op.drop_table("sales_channel_location")
    op.drop_table("sales_channel")
    op.drop_table("product")
    op.drop_table("category")
