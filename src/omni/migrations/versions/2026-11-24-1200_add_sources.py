"""add sources: the touchpoints that send events, each with a hashed write key

Revision ID: c0ffee000001
Revises: ab835d77028b
Create Date: 2026-11-24 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import UTCDateTime

revision: str = "c0ffee000001"
down_revision: str | None = "ab835d77028b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("store_code", sa.String(length=64), nullable=True),
        sa.Column("default_channel", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_source")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_event_source_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_event_source_name")),
    )


def downgrade() -> None:
    op.drop_table("event_source")
