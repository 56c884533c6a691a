"""One Settings object, read from the environment (OMNI_*) and an optional .env file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATA_DIR = Path(".omni")
SUPPORTED_DATABASES = ("sqlite", "postgresql")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNI_", env_file=".env", extra="ignore")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where the embedded database and secrets live.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means a SQLite file under data_dir.")
    secret_key: str = Field("", description="Signs sessions and tokens; empty means one kept in data_dir.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    default_locale: Literal["en", "zh_TW"] = "zh_TW"
    timezone: str = "Asia/Taipei"
    currency: str = Field("TWD", pattern=r"^[A-Z]{3}$")
    phone_region: str = Field("TW", pattern=r"^[A-Z]{2}$", description="Region of phones written without +.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool = True
    secure_cookies: bool = Field(False, description="Mark cookies Secure; turn on behind HTTPS.")
    session_hours: int = Field(12, ge=1, le=24 * 30)
    pickup_hold_days: int = Field(
        7, ge=1, le=90, description="Days a click & collect order waits on the shelf before it is cancelled."
    )
    # Channels: a channel whose provider has no credentials here is served by the console provider.
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL of links in messages.")
    outbox_path: Path | None = Field(None, description="Console provider's file (data_dir/outbox.jsonl).")
    email_from: str = "Omni <shop@example.com>"
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    twilio_base_url: str = "https://api.twilio.com"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_from: str = ""
    twilio_whatsapp_from: str = ""
    line_base_url: str = "https://api.line.me"
    line_channel_token: str = ""
    fcm_base_url: str = "https://fcm.googleapis.com"
    fcm_project_id: str = ""
    fcm_access_token: str = Field("", description="OAuth 2 bearer token for the FCM HTTP v1 API.")
    vapid_private_key: str = Field("", description="Web push VAPID private key (PEM or base64url).")
    vapid_public_key: str = Field("", description="The matching public key (base64url), given to browsers.")
    vapid_subject: str = "mailto:shop@example.com"
    message_webhook_url: str = ""
    message_webhook_secret: str = ""
    channel_rate_limits: dict[str, float] = Field(
        default_factory=dict, description='Messages per second each provider accepts, e.g. {"twilio": 1}.'
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in SUPPORTED_DATABASES:
            raise ValueError(f"Omni runs on {' or '.join(SUPPORTED_DATABASES)}, not {url.get_backend_name()}")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force, the embedded SQLite file when none is set."""
        if self.database_url:
            url = make_url(self.database_url)
            if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
                return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'omni.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The secret key in force: the configured one, or one generated once and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
