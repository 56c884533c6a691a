"""What a segment's members depend on, and what a batch of log events touches: the incremental skip rule.

A segment is re-evaluated for a batch's people only when the batch can change what its definition reads:
  event condition          a track event of that name
  orders, rfm              a track event named Order Completed (compile.ORDER_EVENT)
  trait                    an event stating that trait
  computed trait           any track event (its inputs are track events)
  consent                  an event deciding that channel and purpose (profiles.consent reads them)
  reachable                a marketing decision on that channel, or for push any event on the app channel
  tag                      always (tags change off the log)
  segment                  the referenced segment's members changed for these people in this batch
A batch whose people changed identity (a profile born, an identifier gained, a merge, or an unmerge since the
segments were last computed in full) re-evaluates every segment: attribution and "no data yet" moved. A
message type the rule does not know re-evaluates every segment too. Time passing (windows sliding) is the
periodic full recompute's job. A segment with a ranking condition (rfm, orders revenue_top_percent) is left
to the full recompute altogether (see affected() for why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from omni.events.models import LoggedEvent
from omni.profiles import consent
from omni.segments import compile as c
from omni.segments import definitions as d

KNOWN_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})
APP_CHANNEL = "app"


@dataclass(frozen=True)
class Needs:
    """What a definition reads that a batch can change."""

    always: bool = False
    events: frozenset[str] = frozenset()
    any_track: bool = False
    traits: frozenset[str] = frozenset()
    consents: frozenset[tuple[str, str]] = frozenset()
    app_activity: bool = False
    segments: frozenset[str] = frozenset()
    # A place among every buyer (rfm, revenue_top_percent): left to the full recompute, see ranked().
    ranked: bool = False

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            always=self.always or other.always,
            events=self.events | other.events,
            any_track=self.any_track or other.any_track,
            traits=self.traits | other.traits,
            consents=self.consents | other.consents,
            app_activity=self.app_activity or other.app_activity,
            segments=self.segments | other.segments,
            ranked=self.ranked or other.ranked,
        )


@dataclass(frozen=True)
class Touched:
    """What a batch changed for its people."""

    everything: bool
    events: frozenset[str]
    traits: frozenset[str]
    consents: frozenset[tuple[str, str]]
    app_activity: bool

    @property
    def any_track(self) -> bool:
        return bool(self.events)


def _leaf(leaf: d.Node) -> Needs:
    if isinstance(leaf, d.Event):
        return Needs(events=frozenset({leaf.event}))
    if isinstance(leaf, d.Rfm) or (isinstance(leaf, d.Orders) and leaf.metric == "revenue_top_percent"):
        return Needs(events=frozenset({c.ORDER_EVENT}), ranked=True)
    if isinstance(leaf, d.Orders):
        return Needs(events=frozenset({c.ORDER_EVENT}))
    if isinstance(leaf, d.Trait):
        return Needs(traits=frozenset({leaf.name}))
    if isinstance(leaf, d.ComputedTrait):
        return Needs(any_track=True)
    if isinstance(leaf, d.Consent):
        return Needs(consents=frozenset({(leaf.channel, leaf.purpose)}))
    if isinstance(leaf, d.Reachable):
        return Needs(consents=frozenset({(leaf.channel, "marketing")}), app_activity=leaf.channel == "push")
    if isinstance(leaf, d.InSegment):
        return Needs(segments=frozenset({leaf.key}))
    return Needs(always=True)  # a tag, or a condition this rule does not know


def needs(tree: d.Node) -> Needs:
    """Everything a definition's conditions read that a batch can change."""
    found = Needs()
    for leaf in d.leaves(tree):
        found = found | _leaf(leaf)
    return found


def touched(events: Iterable[LoggedEvent], *, identity_changed: bool) -> Touched:
    """What these events say about their people, read as profiles' indexing reads them."""
    names: set[str] = set()
    traits: set[str] = set()
    decided: set[tuple[str, str]] = set()
    app = unknown = False
    for event in events:
        unknown = unknown or event.type not in KNOWN_TYPES
        app = app or event.channel == APP_CHANNEL
        traits.update(event.traits)
        if event.type == "track" and event.event:
            names.add(event.event)
        decided.update((decision.channel, decision.purpose) for decision in consent.stated_by(event))
    return Touched(
        everything=identity_changed or unknown,
        events=frozenset(names),
        traits=frozenset(traits),
        consents=frozenset(decided),
        app_activity=app,
    )


def affected(wanted: Needs, batch: Touched, changed_segments: Sequence[str] | set[str]) -> bool:
    """Whether the batch can change members of a segment that needs wanted (changed_segments: the keys
    whose members changed for the batch's people so far, referenced segments coming first).

    A ranked segment is never evaluated incrementally. Evaluated for a few people it would still be exact
    for them (the place is computed among every buyer, only their membership is read), but it ranks every
    buyer on each batch holding an order (seconds at 100,000 customers, growing with the store), delaying
    every other segment's change in that batch past the 2 s target; and an order moves other buyers'
    places too, which only a full recompute sees. So the whole cell is left to the periodic recompute.
    """
    if wanted.ranked:
        return False
    return (
        wanted.always
        or batch.everything
        or bool(wanted.events & batch.events)
        or (wanted.any_track and batch.any_track)
        or bool(wanted.traits & batch.traits)
        or bool(wanted.consents & batch.consents)
        or (wanted.app_activity and batch.app_activity)
        or bool(wanted.segments.intersection(changed_segments))
    )
