"""The runtime's World over the database: a person's traits, segments and past events read through the
identity and profiles services and the event log; messages sent through the channels service; profile
updates appended to the log as identify events, which the profiles consumer indexes like any other."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.channels import service as channels_service
from omni.events import service as events_service
from omni.events.models import LoggedEvent
from omni.identity import service as identity_service
from omni.journeys.definitions import EventCondition, SendNode, UpdateProfileNode, WaitEventNode, WebhookNode
from omni.journeys.models import JourneyRun, JourneyStep
from omni.journeys.triggers import key_values, matches
from omni.kit.errors import OmniError
from omni.profiles import service as profiles_service
from omni.segments import service as segments_service
from omni.settings import Settings

SOURCE = "omni:journeys"


class DatabaseWorld:
    """One worker's view of people and effects, for one transaction at one moment."""

    def __init__(self, session: Session, settings: Settings, *, now: datetime) -> None:
        self.session = session
        self.settings = settings
        self._now = now
        self._traits: dict[int, dict[str, Any]] = {}

    @property
    def now(self) -> datetime:
        return self._now

    def _all_traits(self, profile_id: int) -> dict[str, Any]:
        if profile_id not in self._traits:
            found = profiles_service.traits_of(self.session, profile_id)
            self._traits[profile_id] = {name: trait.value for name, trait in found.items()}
        return self._traits[profile_id]

    def trait(self, profile_id: int, name: str) -> Any:
        return self._all_traits(profile_id).get(name)

    def _events(self, profile_id: int, names: Sequence[str], *, after: int = 0) -> Sequence[LoggedEvent]:
        positions = identity_service.attributed_positions(self.session, profile_id)
        return events_service.events_among(self.session, positions, names=names, after=after)

    def in_segment(self, profile_id: int, segment_id: int) -> bool:
        # The segment's current members, read through its service: the first member from this person's
        # id on is this person exactly when they are a member (one primary-key probe).
        live = profiles_service.live_profile(self.session, profile_id)
        page = segments_service.members(self.session, segment_id, limit=1, after=live - 1)
        return bool(page.items) and page.items[0].profile_id == live

    def event_count(self, profile_id: int, condition: EventCondition) -> int:
        since = self._now - condition.within.delta if condition.within is not None else None
        return sum(
            1
            for event in self._events(profile_id, [condition.did_event])
            if (since is None or event.timestamp >= since) and matches(condition.where, event.properties)
        )

    def timezone(self, profile_id: int) -> ZoneInfo:
        for name in (self.trait(profile_id, "timezone"), self.settings.timezone):
            if isinstance(name, str) and name:
                try:
                    return ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")

    def already_happened(self, run: JourneyRun, node: WaitEventNode) -> bool:
        # The awaited event may be on the log before the person reached the wait (the order came a minute
        # after the checkout, in the same batch): look back from the entry for it.
        for event in self._events(run.profile_id, [node.event], after=run.entered_position):
            if not node.keys or key_values(node.keys, event.properties) == {
                k: run.keys[k] for k in node.keys
            }:
                return True
        return False

    def best_channel(self, profile_id: int, candidates: list[str], purpose: str) -> str | None:
        return channels_service.best_channel(
            self.session, profile_id, candidates=candidates, purpose=purpose, now=self._now
        )

    def best_send_hour(self, profile_id: int) -> int:
        return channels_service.best_send_hour(
            self.session, profile_id, zone=self.timezone(profile_id), now=self._now
        )

    def send(
        self, run: JourneyRun, node_id: str, node: SendNode | WebhookNode, *, channel: str, purpose: str
    ) -> str:
        """Record the message's send intent under the step's key; the channels worker delivers it."""
        key = self.step_key(run, node_id)
        try:
            # A refusal must leave no half-written intent behind: the savepoint takes it back.
            with self.session.begin_nested():
                message = channels_service.send(
                    self.session,
                    profile_id=run.profile_id,
                    channel=channel,
                    message=node.message,
                    idempotency_key=key,
                    purpose=purpose,
                    settings=self.settings,
                    context={"journey_id": run.journey_id, "journey_run_id": run.id, "journey_node": node_id},
                    about=self.about(run),
                    now=self._now,
                )
        except OmniError as exc:
            return f"not sent: {exc.message}"[:300]
        reason = f": {message.error}" if message.error else ""
        return f"{channel} message {message.id} {message.status}{reason}"[:300]

    def about(self, run: JourneyRun) -> dict[str, Any]:
        """What the run's messages are about: its trigger event's properties (order_id, cart_id,
        products ...) and its keys. The event is the one logged at the entry position."""
        properties: dict[str, Any] = {}
        if run.entry_key.startswith("event:") and run.entered_position > 0:
            found = events_service.events_after(self.session, run.entered_position - 1, limit=1)
            if found and found[0].position == run.entered_position:
                properties = dict(found[0].properties)
        return {**properties, **run.keys}

    def step_key(self, run: JourneyRun, node_id: str) -> str:
        """The idempotency key of a step's effect: journey:<run>:<node>, and :<n> on the nth visit of a
        node a loop (through a wait) brings the person back to. Earlier visits are committed steps, so
        a retried step counts the same and gets the same key."""
        earlier = self.session.scalar(
            select(func.count())
            .select_from(JourneyStep)
            .where(JourneyStep.run_id == run.id, JourneyStep.node == node_id)
        )
        return f"journey:{run.id}:{node_id}" + (f":{earlier + 1}" if earlier else "")

    def update_profile(self, run: JourneyRun, node_id: str, node: UpdateProfileNode) -> str:
        done = []
        if node.traits:
            address = self._event_address(run.profile_id)
            if address is None:
                return "not updated: the person has no userId or anonymousId to key an identify to"
            payload = {
                "type": "identify",
                **address,
                "traits": node.traits,
                "messageId": self.step_key(run, node_id),
                "timestamp": self._now.isoformat(),
            }
            records = events_service.build_records([payload], source=SOURCE, default_channel="omni")
            events_service.append_events(self.session, records)
            done.append(f"traits {', '.join(sorted(node.traits))}")
        for tag in node.tags:
            with self.session.begin_nested():
                segments_service.add_tag(self.session, run.profile_id, tag, by=f"journey {run.journey_id}")
        if node.tags:
            done.append(f"tags {', '.join(node.tags)}")
        return "set " + "; ".join(done)

    def _event_address(self, profile_id: int) -> dict[str, str] | None:
        identifiers = identity_service.identifiers_of(self.session, profile_id)
        for kind, field in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
            held = sorted((i for i in identifiers if i.kind == kind), key=lambda i: i.last_seen_at)
            if held:
                return {field: held[-1].value}
        return None
