"""Replies from people: the SMS and WhatsApp keywords carriers and Twilio honour (STOP, START, HELP),
recorded as consent events the profiles domain reads, and delivery reports."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from omni.channels import person as persons
from omni.channels import tracking
from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.identity.errors import InvalidIdentifier
from omni.kit.time import utc_now

Keyword = Literal["opt_out", "opt_in", "help"]
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP"})
HELP = frozenset({"HELP"})
HELP_REPLY = "Reply STOP to stop messages, START to receive them again."


def keyword(body: str) -> Keyword | None:
    """The keyword a whole message is (case and surrounding spaces ignored, as carriers read it)."""
    word = body.strip().upper().rstrip(".!")
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None


def sender_channel(sender: str) -> tuple[str, str]:
    """(channel, phone) of a Twilio From: whatsapp:+886... is WhatsApp, a bare number SMS."""
    if sender.lower().startswith("whatsapp:"):
        return "whatsapp", sender.split(":", 1)[1]
    return "sms", sender


def handle_reply(session: Session, *, sender: str, body: str, reply_id: str) -> str | None:
    """Act on a person's reply; the text to answer with, if any.

    STOP and its synonyms stop every message on the channel (carriers block the number for all purposes),
    START resumes them; each is an Unsubscribed / Subscribed event per purpose, keyed to the person.
    """
    said = keyword(body)
    if said is None or said == "help":
        return HELP_REPLY if said == "help" else None
    channel, phone = sender_channel(sender)
    try:
        profile_id = identity_service.find_profile(session, "phone", phone)
    except InvalidIdentifier:
        return None
    if profile_id is None:
        return None
    address = persons.load(session, profile_id).event_address()
    event = "Unsubscribed" if said == "opt_out" else "Subscribed"
    payloads = [
        {
            "type": "track",
            "event": event,
            "messageId": f"{tracking.SOURCE}:reply:{reply_id}:{purpose}",
            **address,
            "channel": channel,
            "timestamp": utc_now().isoformat(),
            "properties": {
                "channel": channel,
                "purpose": purpose,
                "via": "keyword",
                "keyword": body.strip()[:20],
            },
        }
        for purpose in ("marketing", "transactional")
    ]
    records = events_service.build_records(payloads, source=tracking.SOURCE, default_channel=channel)
    events_service.append_events(session, records)
    return None
