"""Funnels as one SQL plan, compiled by Ibis for SQLite, PostgreSQL and DuckDB.

For funnels without optional steps, step time limits or repeat conversions, greedy earliest matching is
exact (see funnels.py): from a fixed start, taking each step's first matching event after the step before
reaches at least as far as any other choice, since a later event can only leave fewer events after it.

The plan: the step events of everyone are sorted once, per person in (time, log position) order, and a
running count per event name rides on that one order (see _counted); a row's own count is its idx among
the person's events of its name, and its count of the following step's name is the idx of the next event
of that name (see _step_rows), so each step-1 row (a start) follows its greedy chain by equality joins on
(person, idx), each step cut at the window from step 1. The person's attempt is the start reaching
furthest, the earliest on ties (a GROUP BY on one score). One window sort and hash joins, which every
engine does well; the sort is the plan's main cost over resolving each event's person (bench/funnels.py).

Times travel as integer microseconds since the epoch, so the window edge is exact on every engine
(SQLite keeps times as text and Ibis cannot add intervals to them there).

Over the DuckDB export, funnel_export.py reads timelines numbered at export time instead (ADR 11); this
plan still compiles for DuckDB, and bench/funnels.py times both.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from omni.analytics import funnels
from omni.segments import compile as c
from omni.segments import values

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
NO_GROUP = "—"
# Above any place of a start, so that more steps done always outweighs an earlier start.
START_SPAN = 1 << 40
# Bits of one running count when two share a BIGINT: exact below 2**31 events of one name per person.
FIELD_BITS = 31


@dataclass(frozen=True)
class Scope:
    """What narrows the events: [start, end) in UTC, channel, store; segment narrows the people."""

    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    store: str | None = None
    segment_id: int | None = None


@dataclass(frozen=True)
class StepCounts:
    """One group's figures per step: attempts reaching it, dropped before it, median seconds from step 1."""

    people: list[int]
    dropped: list[int]
    median_seconds: list[float | None]


def eligible(funnel: funnels.Funnel) -> bool:
    """Whether the SQL plan is exact for funnel: no repeat, and no step is optional, limited or filtered.

    Property filters stay with the walker: its comparisons (a number equal to its text, "contains" on
    lists and texts) have no portable SQL twin on JSON as each engine reads it.
    """
    return not funnel.repeat and all(
        not s.optional and s.within is None and not s.where for s in funnel.steps
    )


def micros_of(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def moment_of(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


@ibis.udf.scalar.builtin(name="strftime")  # type: ignore[untyped-decorator]
def _sqlite_strftime(form: str, moment: str) -> str:  # type: ignore[empty-body]
    """SQLite's strftime."""


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def _duckdb_epoch_us(moment: datetime) -> int:  # type: ignore[empty-body]
    """DuckDB's microseconds since the epoch."""


@ibis.udf.scalar.builtin(name="date_part")  # type: ignore[untyped-decorator]
def _postgres_date_part(part: str, moment: datetime) -> float:  # type: ignore[empty-body]
    """PostgreSQL's date_part: seconds since the epoch with their fraction, for part 'epoch'."""


def micros(engine: str, moment: ir.TimestampValue) -> ir.IntegerValue:
    """Microseconds since the epoch of a stored time, exactly on every engine."""
    if engine == "duckdb":
        return _duckdb_epoch_us(moment)
    if engine == "postgresql":
        seconds = _postgres_date_part("epoch", moment)
        return (seconds * 1_000_000).round().cast("int64")
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from strftime, the fraction as written
    # (strftime would round .999999 up to the next second).
    written = moment.cast("string")
    whole = _sqlite_strftime("%s", written.substr(0, 19)).cast("int64")
    fraction = written.substr(20, 6).cast("int64")
    return whole * 1_000_000 + fraction


def group_of(engine: str, events: ir.Table, breakdown: str | None) -> ir.StringValue:
    """The breakdown value of an event: its channel, or its store (a till's own, else the order's)."""
    if breakdown is None:
        return ibis.literal("", "string")
    if breakdown == "channel":
        value: ir.StringValue = events.channel
    else:
        properties = values.Json(engine, events.properties)
        till = ibis.ifelse(events.source.startswith("pos:"), events.source.substr(4), ibis.null("string"))
        value = ibis.coalesce(properties["store_code"].str, properties["pickup_store"].str, till)
    return ibis.ifelse(value.isnull() | (value == ""), NO_GROUP, value)


def step_events(ctx: c.Context, funnel: funnels.Funnel, scope: Scope) -> ir.Table:
    """Every event of a step's name inside scope, with its person: person, us, position, event."""
    activity = ctx.t["profile_activity"]
    names = sorted({step.event for step in funnel.steps})
    rows = activity.filter(activity.event.isin(names))
    if scope.channel:
        rows = rows.filter(rows.channel == scope.channel)
    rows = rows.mutate(us=micros(ctx.engine, rows.occurred_at))
    if scope.store:
        rows = rows.filter(group_of(ctx.engine, rows, "store") == scope.store)
    if scope.start is not None:
        rows = rows.filter(rows.us >= micros_of(scope.start))
    if scope.end is not None:
        rows = rows.filter(rows.us < micros_of(scope.end))
    attribution, identifier = ctx.t["identity_event"], ctx.t["identity_identifier"]
    joined = rows.join(attribution, rows.position == attribution.position).join(
        identifier, attribution.identifier_id == identifier.id
    )
    owned = joined.select(
        person=joined.profile_id, us=joined.us, position=joined.position, event=joined.event
    )
    if scope.segment_id is not None:
        member = ctx.t["segment_member"]
        held = member.filter(member.segment_id == scope.segment_id).profile_id
        owned = owned.filter(owned.person.isin(held))
    return owned


def attempts(ctx: c.Context, funnel: funnels.Funnel, scope: Scope, breakdown: str | None) -> ir.Table:
    """Each person's best attempt: person, grp (of its step-1 event), s0 … per step (microseconds or null)."""
    if not eligible(funnel):
        raise ValueError("the SQL plan covers funnels without optional, limited, filtered or repeat steps")
    steps = funnel.steps
    names = sorted({s.event for s in steps})
    counted = _counted(step_events(ctx, funnel, scope), names)
    window = funnel.window // MICROSECOND
    chain: ir.Table | None = None
    for k, step in enumerate(steps):
        then = names.index(steps[k + 1].event) if k + 1 < len(steps) else None
        rows = _step_rows(counted, names.index(step.event), then)
        if chain is None:
            chain = rows.select(
                person=rows.person, first=rows.position, start=rows.idx, s0=rows.us, at_=rows.nxt
            )
            continue
        look = rows.select(p_=rows.person, q_=rows.idx, u_=rows.us, n_=rows.nxt)
        joined = chain.left_join(look, [chain.person == look.p_, chain.at_ == look.q_])
        # The chain only moves forward in time: a step within the window has all steps before it within.
        done = joined.u_.notnull() & (joined.u_ - joined.s0 <= window)
        chain = joined.select(
            *[joined[col] for col in chain.columns if col != "at_"],
            **{f"s{k}": ibis.ifelse(done, joined.u_, ibis.null("int64")), "at_": joined.n_},
        )
    assert chain is not None
    reached = sum(
        (ibis.ifelse(chain[f"s{k}"].notnull(), 1, 0) for k in range(1, len(steps))), ibis.literal(0, "int64")
    )
    # The best start reaches furthest, the earliest on ties: one number per start, the largest wins.
    scored = chain.mutate(score_=reached * START_SPAN - chain.start)
    best = scored.group_by(scored.person).aggregate(top_=scored.score_.max())
    kept = scored.join(best, [scored.person == best.person, scored.score_ == best.top_])
    return grouped(ctx, kept, len(steps), breakdown)


def grouped(ctx: c.Context, kept: ir.Table, size: int, breakdown: str | None) -> ir.Table:
    """kept's attempts (person, first: the start's log position, s0 …) as person, grp, s0 ….

    The group is read for the chosen starts only, so that no text travels through the sorts.
    """
    done = [f"s{k}" for k in range(size)]
    if breakdown is None:
        return kept.select("person", *done, grp=ibis.literal("", "string")).select("person", "grp", *done)
    activity = ctx.t["profile_activity"]
    joined = kept.join(activity, kept.first == activity.position)
    joined = joined.mutate(grp=group_of(ctx.engine, joined, breakdown))
    return joined.select("person", "grp", *done)


def _counted(events: ir.Table, names: list[str]) -> ir.Table:
    """events as person, us, position, code (the index of their name in names) and, per pair of names,
    w0 …: how many events of each name of the pair the person has up to this one, in (time, log
    position) order, packed as count(2g) + count(2g + 1) << FIELD_BITS (see _count).

    One sort for every name: each w is a running sum over the same order, and packing two names in one
    sum halves the windowed sums, which cost DuckDB as much as the sort each.
    """
    code = ibis.cases(*[(events.event == name, j) for j, name in enumerate(names)], else_=-1)
    coded = events.select(events.person, events.us, events.position, code=code.cast("int8"))
    order = ibis.cumulative_window(group_by=coded.person, order_by=[coded.us, coded.position])
    sums = {}
    for g in range(0, len(names), 2):
        unit = ibis.cases((coded.code == g, 1), (coded.code == g + 1, 1 << FIELD_BITS), else_=0)
        # PostgreSQL sums BIGINTs as NUMERIC, which has no bit shifts; Ibis drops a cast to the type it
        # already expects, so the sum goes through DECIMAL to reach BIGINT.
        total = unit.cast("int64").sum().over(order)
        sums[f"w{g // 2}"] = total.cast(dt.Decimal(38, 0)).cast("int64")
    return coded.mutate(**sums)


def _count(counted: ir.Table, name: int) -> ir.IntegerValue:
    """The running count of the name numbered name, unpacked from its pair's sum."""
    packed: ir.IntegerValue = counted[f"w{name // 2}"]
    return (packed >> FIELD_BITS) if name % 2 else (packed & ((1 << FIELD_BITS) - 1))


def _step_rows(counted: ir.Table, name: int, then: int | None) -> ir.Table:
    """The rows of the name numbered name: person, position, us, idx (their place among the person's
    rows of that name, from 0) and nxt (the idx of the next row of the name numbered then).

    The running count of then's rows up to a row counts those before it, plus the row itself when the
    names are equal; either way it is the idx of the next row of then (joined on person and idx).
    """
    rows = counted.filter(counted.code == name)
    nxt = ibis.null("int64") if then is None else _count(rows, then)
    return rows.select(rows.person, rows.position, rows.us, idx=_count(rows, name) - 1, nxt=nxt)


def summary(ctx: c.Context, funnel: funnels.Funnel, scope: Scope, breakdown: str | None) -> ir.Table:
    """Per breakdown group (all when none): people doing each step (p0 …) and median seconds (m0 …).

    Medians need an engine with one (DuckDB, PostgreSQL); SQLite reads attempts() and counts in Python.
    """
    return summarised(attempts(ctx, funnel, scope, breakdown), len(funnel.steps))


def summarised(best: ir.Table, size: int) -> ir.Table:
    """Attempts (person, grp, s0 …) as summary() rows."""
    figures: dict[str, Any] = {}
    for k in range(size):
        figures[f"p{k}"] = best[f"s{k}"].count()
        figures[f"m{k}"] = ((best[f"s{k}"] - best.s0).cast("float64") / 1_000_000).median()
    return best.group_by("grp").aggregate(**figures)


def counts_of(funnel: funnels.Funnel, rows: Sequence[Sequence[Any]]) -> dict[str, StepCounts]:
    """summary() rows as figures per group; without optional steps, dropped before k is p(k-1) - p(k)."""
    size = len(funnel.steps)
    found: dict[str, StepCounts] = {}
    for row in rows:
        group, values = str(row[0]), dict(zip(summary_columns(size), row[1:], strict=True))
        people = [int(values[f"p{k}"]) for k in range(size)]
        medians = [None if values[f"m{k}"] is None else float(values[f"m{k}"]) for k in range(size)]
        dropped = [0, *[people[k - 1] - people[k] for k in range(1, size)]]
        found[group] = StepCounts(people, dropped, medians)
    return found


def summary_columns(size: int) -> list[str]:
    return [name for k in range(size) for name in (f"p{k}", f"m{k}")]


def as_attempts(rows: Sequence[Sequence[Any]]) -> list[funnels.Attempt]:
    """attempts() rows as the walker's attempts, times back as aware UTC datetimes."""
    return [
        funnels.Attempt(
            int(row[0]),
            str(row[1]),
            tuple(None if us is None else moment_of(int(us)) for us in row[2:]),
        )
        for row in rows
    ]


@functools.lru_cache(maxsize=256)
def sql_of(engine: str, funnel: funnels.Funnel, scope: Scope, breakdown: str | None, *, summed: bool) -> str:
    """The SQL of attempts() or, summed, of summary(), for engine; kept, as Ibis takes a while to compile."""
    ctx = c.Context(engine=engine, now=EPOCH, priority=())
    build = summary if summed else attempts
    return c.to_sql(ctx, build(ctx, funnel, scope, breakdown))
