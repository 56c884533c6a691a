"""Builders of simulated data for the demo tests, cached because the simulation is deterministic."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from omni.demo.simulate import SimulatedEvent, simulate
from omni.demo.truth import GroundTruthWriter, SimulationStats


@functools.cache
def events(customers: int, seed: int = 7) -> tuple[SimulatedEvent, ...]:
    """The whole stream of a small simulation (tests must not mutate it)."""
    return tuple(simulate(customers=customers, seed=seed))


def write_truth(directory: Path, customers: int, seed: int = 7) -> SimulationStats:
    """Run the ground-truth writer over a simulation, as the loader tees it."""
    writer = GroundTruthWriter(directory)
    for _ in writer.observe(simulate(customers=customers, seed=seed)):
        pass
    return writer.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def by_person(stream: tuple[SimulatedEvent, ...]) -> dict[str, list[SimulatedEvent]]:
    people: dict[str, list[SimulatedEvent]] = {}
    for event in stream:
        people.setdefault(event["truth_person_id"], []).append(event)
    return people


def written_identifiers(event: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, value) of every identifier in a message, found by walking it as a reader would."""
    for field in ("userId", "anonymousId", "previousId"):
        if event.get(field):
            yield field, event[field]
    context = event.get("context", {})
    if "device" in context:
        yield "device.id", context["device"]["id"]
    for traits in (event.get("traits", {}), context.get("traits", {})):
        for key in ("email", "phone", "name", "member_id"):
            if key in traits:
                yield f"traits.{key}", traits[key]


def e164(written: str) -> str:
    """A Taiwanese mobile number as written, normalised to E.164."""
    digits = "".join(c for c in written if c.isdigit())
    return "+886" + (digits[3:] if digits.startswith("886") else digits[1:])
