"""The providers behind each channel, chosen from settings: a channel whose provider has no credentials
is served by the console provider, so that a fresh install (and the demo) runs with no outside service."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from omni.channels.providers.base import Outgoing, Provider, ProviderError
from omni.channels.providers.console import ConsoleProvider
from omni.channels.providers.inbox import InboxProvider
from omni.channels.providers.line import LineProvider
from omni.channels.providers.push import PushProvider
from omni.channels.providers.smtp import SmtpProvider
from omni.channels.providers.twilio import TwilioProvider
from omni.channels.providers.webhook import WebhookProvider
from omni.settings import Settings

__all__ = [
    "Outgoing",
    "Provider",
    "ProviderError",
    "ProviderSet",
    "configured",
    "provider_name",
    "open_providers",
]

MESSAGE_CHANNELS = ("email", "sms", "whatsapp", "line", "push", "in_app", "webhook")


def configured(settings: Settings) -> dict[str, str]:
    """Which provider serves each channel under these settings."""
    return {channel: provider_name(settings, channel) for channel in MESSAGE_CHANNELS}


def provider_name(settings: Settings, channel: str) -> str:
    """The provider that serves channel under these settings."""
    twilio = bool(settings.twilio_account_sid and settings.twilio_auth_token)
    chosen = {
        "email": "smtp" if settings.smtp_host else None,
        "sms": "twilio" if twilio and settings.twilio_sms_from else None,
        "whatsapp": "twilio" if twilio and settings.twilio_whatsapp_from else None,
        "line": "line" if settings.line_channel_token else None,
        "push": "push" if settings.vapid_private_key or settings.fcm_project_id else None,
        "in_app": "inbox",
        "webhook": "webhook" if settings.message_webhook_url else None,
    }.get(channel)
    return chosen or "console"


def _build(name: str, settings: Settings, sessions: sessionmaker[Session]) -> Provider:
    if name == "smtp":
        return SmtpProvider(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    if name == "twilio":
        return TwilioProvider(
            base_url=settings.twilio_base_url,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            sms_from=settings.twilio_sms_from,
            whatsapp_from=settings.twilio_whatsapp_from,
            status_callback=f"{settings.public_url.rstrip('/')}/v1/channels/twilio/status",
        )
    if name == "line":
        return LineProvider(base_url=settings.line_base_url, channel_token=settings.line_channel_token)
    if name == "push":
        return PushProvider(
            vapid_private_key=settings.vapid_private_key,
            vapid_subject=settings.vapid_subject,
            fcm_base_url=settings.fcm_base_url,
            fcm_project_id=settings.fcm_project_id,
            fcm_access_token=settings.fcm_access_token,
        )
    if name == "webhook":
        return WebhookProvider(url=settings.message_webhook_url, secret=settings.message_webhook_secret)
    if name == "inbox":
        return InboxProvider(sessions)
    return ConsoleProvider(settings.outbox_path or settings.data_dir / "outbox.jsonl")


@dataclass
class ProviderSet:
    """The providers a worker uses, built when first needed and closed together."""

    settings: Settings
    sessions: sessionmaker[Session]
    built: dict[str, Provider]
    given: frozenset[str] = frozenset()
    extra_lanes: dict[tuple[str, int], Provider] = field(default_factory=dict)

    def get(self, name: str) -> Provider:
        if name not in self.built:
            self.built[name] = _build(name, self.settings, self.sessions)
        return self.built[name]

    def lanes(self, name: str, wanted: int) -> list[Provider]:
        """Up to wanted instances of provider name, each with a connection of its own, as many as the
        provider allows; one when the provider was given (a stand-in has no way to make more)."""
        first = self.get(name)
        count = 1 if name in self.given else max(1, min(first.lanes, wanted))
        for lane in range(1, count):
            if (name, lane) not in self.extra_lanes:
                self.extra_lanes[(name, lane)] = _build(name, self.settings, self.sessions)
        return [first, *(self.extra_lanes[(name, lane)] for lane in range(1, count))]

    def close(self) -> None:
        for provider in [*self.built.values(), *self.extra_lanes.values()]:
            provider.close()
        self.built.clear()
        self.extra_lanes.clear()


@contextmanager
def open_providers(
    settings: Settings, sessions: sessionmaker[Session], given: Mapping[str, Provider] | None = None
) -> Iterator[ProviderSet]:
    """Providers for one worker run; given ones stand in for those of the same name."""
    providers = ProviderSet(settings, sessions, dict(given or {}), frozenset(given or {}))
    try:
        yield providers
    finally:
        providers.close()
