"""add segments: definitions with versions, current members, manual tags, webhook exports

Revision ID: 5e9e00000001
Revises: 9f0000000001
Create Date: 2026-11-24 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import BigIntKey, JSONDocument, UTCDateTime

revision: str = "5e9e00000001"
down_revision: str | None = "9f0000000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("predefined", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("computed_version", sa.Integer(), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_segment"),
        sa.UniqueConstraint("key", name="uq_segment_key"),
    )
    op.create_table(
        "segment_tag",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("tagged_profile_id", BigIntKey, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "tag", name="pk_segment_tag"),
    )
    op.create_index("ix_segment_tag_tag", "segment_tag", ["tag"])
    op.create_table(
        "segment_export",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segment.id"], name="fk_segment_export_segment_id_segment", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_segment_export"),
    )
    op.create_table(
        "segment_member",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", BigIntKey, autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segment.id"], name="fk_segment_member_segment_id_segment", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("segment_id", "profile_id", name="pk_segment_member"),
    )
    op.create_index("ix_segment_member_profile_id", "segment_member", ["profile_id"])
    op.create_table(
        "segment_version",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("definition", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segment.id"], name="fk_segment_version_segment_id_segment", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("segment_id", "version", name="pk_segment_version"),
    )


def downgrade() -> None:
    op.drop_table("segment_version")
    op.drop_index("ix_segment_member_profile_id", table_name="segment_member")
    op.drop_table("segment_member")
    op.drop_table("segment_export")
    op.drop_index("ix_segment_tag_tag", table_name="segment_tag")
    op.drop_table("segment_tag")
    op.drop_table("segment")
