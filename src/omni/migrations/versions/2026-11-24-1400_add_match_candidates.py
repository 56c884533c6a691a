"""add match candidates: the review queue of probabilistic matches, and evidence on merges

Revision ID: 1d000000002
Revises: 1d000000001
Create Date: 2026-11-24 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import BigIntKey, JSONDocument, UTCDateTime

revision: str = "1d000000002"
down_revision: str | None = "1d000000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("identity_merge", sa.Column("evidence", JSONDocument, nullable=True))
    op.create_table(
        "identity_match_candidate",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("profile_a", BigIntKey, nullable=False),
        sa.Column("profile_b", BigIntKey, nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("evidence", JSONDocument, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_a"],
            ["identity_profile.id"],
            name="fk_identity_match_candidate_profile_a_identity_profile",
        ),
        sa.ForeignKeyConstraint(
            ["profile_b"],
            ["identity_profile.id"],
            name="fk_identity_match_candidate_profile_b_identity_profile",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_match_candidate"),
        sa.UniqueConstraint("profile_a", "profile_b", name="uq_identity_match_candidate_profile_a"),
    )
    op.create_index("ix_identity_match_candidate_status", "identity_match_candidate", ["status"])
    op.create_index("ix_identity_match_candidate_profile_b", "identity_match_candidate", ["profile_b"])


def downgrade() -> None:
    op.drop_table("identity_match_candidate")
    op.drop_column("identity_merge", "evidence")
