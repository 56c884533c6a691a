"""add journeys: journeys and their versions, one run row per person in a journey, the steps taken

Revision ID: 70a000000001
Revises: 9f0000000001
Create Date: 2026-11-24 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import BigIntKey, JSONDocument, UTCDateTime

revision: str = "70a000000001"
down_revision: str | None = "9f0000000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journey",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey")),
        sa.UniqueConstraint("name", name=op.f("uq_journey_name")),
    )
    op.create_table(
        "journey_run",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_key", sa.String(length=300), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("entered_position", sa.BigInteger(), nullable=False),
        sa.Column("keys", JSONDocument, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("wake_at", UTCDateTime(), nullable=True),
        sa.Column("wait_key", sa.String(length=300), nullable=True),
        sa.Column("goal_key", sa.String(length=300), nullable=True),
        sa.Column("cohort", sa.String(length=16), nullable=True),
        sa.Column("converted_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journey.id"], name="fk_journey_run_journey_id_journey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_run")),
        sa.UniqueConstraint("journey_id", "entry_key", name="uq_journey_run_journey_id_entry_key"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("journey_run", schema=None) as batch_op:
        batch_op.create_index("ix_journey_run_goal_key", ["goal_key"], unique=False)
        batch_op.create_index("ix_journey_run_journey_node", ["journey_id", "state", "node"], unique=False)
        batch_op.create_index("ix_journey_run_journey_profile", ["journey_id", "profile_id"], unique=False)
        batch_op.create_index("ix_journey_run_wait_key", ["wait_key"], unique=False)
        batch_op.create_index("ix_journey_run_wake_at", ["wake_at"], unique=False)

    op.create_table(
        "journey_version",
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "definition",
            JSONDocument,
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journey.id"], name="fk_journey_version_journey_id_journey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("journey_id", "version", name=op.f("pk_journey_version")),
    )
    op.create_table(
        "journey_step",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=300), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["journey_run.id"], name="fk_journey_step_run_id_journey_run", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_step")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("journey_step", schema=None) as batch_op:
        batch_op.create_index("ix_journey_step_journey_node", ["journey_id", "node"], unique=False)
        batch_op.create_index("ix_journey_step_run_id", ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("journey_step", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_step_run_id")
        batch_op.drop_index("ix_journey_step_journey_node")

    op.drop_table("journey_step")
    op.drop_table("journey_version")
    with op.batch_alter_table("journey_run", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_run_wake_at")
        batch_op.drop_index("ix_journey_run_wait_key")
        batch_op.drop_index("ix_journey_run_journey_profile")
        batch_op.drop_index("ix_journey_run_journey_node")
        batch_op.drop_index("ix_journey_run_goal_key")

    op.drop_table("journey_run")
    op.drop_table("journey")
