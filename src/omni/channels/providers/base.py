"""What every provider is: one interface over SMTP, Twilio, LINE, web push, FCM, webhooks, the inbox and
the console, so that delivery, retries and reconciliation are written once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

Outcome = Literal["retry", "failed", "unknown"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as a provider sends it; address is the channel's (an email, an E.164 phone, a LINE
    user id, push subscriptions as JSON, a profile id for the inbox)."""

    message_id: int
    idempotency_key: str
    profile_id: int
    channel: str
    address: str
    content: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


class ProviderError(Exception):
    """A provider's refusal. outcome says what it means for the message:

    retry: the provider said it did not take the message (refused connection, 429, 503) - safe to send again;
    failed: the provider rejected it for good (bad number, unknown user) - its reason is recorded;
    unknown: the call may or may not have reached the person (a timeout after sending) - never resent.
    """

    def __init__(self, reason: str, *, outcome: Outcome) -> None:
        super().__init__(reason)
        self.reason = reason[:1000]
        self.outcome = outcome


class Provider(Protocol):
    """A way to deliver messages of one or more channels."""

    name: str
    # True when a message whose call was interrupted, and that lookup does not find, may be sent again
    # without a duplicate: the provider drops a second request with the same key, or lookup sees all.
    resend_safe: bool
    # How many of its messages a worker may send at once, each lane over a connection of its own.
    lanes: int

    def send(self, outgoing: Outgoing) -> str:
        """Deliver the message; return the provider's id for it, or raise ProviderError."""
        ...

    def lookup(self, outgoing: Outgoing) -> str | None:
        """The provider's id of this message if the provider already has it; None when unknown."""
        ...

    def close(self) -> None: ...


def retry_key(idempotency_key: str) -> str:
    """A UUID standing for an idempotency key, for APIs that want their retry keys as UUIDs (LINE)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"omni:channels:{idempotency_key}"))


def http_error(response: httpx.Response, provider: str) -> ProviderError:
    """The ProviderError of an HTTP answer that is not a success, with the provider's own reason."""
    try:
        body = response.json()
    except ValueError:
        body = response.text[:300]
    reason = f"{provider} answered {response.status_code}: {body}"
    if response.status_code in (408, 425, 429, 503):
        return ProviderError(reason, outcome="retry")
    if response.status_code >= 500:
        # A 500 may come after the message was accepted; sending again could make a duplicate.
        return ProviderError(reason, outcome="unknown")
    return ProviderError(reason, outcome="failed")


def post(
    client: httpx.Client, url: str, provider: str, *, also_ok: tuple[int, ...] = (), **kwargs: Any
) -> httpx.Response:
    """POST, turning transport errors into ProviderErrors that say whether the message may have gone;
    statuses in also_ok are answered like successes."""
    try:
        response = client.post(url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ProviderError(f"{provider} not reachable: {exc}", outcome="retry") from None
    except httpx.TransportError as exc:
        raise ProviderError(f"{provider} did not answer: {exc}", outcome="unknown") from None
    if response.status_code >= 400 and response.status_code not in also_ok:
        raise http_error(response, provider)
    return response
