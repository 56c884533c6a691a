"""What happens to a message, as Segment-spec events on the log keyed to the person, and the signed
tokens in its links (open pixel, click redirect, unsubscribe) that say which message a request is about.

Event ids are deterministic (omni:channels:<message>:<what>), so recording the same fact twice - a
retried request, a second open - stores it once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape, unescape
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature as BadToken
from itsdangerous import URLSafeSerializer

from omni.channels.errors import BadSignature

SOURCE = "omni:channels"
# What each channel's facts are called: email and push follow Segment's spec names; the rest are messages.
_PREFIX = {"email": "Email", "push": "Push Notification"}
_FACT_NAMES = {
    "queued": "Queued",
    "sent": "Sent",
    "delivered": "Delivered",
    "opened": "Opened",
    "clicked": "Link Clicked",
    "bounced": "Bounced",
    "failed": "Failed",
    "skipped": "Skipped",
}
FACTS = tuple(_FACT_NAMES)


def event_name(channel: str, fact: str) -> str:
    """Email Sent, Email Link Clicked, Push Notification Sent, Message Delivered ..."""
    if fact == "clicked" and channel == "push":
        return "Push Notification Tapped"
    return f"{_PREFIX.get(channel, 'Message')} {_FACT_NAMES[fact]}"


def event_id(message_id: int, fact: str, detail: str | None = None) -> str:
    return f"{SOURCE}:{message_id}:{fact}" + (f":{detail}" if detail else "")


def fact_payload(
    *,
    address: dict[str, str],
    message_id: int,
    channel: str,
    purpose: str,
    fact: str,
    properties: dict[str, Any],
    timestamp: str,
    detail: str | None = None,
) -> dict[str, Any]:
    """The track message of one fact about one message."""
    return {
        "type": "track",
        "event": event_name(channel, fact),
        "messageId": event_id(message_id, fact, detail),
        **address,
        "channel": channel,
        "timestamp": timestamp,
        "properties": {"message_id": message_id, "channel": channel, "purpose": purpose, **properties},
    }


def unsubscribe_payload(
    *, address: dict[str, str], message_id: int, channel: str, purpose: str, via: str, timestamp: str
) -> dict[str, Any]:
    """The Unsubscribed event the profiles domain reads as a consent decision (channel and purpose)."""
    return {
        "type": "track",
        "event": "Unsubscribed",
        "messageId": event_id(message_id, "unsubscribed"),
        **address,
        "channel": channel,
        "timestamp": timestamp,
        "properties": {"message_id": message_id, "channel": channel, "purpose": purpose, "via": via},
    }


class Tokens:
    """Signed, URL-safe tokens naming a message (and a link); a forged or altered token does not verify."""

    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeSerializer(secret, salt="omni.channels.links")

    def make(self, kind: str, message_id: int, url: str | None = None) -> str:
        return str(self.serializer.dumps([kind, message_id, url] if url else [kind, message_id]))

    def read(self, kind: str, token: str) -> tuple[int, str | None]:
        try:
            data = self.serializer.loads(token)
        except BadToken:
            raise BadSignature(
                "the link's token does not verify", details=[{"field": "token", "rule": "signed by Omni"}]
            ) from None
        if not isinstance(data, list) or not data or data[0] != kind or not isinstance(data[1], int):
            raise BadSignature(f"not a {kind} token", details=[{"field": "token", "rule": f"a {kind} token"}])
        return data[1], data[2] if len(data) > 2 else None


def link_urls(base_url: str, tokens: Tokens, message_id: int) -> dict[str, str]:
    """The open pixel and unsubscribe URLs of a message."""
    base = base_url.rstrip("/")
    return {
        "open": f"{base}/v1/t/o/{tokens.make('open', message_id)}.gif",
        "unsubscribe": f"{base}/v1/unsubscribe/{tokens.make('unsubscribe', message_id)}",
    }


def click_url(base_url: str, tokens: Tokens, message_id: int, url: str) -> str:
    return f"{base_url.rstrip('/')}/v1/t/c/{quote(tokens.make('click', message_id, url))}"


_HREF = re.compile(r'href="(https?://[^"]+)"', re.I)


def track_html(html: str, *, click: Callable[[str], str], pixel_url: str) -> str:
    """html with each web link going through the click redirect and an open pixel at the end of the body."""

    def rewrite(match: re.Match[str]) -> str:
        return f'href="{escape(click(unescape(match[1])))}"'

    tracked = _HREF.sub(rewrite, html)
    pixel = f'<img src="{escape(pixel_url)}" width="1" height="1" alt="" style="display:none">'
    at = tracked.lower().rfind("</body>")
    return tracked[:at] + pixel + tracked[at:] if at >= 0 else tracked + pixel
