"""add profiles: timeline activity, trait observations, consent decisions, computed traits, settings

Revision ID: 9f0000000001
Revises: ab835d77028b
Create Date: 2026-11-24 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import BigIntKey, JSONDocument, UTCDateTime

revision: str = "9f0000000001"
down_revision: str | None = "ab835d77028b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "profile_activity",
        sa.Column("position", BigIntKey, autoincrement=False, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("properties", JSONDocument, nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_profile_activity"),
    )
    op.create_index("ix_profile_activity_event", "profile_activity", ["event", "position"])
    op.create_table(
        "profile_trait",
        sa.Column("position", BigIntKey, autoincrement=False, nullable=False),
        sa.Column("trait", sa.String(length=100), nullable=False),
        sa.Column("value", JSONDocument, nullable=False),
        sa.Column("text", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("observed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("position", "trait", name="pk_profile_trait"),
    )
    op.create_index("ix_profile_trait_trait_text", "profile_trait", ["trait", "text"])
    op.create_table(
        "profile_consent",
        sa.Column("position", BigIntKey, autoincrement=False, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("evidence", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("position", "channel", "purpose", name="pk_profile_consent"),
    )
    op.create_table(
        "profile_computed_trait",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("aggregation", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("property", sa.String(length=200), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=True),
        sa.Column("filters", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_profile_computed_trait"),
        sa.UniqueConstraint("name", name="uq_profile_computed_trait_name"),
    )
    op.create_table(
        "profile_computed_input",
        sa.Column("position", BigIntKey, autoincrement=False, nullable=False),
        sa.Column("trait_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("value", JSONDocument, nullable=True),
        sa.ForeignKeyConstraint(
            ["trait_id"],
            ["profile_computed_trait.id"],
            name="fk_profile_computed_input_trait_id_profile_computed_trait",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("position", "trait_id", name="pk_profile_computed_input"),
    )
    op.create_index("ix_profile_computed_input_trait_id", "profile_computed_input", ["trait_id"])
    op.create_table(
        "profile_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", JSONDocument, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_profile_settings"),
    )


def downgrade() -> None:
    op.drop_table("profile_settings")
    op.drop_index("ix_profile_computed_input_trait_id", table_name="profile_computed_input")
    op.drop_table("profile_computed_input")
    op.drop_table("profile_computed_trait")
    op.drop_table("profile_consent")
    op.drop_index("ix_profile_trait_trait_text", table_name="profile_trait")
    op.drop_table("profile_trait")
    op.drop_index("ix_profile_activity_event", table_name="profile_activity")
    op.drop_table("profile_activity")
