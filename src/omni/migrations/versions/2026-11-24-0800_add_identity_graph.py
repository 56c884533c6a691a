"""add identity graph: profiles, identifiers, merges with evidence, conflicts, event attribution, rules

Revision ID: 1d000000001
Revises: ab835d77028b
Create Date: 2026-11-24 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import BigIntKey, JSONDocument, UTCDateTime

revision: str = "1d000000001"
down_revision: str | None = "ab835d77028b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_profile",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("merged_into_id", BigIntKey, nullable=True),
        sa.Column("merged_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["identity_profile.id"],
            name="fk_identity_profile_merged_into_id_identity_profile",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_profile"),
    )
    op.create_index("ix_identity_profile_merged_into_id", "identity_profile", ["merged_into_id"])
    op.create_table(
        "identity_identifier",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("profile_id", BigIntKey, nullable=False),
        sa.Column("born_profile_id", BigIntKey, nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("first_message_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["identity_profile.id"], name="fk_identity_identifier_profile_id_identity_profile"
        ),
        sa.ForeignKeyConstraint(
            ["born_profile_id"],
            ["identity_profile.id"],
            name="fk_identity_identifier_born_profile_id_identity_profile",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_identifier"),
        sa.UniqueConstraint("kind", "value", name="uq_identity_identifier_kind_value"),
    )
    op.create_index("ix_identity_identifier_profile_id", "identity_identifier", ["profile_id"])
    op.create_index("ix_identity_identifier_born_profile_id", "identity_identifier", ["born_profile_id"])
    op.create_table(
        "identity_merge",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("survivor_id", BigIntKey, nullable=False),
        sa.Column("absorbed_id", BigIntKey, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("event_position", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.Column("undone_into_id", BigIntKey, nullable=True),
        sa.Column("undone_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["identity_profile.id"], name="fk_identity_merge_survivor_id_identity_profile"
        ),
        sa.ForeignKeyConstraint(
            ["absorbed_id"], ["identity_profile.id"], name="fk_identity_merge_absorbed_id_identity_profile"
        ),
        sa.ForeignKeyConstraint(
            ["undone_into_id"],
            ["identity_profile.id"],
            name="fk_identity_merge_undone_into_id_identity_profile",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_merge"),
    )
    op.create_index("ix_identity_merge_survivor_id", "identity_merge", ["survivor_id"])
    op.create_index("ix_identity_merge_absorbed_id", "identity_merge", ["absorbed_id"])
    op.create_table(
        "identity_conflict",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("profile_id", BigIntKey, nullable=False),
        sa.Column("other_profile_id", BigIntKey, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["identity_profile.id"], name="fk_identity_conflict_profile_id_identity_profile"
        ),
        sa.ForeignKeyConstraint(
            ["other_profile_id"],
            ["identity_profile.id"],
            name="fk_identity_conflict_other_profile_id_identity_profile",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_conflict"),
        sa.UniqueConstraint("message_id", "kind", "value", name="uq_identity_conflict_message_id"),
    )
    op.create_index("ix_identity_conflict_profile_id", "identity_conflict", ["profile_id"])
    op.create_table(
        "identity_event",
        sa.Column("position", BigIntKey, autoincrement=False, nullable=False),
        sa.Column("identifier_id", BigIntKey, nullable=False),
        sa.ForeignKeyConstraint(
            ["identifier_id"],
            ["identity_identifier.id"],
            name="fk_identity_event_identifier_id_identity_identifier",
        ),
        sa.PrimaryKeyConstraint("position", name="pk_identity_event"),
    )
    op.create_index("ix_identity_event_identifier_id", "identity_event", ["identifier_id"])
    op.create_table(
        "identity_rules",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", JSONDocument, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_rules"),
    )


def downgrade() -> None:
    op.drop_table("identity_rules")
    op.drop_table("identity_event")
    op.drop_table("identity_conflict")
    op.drop_table("identity_merge")
    op.drop_table("identity_identifier")
    op.drop_table("identity_profile")
