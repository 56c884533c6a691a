"""add channels: send intents and outcomes, push subscriptions, in-app inbox, message templates

Revision ID: c4a000000001
Revises: 9f0000000001
Create Date: 2026-11-24 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import BigIntKey, JSONDocument, UTCDateTime

revision: str = "c4a000000001"
down_revision: str | None = "9f0000000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_message",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", JSONDocument, nullable=False),
        sa.Column("context", JSONDocument, nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_message"),
        sa.UniqueConstraint("idempotency_key", name="uq_channel_message_idempotency_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_channel_message_due", "channel_message", ["status", "not_before"])
    op.create_index("ix_channel_message_profile_sent", "channel_message", ["profile_id", "sent_at"])
    op.create_index("ix_channel_message_provider_message_id", "channel_message", ["provider_message_id"])
    op.create_table(
        "channel_push_subscription",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=True),
        sa.Column("auth", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_channel_push_subscription"),
        sa.UniqueConstraint("endpoint", name="uq_channel_push_subscription_endpoint"),
    )
    op.create_index("ix_channel_push_subscription_profile_id", "channel_push_subscription", ["profile_id"])
    op.create_table(
        "channel_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_channel_inbox"),
        sa.UniqueConstraint("message_id", name="uq_channel_inbox_message_id"),
    )
    op.create_index("ix_channel_inbox_profile_id", "channel_inbox", ["profile_id", "id"])
    op.create_table(
        "channel_template",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("variants", JSONDocument, nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_template"),
        sa.UniqueConstraint("name", name="uq_channel_template_name"),
    )


def downgrade() -> None:
    op.drop_table("channel_template")
    op.drop_index("ix_channel_inbox_profile_id", table_name="channel_inbox")
    op.drop_table("channel_inbox")
    op.drop_index("ix_channel_push_subscription_profile_id", table_name="channel_push_subscription")
    op.drop_table("channel_push_subscription")
    op.drop_index("ix_channel_message_provider_message_id", table_name="channel_message")
    op.drop_index("ix_channel_message_profile_sent", table_name="channel_message")
    op.drop_index("ix_channel_message_due", table_name="channel_message")
    op.drop_table("channel_message")
