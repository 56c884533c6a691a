"""Retention cohorts: of the people whose first purchase fell in a month (or came through a channel),
how many bought again in each calendar month after it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

MAX_MONTHS = 24


@dataclass(frozen=True, slots=True)
class Purchase:
    person: int
    at: datetime
    channel: str


def month_of(at: datetime, zone: ZoneInfo) -> date:
    """The first day of the local month at falls in."""
    return at.astimezone(zone).date().replace(day=1)


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def cohorts(
    purchases: Iterable[Purchase],
    *,
    by: str,
    months: int,
    zone: ZoneInfo,
    first_from: datetime | None = None,
    first_before: datetime | None = None,
) -> list[list[str | int]]:
    """Rows of cohort, customers, then buyers in month 0 .. months after the first purchase's month.

    purchases come in person then time order. A person joins the cohort of their first purchase ever
    (its local month, or its channel for by="channel"), when that first purchase lies in [first_from,
    first_before).
    """
    sizes: dict[str, int] = {}
    active: dict[str, list[int]] = {}
    person: int | None = None
    first: Purchase | None = None
    seen: set[int] = set()

    def close() -> None:
        if first is None or not seen:
            return
        if (first_from and first.at < first_from) or (first_before and first.at >= first_before):
            return
        cohort = month_of(first.at, zone).strftime("%Y-%m") if by == "month" else first.channel
        sizes[cohort] = sizes.get(cohort, 0) + 1
        counts = active.setdefault(cohort, [0] * (months + 1))
        for offset in seen:
            counts[offset] += 1

    for purchase in purchases:
        if purchase.person != person:
            close()
            person, first, seen = purchase.person, purchase, set()
        assert first is not None
        offset = months_between(month_of(first.at, zone), month_of(purchase.at, zone))
        if offset <= months:
            seen.add(offset)
    close()
    return [[cohort, sizes[cohort], *active[cohort]] for cohort in sorted(sizes)]


def columns(months: int) -> list[str]:
    return ["cohort", "customers", *(f"month_{m}" for m in range(months + 1))]
