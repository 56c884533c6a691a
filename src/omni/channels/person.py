"""A person as messages see them: their Liquid variables, their address on each channel, their time zone
and consent, read through the profiles and identity services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from omni.channels import repository
from omni.channels.errors import ChannelError
from omni.identity import service as identity_service
from omni.identity.errors import InvalidIdentifier
from omni.profiles import service as profiles_service
from omni.profiles.schemas import ProfileRead


class PersonNotAddressable(ChannelError):
    """Events about a message are keyed to the person by a userId or anonymousId; this profile has neither."""

    status_code = 409
    code = "profile_not_addressable"


@dataclass(frozen=True)
class Person:
    profile_id: int
    view: ProfileRead
    variables: dict[str, Any]

    @property
    def timezone(self) -> str | None:
        value = self.view.traits.get("timezone")
        return value.value if value is not None and isinstance(value.value, str) else None

    def consent(self) -> dict[tuple[str, str], str]:
        return {(c.channel, c.purpose): c.status for c in self.view.consent}

    def identifier(self, kind: str) -> str | None:
        held = sorted((i for i in self.view.identities if i.kind == kind), key=lambda i: i.last_seen_at)
        return held[-1].value if held else None

    def trait(self, name: str) -> str | None:
        found = self.view.traits.get(name)
        return str(found.value) if found is not None and found.value not in (None, "") else None

    def event_address(self) -> dict[str, str]:
        """How an event reaches this person through stitching: their userId, else their latest anonymousId."""
        for kind, field in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
            value = self.identifier(kind)
            if value:
                return {field: value}
        raise PersonNotAddressable(
            f"profile {self.profile_id} has no userId or anonymousId to key message events to",
            details=[{"field": "profile_id", "rule": "needs a user_id or anonymous_id identifier"}],
        )


def load(session: Session, profile_id: int) -> Person:
    """The live person profile_id resolves to, with the variables templates may use."""
    live = profiles_service.live_profile(session, profile_id)
    view = profiles_service.profile_view(session, live)
    traits = {name: trait.value for name, trait in view.traits.items()}
    person = {
        "id": live,
        "email": traits.get("email"),
        "phone": traits.get("phone"),
        **{key: traits.get(key) for key in ("name", "first_name", "last_name", "city", "birthday")},
        **{key: traits.get(key) for key in ("member_id", "member_tier", "locale", "timezone")},
    }
    variables = {
        "profile": person,
        "traits": traits,
        "computed": {value.name: value.value for value in view.computed_traits},
    }
    found = Person(live, view, variables)
    person["email"] = address_or_none(session, found, "email")
    person["phone"] = address_or_none(session, found, "sms")
    return found


def address_or_none(session: Session, person: Person, channel: str) -> str | None:
    """The person's address on channel, None when they have none there."""
    if channel == "email":
        return person.identifier("email") or person.trait("email")
    if channel in ("sms", "whatsapp"):
        phone = person.identifier("phone")
        if phone:
            return phone
        raw = person.trait("phone")
        if raw is None:
            return None
        try:
            return identity_service.normalized_lookup(session, "phone", raw)[1]
        except InvalidIdentifier:
            return None
    if channel == "line":
        return person.identifier("line_user_id") or person.trait("line_user_id")
    if channel == "push":
        subscriptions = [
            {"kind": s.kind, "endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}}
            for s in repository.subscriptions_of(session, person.profile_id)
        ]
        return json.dumps(subscriptions) if subscriptions else None
    return str(person.profile_id)
