"""Consent changes made by staff or the API: each is an event on the log, the record every domain reads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.kit.time import utc_now
from omni.profiles import consent
from omni.profiles.errors import ProfileNotAddressable
from omni.profiles.schemas import ConsentChange, ConsentRead
from omni.profiles.service import consent_read, decisions_of, live_profile

CONSENT_SOURCE = "omni:consent"
CONSENT_CHANNEL = "crm"


def _address(session: Session, live: int) -> dict[str, str]:
    # The event must reach this profile through stitching: its own userId, else its latest anonymousId.
    identities = identity_service.identifiers_of(session, live)
    for kind, field in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
        held = sorted((i for i in identities if i.kind == kind), key=lambda i: i.last_seen_at, reverse=True)
        if held:
            return {field: held[0].value}
    raise ProfileNotAddressable(
        f"profile {live} has no userId or anonymousId to record a consent event under",
        details=[{"field": "profile_id", "rule": "needs a user_id or anonymous_id identifier"}],
    )


def change_consent(
    session: Session, profile_id: int, changes: Sequence[ConsentChange], *, by: str
) -> list[ConsentRead]:
    """Log one Subscribed or Unsubscribed event per change and answer with the consent they make.

    The log is the record: the change is audited there, and every domain (journeys, channels) sees it.
    The answer already holds the change; the profile's stored view shows it once the log is processed.
    """
    live = live_profile(session, profile_id)
    address = _address(session, live)
    now = utc_now()
    made: list[consent.Decision] = []
    for change in changes:
        event = consent.SUBSCRIBED if change.granted else consent.UNSUBSCRIBED
        properties = {"channel": change.channel, "purpose": change.purpose, "changed_by": by}
        if change.reason:
            properties["reason"] = change.reason
        payload = {
            "type": "track",
            "event": event,
            **address,
            "properties": properties,
            "timestamp": now.isoformat(),
        }
        records = events_service.build_records(
            [payload], source=CONSENT_SOURCE, default_channel=CONSENT_CHANNEL
        )
        result = events_service.append_events(session, records)
        made.extend(
            consent.from_track(
                event,
                properties,
                position=result.last_position or 0,
                decided_at=records[0].timestamp,
                source=CONSENT_SOURCE,
            )
        )
    return consent_read(consent.state([*decisions_of(session, live), *made]))
