"""Funnels on DuckDB over the Parquet export: ASOF joins along each person's numbered timeline.

The export numbers each person's events in (time, log position) order (timelines.py). The greedy step
after an event, the first event of the next step's name later in the person's timeline, is then an ASOF
join on (person, seq), and a start's chain is one ASOF join per step.
Each join keeps only the chains still inside the window, so later steps join fewer rows. No window
function runs over all the events, as funnel_sql's plan for the operational stores has to, and no event
is joined to identity tables or read for its store at query time.

As in funnel_sql (which explains why greedy earliest matching is exact for these funnels), a person's
attempt is the start reaching furthest, the earliest on ties: per step reached, the earliest start that
reached it, and the furthest step that has one.
"""

from __future__ import annotations

import functools
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir

from omni.analytics import funnel_sql, funnels, timelines
from omni.segments import compile as c

ENGINE = "duckdb"


def step_rows(funnel: funnels.Funnel, scope: funnel_sql.Scope, breakdown: str | None) -> ir.Table:
    """Every event of a step's name inside scope: person, seq, us, event, grp (its breakdown value)."""
    rows = timelines.table()
    rows = rows.filter(rows.event.isin(sorted({step.event for step in funnel.steps})))
    if scope.channel:
        rows = rows.filter(rows.channel == scope.channel)
    if scope.store:
        rows = rows.filter(rows.store == scope.store)
    if scope.start is not None:
        rows = rows.filter(rows.us >= funnel_sql.micros_of(scope.start))
    if scope.end is not None:
        rows = rows.filter(rows.us < funnel_sql.micros_of(scope.end))
    if scope.segment_id is not None:
        member = c.tables(ENGINE)["segment_member"]
        rows = rows.filter(rows.person.isin(member.filter(member.segment_id == scope.segment_id).profile_id))
    grp = ibis.literal("", "string") if breakdown is None else rows[breakdown]
    return rows.select("person", "seq", "us", "event", grp=grp)


def attempts(funnel: funnels.Funnel, scope: funnel_sql.Scope, breakdown: str | None) -> ir.Table:
    """Each person's best attempt: person, grp (of its step-1 event), s0 … per step (microseconds or null)."""
    if not funnel_sql.eligible(funnel):
        raise ValueError("the export plan covers funnels with no optional, limited, filtered or repeat step")
    if breakdown not in (None, "channel", "store"):
        raise ValueError(f"breakdown: channel or store, not {breakdown!r}")
    rows = step_rows(funnel, scope, breakdown)
    window = funnel.window // funnel_sql.MICROSECOND
    first = rows.filter(rows.event == funnel.steps[0].event)
    chain = first.select(person=first.person, start=first.seq, grp=first.grp, s0=first.us, at_=first.seq)
    reached = [chain]
    for k, step in enumerate(funnel.steps[1:], start=1):
        look = rows.filter(rows.event == step.event)
        look = look.select(p_=look.person, q_=look.seq, u_=look.us)
        joined = chain.asof_join(look, on=chain.at_ < look.q_, predicates=[chain.person == look.p_])
        # Chains move forward in time: one whose step k is past the window has reached no further.
        joined = joined.filter(joined.u_.notnull() & (joined.u_ - joined.s0 <= window))
        chain = joined.select(
            *[joined[col] for col in chain.columns if col != "at_"], **{f"s{k}": joined.u_, "at_": joined.q_}
        )
        reached.append(chain)
    return _best(reached)


def _best(reached: list[ir.Table]) -> ir.Table:
    """person, grp, s0 … of each person's attempt, from the chains reaching each step (reached[k]).

    The attempt comes from the furthest step reached: its earliest start. Every column is that step's
    value where it has one, so a coalesce from the furthest step down picks it.
    """
    size = len(reached)
    earliest = []
    for k, chains in enumerate(reached):
        values = ["grp", *[f"s{j}" for j in range(k + 1)]]
        pick = ibis.struct({v: chains[v] for v in values}).argmin(chains.start)
        best = chains.group_by(chains.person).aggregate(**{f"t{k}_": pick})
        earliest.append(best.rename(**{f"p{k}_": "person"}))
    people = earliest[0].select(person=earliest[0].p0_)
    joined = people
    for k, best in enumerate(earliest):
        joined = joined.left_join(best, people.person == best[f"p{k}_"])

    def latest(column: str, lowest: int) -> ir.Value:
        return ibis.coalesce(*[joined[f"t{k}_"][column] for k in range(size - 1, lowest - 1, -1)])

    steps = {f"s{j}": latest(f"s{j}", j) for j in range(size)}
    return joined.select(person=people.person, grp=latest("grp", 0), **steps)


def summary(funnel: funnels.Funnel, scope: funnel_sql.Scope, breakdown: str | None) -> ir.Table:
    """Per breakdown group: people doing each step (p0 …) and median seconds from step 1 (m0 …)."""
    return funnel_sql.summarised(attempts(funnel, scope, breakdown), len(funnel.steps))


@functools.lru_cache(maxsize=256)
def sql_of(funnel: funnels.Funnel, scope: funnel_sql.Scope, breakdown: str | None, *, summed: bool) -> str:
    """The DuckDB SQL of attempts() or, summed, of summary(); kept, as Ibis takes a while to compile."""
    ctx = c.Context(engine=ENGINE, now=funnel_sql.EPOCH, priority=())
    build = summary if summed else attempts
    return c.to_sql(ctx, build(funnel, scope, breakdown))


def run(
    duck: duckdb.DuckDBPyConnection, funnel: funnels.Funnel, scope: funnel_sql.Scope, breakdown: str | None
) -> list[tuple[Any, ...]]:
    """summary() rows over an export opened by timelines.opened, for large stores."""
    return [tuple(row) for row in duck.execute(sql_of(funnel, scope, breakdown, summed=True)).fetchall()]
