"""Where each order line is fulfilled from: pure rules over candidate locations and their stock.

Fewest splits first: when one location can send every line, the best-scored such location sends all;
otherwise the location that covers most lines takes them, and so on for the rest. Among equals the score
decides: proximity to the customer (haversine), stock balance (take from where stock is deep, not the last
pieces of a store) and the store's remaining capacity today. A line is never split between locations.
The explanation records every candidate, its figures and why the chosen one won, to show on the order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omni.orders.errors import CannotSource

EARTH_RADIUS_KM = 6371.0088
WEIGHTS = {"proximity": 0.5, "balance": 0.3, "capacity": 0.2}
# Distance at which the proximity score halves: stores across a city still count as near.
HALF_SCORE_KM = 25.0


@dataclass(frozen=True)
class Candidate:
    """A location that may fulfil the order, as the rules see it."""

    code: str
    kind: str
    latitude: float | None = None
    longitude: float | None = None
    # Orders it can still take today; None means no daily limit (a warehouse).
    capacity_left: int | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class Need:
    line_no: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class Plan:
    """The chosen location of every line and the reasons."""

    locations: dict[int, str]
    explanation: dict[str, Any]


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _distance(candidate: Candidate, destination: tuple[float, float] | None) -> float | None:
    if destination is None or candidate.latitude is None or candidate.longitude is None:
        return None
    return haversine_km(candidate.latitude, candidate.longitude, *destination)


def _scores(
    candidate: Candidate,
    needs: Sequence[Need],
    available: Mapping[str, Mapping[str, int]],
    destination: tuple[float, float] | None,
) -> dict[str, float]:
    km = _distance(candidate, destination)
    # Without coordinates on either side distance cannot decide; every such candidate scores the same.
    proximity = 0.5 if km is None else 1 / (1 + km / HALF_SCORE_KM)
    balance = sum(
        (available[n.sku].get(candidate.code, 0) - n.quantity)
        / max(available[n.sku].get(candidate.code, 0), 1)
        for n in needs
    ) / max(len(needs), 1)
    if candidate.capacity_left is None or not candidate.capacity:
        capacity = 1.0 if candidate.capacity_left is None else 0.0
    else:
        capacity = max(candidate.capacity_left, 0) / candidate.capacity
    total = WEIGHTS["proximity"] * proximity + WEIGHTS["balance"] * max(balance, 0.0)
    total += WEIGHTS["capacity"] * capacity
    return {
        "proximity": round(proximity, 4),
        "balance": round(max(balance, 0.0), 4),
        "capacity": round(capacity, 4),
        "total": round(total, 4),
    }


def _covers(candidate: Candidate, need: Need, available: Mapping[str, Mapping[str, int]]) -> bool:
    if candidate.capacity_left is not None and candidate.capacity_left <= 0:
        return False
    return available[need.sku].get(candidate.code, 0) >= need.quantity


def plan_sourcing(
    needs: Sequence[Need],
    candidates: Sequence[Candidate],
    available: Mapping[str, Mapping[str, int]],
    *,
    destination: tuple[float, float] | None = None,
    preferred: str | None = None,
) -> Plan:
    """Choose a location per line; CannotSource (409) naming the line and its stock when none can.

    preferred (the pickup store of a click & collect order) sends every line it holds; only the lines
    it lacks are sourced by the rules from the other candidates.
    """
    locations: dict[int, str] = {}
    reasons: dict[int, str] = {}
    pending = list(needs)
    by_code = {c.code: c for c in candidates}
    if preferred is not None and preferred in by_code:
        store = by_code[preferred]
        for need in list(pending):
            if available[need.sku].get(store.code, 0) >= need.quantity:
                locations[need.line_no] = store.code
                reasons[need.line_no] = "the pickup store holds it"
                pending.remove(need)
    others = [c for c in candidates if c.code != preferred]
    while pending:
        covering = {c.code: [n for n in pending if _covers(c, n, available)] for c in others}
        best_count = max((len(lines) for lines in covering.values()), default=0)
        if best_count == 0:
            need = pending[0]
            stock = available[need.sku]
            most = max(stock.values(), default=0)
            raise CannotSource(
                f"not enough stock for line {need.line_no} ({need.sku}): {need.quantity} wanted, "
                f"at most {most} at one location",
                details=[
                    {
                        "field": f"lines.{need.line_no - 1}.quantity",
                        "rule": "not enough stock at any location that may fulfil this order",
                        "sku": need.sku,
                        "requested": need.quantity,
                        "available": most,
                        "available_by_location": dict(stock),
                    }
                ],
            )
        tied = [c for c in others if len(covering[c.code]) == best_count]
        scored = sorted(
            tied,
            key=lambda c: (-_scores(c, covering[c.code], available, destination)["total"], c.code),
        )
        chosen = scored[0]
        whole = best_count == len(pending) and not locations
        why = "sends the whole order in one parcel" if whole else f"holds {best_count} of the remaining lines"
        if len(scored) > 1:
            why += f"; best score of {len(scored)} such locations"
        for need in covering[chosen.code]:
            locations[need.line_no] = chosen.code
            reasons[need.line_no] = why
            pending.remove(need)
        others = [c for c in others if c.code != chosen.code]
    return Plan(locations, _explain(needs, candidates, available, destination, preferred, locations, reasons))


def _explain(
    needs: Sequence[Need],
    candidates: Sequence[Candidate],
    available: Mapping[str, Mapping[str, int]],
    destination: tuple[float, float] | None,
    preferred: str | None,
    locations: Mapping[int, str],
    reasons: Mapping[int, str],
) -> dict[str, Any]:
    lines = []
    for need in needs:
        considered = []
        for candidate in candidates:
            km = _distance(candidate, destination)
            considered.append(
                {
                    "location": candidate.code,
                    "kind": candidate.kind,
                    "available": available[need.sku].get(candidate.code, 0),
                    "distance_km": None if km is None else round(km, 1),
                    "capacity_left": candidate.capacity_left,
                    "scores": _scores(candidate, [need], available, destination),
                }
            )
        lines.append(
            {
                "line": need.line_no,
                "sku": need.sku,
                "quantity": need.quantity,
                "chosen": locations[need.line_no],
                "reason": reasons[need.line_no],
                "candidates": considered,
            }
        )
    return {
        "rules": ["pickup store first", "fewest splits", "proximity", "stock balance", "store capacity"]
        if preferred
        else ["fewest splits", "proximity", "stock balance", "store capacity"],
        "weights": WEIGHTS,
        "destination": list(destination) if destination else None,
        "pickup_store": preferred,
        "shipments": len(set(locations.values())),
        "lines": lines,
    }
