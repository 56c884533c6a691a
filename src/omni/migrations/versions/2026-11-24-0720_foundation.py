"""foundation: event log, consumer cursors, daily counts, locations, staff accounts

Revision ID: ab835d77028b
Revises:
Create Date: 2026-11-24 07:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.db.types import BigIntKey, JSONDocument, UTCDateTime

revision: str = "ab835d77028b"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column("position", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("anonymous_id", sa.String(length=200), nullable=True),
        sa.Column("group_id", sa.String(length=200), nullable=True),
        sa.Column("previous_id", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("properties", JSONDocument, nullable=False),
        sa.Column("traits", JSONDocument, nullable=False),
        sa.Column("context", JSONDocument, nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("original_timestamp", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_event_log")),
        sa.UniqueConstraint("message_id", name=op.f("uq_event_log_message_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_event_log_anonymous_id", "event_log", ["anonymous_id"])
    op.create_index("ix_event_log_event_timestamp", "event_log", ["event", "timestamp"])
    op.create_index("ix_event_log_timestamp", "event_log", ["timestamp"])
    op.create_index("ix_event_log_user_id", "event_log", ["user_id"])
    op.create_table(
        "consumer_cursor",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", BigIntKey, nullable=False),
        sa.Column("processed", BigIntKey, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_consumer_cursor")),
    )
    op.create_table(
        "event_daily_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "kind", name=op.f("pk_event_daily_count")),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("opening_hours", JSONDocument, nullable=False),
        sa.Column("click_and_collect", sa.Boolean(), nullable=False),
        sa.Column("daily_pickup_capacity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
        sa.UniqueConstraint("code", name=op.f("uq_location_code")),
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("store_code", sa.String(length=64), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_user_email")),
    )
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_user.id"],
            name=op.f("fk_login_session_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    op.create_index(op.f("ix_login_session_user_id"), "login_session", ["user_id"])


def downgrade() -> None:
    op.drop_table("login_session")
    op.drop_table("staff_user")
    op.drop_table("location")
    op.drop_table("event_daily_count")
    op.drop_table("consumer_cursor")
    op.drop_table("event_log")
