"""Ground truth of a simulation run: who is behind each identifier, each person's true facts, and statistics.

The writer watches the event stream as it passes (`for event in writer.observe(simulate(...))`), keeps
counters and the current person's tallies only, and writes each person's rows when their events end.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from omni.demo.touchpoints import SimulatedEvent

IDENTIFIER_KINDS = ("anonymous_id", "device_id", "user_id", "member_id", "email", "phone", "name")
ID_KINDS = frozenset({"anonymous_id", "device_id", "user_id", "member_id"})
ORDER_CHANNELS = ("web", "app", "marketplace", "pos")
MESSAGE_CHANNELS = ("email", "sms", "push")
TRAIT_KINDS = (("email", "email"), ("phone", "phone"), ("name", "name"), ("member_id", "member_id"))
RETAILER_OFFSET = timedelta(hours=8)
PEOPLE_COLUMNS = (
    "person_id",
    "name",
    "email",
    "phone",
    "birthday",
    "gender",
    "home_city",
    "home_store",
    "timezone",
    "persona",
    "member",
    "member_id",
    "account_id",
    "channels",
    "orders_web",
    "orders_app",
    "orders_marketplace",
    "orders_pos",
    "orders_total",
    "revenue_minor",
    "first_purchase",
    "last_purchase",
    "abandoned_carts",
    "omnichannel_buyer",
    "returns",
    "refunded_minor",
    "click_and_collect_orders",
    "messages_delivered",
    "messages_opened",
    "messages_clicked",
    "identifiers",
    "events",
)


def is_member_id(value: str) -> bool:
    """Whether a userId is a membership number ("M" and eight digits) rather than an online account id."""
    return len(value) == 9 and value[0] == "M" and value[1:].isdigit()


def identifiers_in(event: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, value) of every identifier in a message, values exactly as written."""
    user_id = event.get("userId")
    if user_id:
        yield ("member_id" if is_member_id(user_id) else "user_id", user_id)
    for key in ("anonymousId", "previousId"):
        if value := event.get(key):
            yield ("anonymous_id", value)
    context = event.get("context") or {}
    device = context.get("device")
    if device and device.get("id"):
        yield ("device_id", device["id"])
    for traits in (event.get("traits"), context.get("traits")):
        if traits:
            for key, kind in TRAIT_KINDS:
                if value := traits.get(key):
                    yield (kind, value)


def retailer_date(timestamp: str) -> date:
    """The date in Taiwan of an ISO-8601 UTC timestamp."""
    return (datetime.fromisoformat(timestamp.replace("Z", "+00:00")) + RETAILER_OFFSET).date()


@dataclass
class SimulationStats:
    """Counts over a whole run, small enough to keep for a million people."""

    people: int = 0
    events: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    events_by_name: Counter[str] = field(default_factory=Counter)
    customers_per_channel: Counter[str] = field(default_factory=Counter)
    orders_per_channel: Counter[str] = field(default_factory=Counter)
    revenue_minor_per_channel: Counter[str] = field(default_factory=Counter)
    buyers: int = 0
    omnichannel_buyers: int = 0
    members: int = 0
    people_with_multiple_identifiers: int = 0
    people_with_multiple_ids: int = 0
    identifiers: int = 0
    abandoned_carts: int = 0
    returns: int = 0
    click_and_collect_orders: int = 0
    first_event: str = ""
    last_event: str = ""

    @property
    def share_with_multiple_identifiers(self) -> float:
        """Share of people whose events carry more than one identifier of any kind."""
        return self.people_with_multiple_identifiers / self.people if self.people else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values, as written to stats.json."""
        return {
            "people": self.people,
            "events": self.events,
            "first_event": self.first_event,
            "last_event": self.last_event,
            "members": self.members,
            "buyers": self.buyers,
            "omnichannel_buyers": self.omnichannel_buyers,
            "people_with_multiple_identifiers": self.people_with_multiple_identifiers,
            "share_with_multiple_identifiers": round(self.share_with_multiple_identifiers, 4),
            "people_with_multiple_ids": self.people_with_multiple_ids,
            "identifiers": self.identifiers,
            "abandoned_carts": self.abandoned_carts,
            "returns": self.returns,
            "click_and_collect_orders": self.click_and_collect_orders,
            "customers_per_channel": dict(sorted(self.customers_per_channel.items())),
            "orders_per_channel": {channel: self.orders_per_channel[channel] for channel in ORDER_CHANNELS},
            "revenue_minor_per_channel": {c: self.revenue_minor_per_channel[c] for c in ORDER_CHANNELS},
            "events_by_type": dict(self.events_by_type.most_common()),
            "events_by_name": dict(self.events_by_name.most_common()),
        }

    def as_rows(self) -> list[tuple[str, list[tuple[str, int | str]]]]:
        """Titled tables of (label, value) for a console; whole NT$ for money."""
        overview: list[tuple[str, int | str]] = [
            ("people", self.people),
            ("events", self.events),
            ("events per person", f"{self.events / self.people:.1f}" if self.people else "0"),
            ("first event", self.first_event),
            ("last event", self.last_event),
            ("members", self.members),
            ("buyers", self.buyers),
            ("omnichannel buyers (2+ channels)", self.omnichannel_buyers),
            ("people with more than one identifier", self.people_with_multiple_identifiers),
            ("share with more than one identifier", f"{self.share_with_multiple_identifiers:.1%}"),
            ("people seen under more than one id", self.people_with_multiple_ids),
            ("abandoned carts", self.abandoned_carts),
            ("returns", self.returns),
            ("click & collect orders", self.click_and_collect_orders),
        ]
        return [
            ("Overview", overview),
            ("Customers per channel", list(self.customers_per_channel.most_common())),
            ("Orders per channel", [(c, self.orders_per_channel[c]) for c in ORDER_CHANNELS]),
            (
                "Revenue per channel (NT$)",
                [(c, self.revenue_minor_per_channel[c] // 100) for c in ORDER_CHANNELS],
            ),
            ("Events by type", list(self.events_by_type.most_common())),
            ("Events by name", list(self.events_by_name.most_common())),
        ]


@dataclass
class _Tally:
    person_id: str
    facts: dict[str, Any] = field(default_factory=dict)
    identifiers: dict[tuple[str, str], None] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    orders: Counter[str] = field(default_factory=Counter)
    revenue_minor: int = 0
    first_purchase: date | None = None
    last_purchase: date | None = None
    carts_added: set[str] = field(default_factory=set)
    carts_ordered: set[str] = field(default_factory=set)
    returns: int = 0
    refunded_minor: int = 0
    click_and_collect: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    events: int = 0


class GroundTruthWriter:
    """Writes identifiers.csv, people.csv and stats.json under a directory while the stream passes."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.stats = SimulationStats()
        self.people_done = 0
        self._tally: _Tally | None = None
        self._files: list[IO[str]] = []
        self._identifiers = csv.writer(self._open("identifiers.csv"))
        self._identifiers.writerow(("kind", "value", "person_id"))
        self._people = csv.writer(self._open("people.csv"))
        self._people.writerow(PEOPLE_COLUMNS)
        self._closed = False

    def _open(self, name: str) -> IO[str]:
        handle = (self.directory / name).open("w", encoding="utf-8", newline="")
        self._files.append(handle)
        return handle

    def __enter__(self) -> GroundTruthWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def observe(self, events: Iterable[SimulatedEvent]) -> Iterator[SimulatedEvent]:
        """Pass the events through unchanged, recording each one."""
        for event in events:
            self.record(event)
            yield event
        self._finish_person()

    def record(self, event: SimulatedEvent) -> None:
        """Count one event and add it to its person's tallies."""
        person_id = event["truth_person_id"]
        tally = self._tally
        if tally is None or tally.person_id != person_id:
            self._finish_person()
            tally = self._tally = _Tally(person_id)
        if "truth_person" in event:
            tally.facts = event["truth_person"]
        stats = self.stats
        stats.events += 1
        timestamp = event["timestamp"]
        if not stats.first_event or timestamp < stats.first_event:
            stats.first_event = timestamp
        stats.last_event = max(stats.last_event, timestamp)
        kind = event["type"]
        name = event.get("event") or kind
        stats.events_by_type[kind] += 1
        stats.events_by_name[name] += 1
        tally.events += 1
        channel = event["channel"]
        tally.channels.add(channel)
        for identifier in identifiers_in(event):
            tally.identifiers[identifier] = None
        if kind == "track":
            self._track(tally, name, channel, event.get("properties") or {}, timestamp)

    def _track(
        self, tally: _Tally, name: str, channel: str, properties: dict[str, Any], timestamp: str
    ) -> None:
        if name == "Order Completed":
            tally.orders[channel] += 1
            tally.revenue_minor += properties["revenue_minor"]
            self.stats.revenue_minor_per_channel[channel] += properties["revenue_minor"]
            day = retailer_date(timestamp)
            tally.first_purchase = min(tally.first_purchase or day, day)
            tally.last_purchase = max(tally.last_purchase or day, day)
            if properties.get("fulfilment") == "click_and_collect":
                tally.click_and_collect += 1
            if cart_id := properties.get("cart_id"):
                tally.carts_ordered.add(cart_id)
        elif name == "Product Added":
            tally.carts_added.add(properties["cart_id"])
        elif name == "Order Refunded":
            tally.returns += 1
            tally.refunded_minor += properties["total_minor"]
        elif channel in MESSAGE_CHANNELS:
            if name.endswith("Delivered"):
                tally.messages["delivered"] += 1
            elif name.endswith("Opened"):
                tally.messages["opened"] += 1
            elif name.endswith("Clicked"):
                tally.messages["clicked"] += 1

    def _finish_person(self) -> None:
        tally, self._tally = self._tally, None
        if tally is None:
            return
        stats = self.stats
        facts = tally.facts
        for kind, value in tally.identifiers:
            self._identifiers.writerow((kind, value, tally.person_id))
        order_channels = [c for c in ORDER_CHANNELS if tally.orders[c]]
        abandoned = len(tally.carts_added - tally.carts_ordered)
        omnichannel = len(order_channels) >= 2
        ids = sum(1 for kind, _ in tally.identifiers if kind in ID_KINDS)
        self._people.writerow(
            (
                tally.person_id,
                facts.get("name", ""),
                facts.get("email", ""),
                facts.get("phone", ""),
                facts.get("birthday", ""),
                facts.get("gender", ""),
                facts.get("home_city", ""),
                facts.get("home_store", ""),
                facts.get("timezone", ""),
                facts.get("persona", ""),
                int(bool(facts.get("member_id"))),
                facts.get("member_id") or "",
                facts.get("account_id") or "",
                ";".join(sorted(tally.channels)),
                *(tally.orders[c] for c in ORDER_CHANNELS),
                tally.orders.total(),
                tally.revenue_minor,
                tally.first_purchase or "",
                tally.last_purchase or "",
                abandoned,
                int(omnichannel),
                tally.returns,
                tally.refunded_minor,
                tally.click_and_collect,
                tally.messages["delivered"],
                tally.messages["opened"],
                tally.messages["clicked"],
                len(tally.identifiers),
                tally.events,
            )
        )
        stats.people += 1
        stats.members += bool(facts.get("member_id"))
        stats.identifiers += len(tally.identifiers)
        stats.people_with_multiple_identifiers += len(tally.identifiers) > 1
        stats.people_with_multiple_ids += ids > 1
        stats.customers_per_channel.update(tally.channels)
        stats.orders_per_channel.update(tally.orders)
        stats.buyers += bool(order_channels)
        stats.omnichannel_buyers += omnichannel
        stats.abandoned_carts += abandoned
        stats.returns += tally.returns
        stats.click_and_collect_orders += tally.click_and_collect
        self.people_done += 1

    def close(self) -> SimulationStats:
        """Write the last person and stats.json, close the files, and return the statistics."""
        if not self._closed:
            self._finish_person()
            for handle in self._files:
                handle.close()
            stats_json = json.dumps(self.stats.as_dict(), ensure_ascii=False, indent=2)
            (self.directory / "stats.json").write_text(stats_json + "\n", encoding="utf-8")
            self._closed = True
        return self.stats


def written_identifiers(directory: Path) -> Iterator[tuple[str, str, str]]:
    """(kind, value as written, person id) of every identifier a run's people wrote, names left out."""
    with (directory / "identifiers.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] != "name":
                yield row["kind"], row["value"], row["person_id"]
