"""One segment definition, one Ibis expression: the same SQL logic for SQLite, PostgreSQL and DuckDB.

The expression is built over unbound tables named as the operational store names them (the event
timeline, identity's attributions, traits, consent, computed-trait inputs, tags, members); ibis.to_sql
renders it for the engine at hand. Each condition is a set of live profile ids; AND, OR and NOT are
INTERSECT, UNION and EXCEPT against the live profiles. Where no events means a value of zero (an order
count, a sum), the profiles without any are added back when zero satisfies the comparison.
Comparisons stay in integers where engines could round differently (RFM scores, top-percent ranks).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from omni.segments import definitions as d
from omni.segments import values

ORDER_EVENT = "Order Completed"
# An order's categories are read from its first line items; a longer basket is rare in retail.
CATEGORY_LINES = 20
# Identifier kinds that make a person reachable on a channel.
CONTACT_KINDS = {"email": ("email",), "sms": ("phone",), "whatsapp": ("phone",), "line": ("line_id",)}
DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb"}


def source_schemas(json_type: dt.DataType) -> dict[str, dict[str, Any]]:
    at = dt.Timestamp(timezone="UTC")
    return {
        "profile_activity": {
            "position": "int64",
            "occurred_at": at,
            "type": "string",
            "event": "string",
            "channel": "string",
            "source": "string",
            "properties": json_type,
        },
        "identity_event": {"position": "int64", "identifier_id": "int64"},
        "identity_identifier": {
            "id": "int64",
            "kind": "string",
            "value": "string",
            "profile_id": "int64",
            "last_seen_at": at,
        },
        "identity_profile": {"id": "int64", "merged_into_id": "int64"},
        "profile_trait": {
            "position": "int64",
            "trait": "string",
            "value": json_type,
            "source": "string",
            "observed_at": at,
        },
        "profile_consent": {
            "position": "int64",
            "channel": "string",
            "purpose": "string",
            "granted": "boolean",
            "decided_at": at,
        },
        "profile_computed_input": {
            "position": "int64",
            "trait_id": "int64",
            "occurred_at": at,
            "value": json_type,
        },
        "segment_tag": {"kind": "string", "value": "string", "tag": "string"},
        "segment_member": {"segment_id": "int64", "profile_id": "int64"},
    }


TABLES = tuple(source_schemas(dt.json))


@functools.cache
def tables(engine: str) -> dict[str, ir.Table]:
    """The unbound source tables as engine stores them (PostgreSQL's JSON columns are jsonb)."""
    json_type = dt.JSON(binary=True) if engine == "postgresql" else dt.json
    return {name: ibis.table(schema, name=name) for name, schema in source_schemas(json_type).items()}


@dataclass(frozen=True)
class ComputedTraitRef:
    id: int
    aggregation: str
    window_days: int | None


@dataclass(frozen=True)
class Context:
    """What a definition is evaluated against: the engine, the moment, the store's rules and names."""

    engine: str
    now: datetime
    priority: Sequence[str]
    computed: Mapping[str, ComputedTraitRef] = field(default_factory=dict)
    segment_ids: Mapping[str, int] = field(default_factory=dict)
    # Evaluate only these profiles (incremental updates, "why"); None for everyone.
    profiles: Sequence[int] | None = None

    @property
    def t(self) -> dict[str, ir.Table]:
        return tables(self.engine)

    def since(self, days: int | None) -> datetime | None:
        # Whole seconds: SQLite compares stored times as text, and a literal without fractions sorts first.
        return (self.now - timedelta(days=days)).replace(microsecond=0) if days else None

    @property
    def until(self) -> datetime:
        """Events before this moment have happened: the end of now's second, compared with <.

        Also whole seconds for SQLite; rounding down instead would leave out an event logged earlier
        in the same second, which the consumer evaluating it right away would then never count.
        """
        return self.now.replace(microsecond=0) + timedelta(seconds=1)


# A table of one column, profile_id, each live profile once.
Members: TypeAlias = ir.Table


def universe(ctx: Context) -> Members:
    """Every live profile (not absorbed by a merge), or the chosen ones among them."""
    profile = ctx.t["identity_profile"]
    live = profile.filter(profile.merged_into_id.isnull())
    if ctx.profiles is not None:
        live = live.filter(live.id.isin(list(ctx.profiles)))
    return live.select(profile_id=live.id)


def everyone(ctx: Context) -> Context:
    """ctx evaluating every profile, for measures that rank a person against all the others."""
    return dataclasses.replace(ctx, profiles=None)


def _chosen(ctx: Context, found: Members) -> Members:
    return found if ctx.profiles is None else found.filter(found.profile_id.isin(list(ctx.profiles)))


def _owned(ctx: Context, rows: ir.Table) -> ir.Table:
    """rows (keyed by log position) with the live profile each belongs to now."""
    attribution, identifier = ctx.t["identity_event"], ctx.t["identity_identifier"]
    joined = rows.join(attribution, rows.position == attribution.position).join(
        identifier, attribution.identifier_id == identifier.id
    )
    owned = joined.select(*[joined[c] for c in rows.columns], profile_id=joined.profile_id)
    if ctx.profiles is not None:
        owned = owned.filter(owned.profile_id.isin(list(ctx.profiles)))
    return owned


def _distinct(rows: ir.Table) -> Members:
    return rows.select("profile_id").distinct()


def _counted(ctx: Context, counts: ir.Table, column: str, compare: d.Compare) -> Members:
    """Profiles whose count/sum satisfies compare; people with no rows count as zero."""
    found = _distinct(counts.filter(values.matches(counts[column], compare)))
    if values.holds(compare, 0):
        found = found.union(universe(ctx).difference(_distinct(counts)), distinct=True)
    return found


def _latest(rows: ir.Table, keys: Sequence[str], order: Sequence[Any]) -> ir.Table:
    ranked = rows.mutate(_n=ibis.row_number().over(group_by=list(keys), order_by=list(order)))
    return ranked.filter(ranked._n == 0).drop("_n")


def resolved_traits(ctx: Context, name: str) -> ir.Table:
    """Each profile's winning value of a trait, by source priority, then time, then log position."""
    trait = ctx.t["profile_trait"]
    stated = _owned(ctx, trait.filter(trait.trait == name))
    rank: ir.IntegerValue = ibis.literal(len(ctx.priority))
    for index, kind in reversed(list(enumerate(ctx.priority))):
        rank = ibis.ifelse((stated.source == kind) | stated.source.startswith(f"{kind}:"), index, rank)
    stated = stated.mutate(_rank=rank)
    order = [stated._rank, ibis.desc(stated.observed_at), ibis.desc(stated.position)]
    return _latest(stated, ["profile_id"], order)


def person_events(ctx: Context, leaf: d.Event | d.Orders) -> ir.Table:
    """The events a condition counts: by name, window, channel and property filters, with their person."""
    activity = ctx.t["profile_activity"]
    name = leaf.event if isinstance(leaf, d.Event) else ORDER_EVENT
    rows = activity.filter(activity.type == "track", activity.event == name)
    since = ctx.since(leaf.within_days)
    if since is not None:
        rows = rows.filter(rows.occurred_at >= since, rows.occurred_at < ctx.until)
    if leaf.channel:
        rows = rows.filter(rows.channel == leaf.channel)
    if isinstance(leaf, d.Event):
        for where in leaf.where:
            rows = rows.filter(
                values.json_compare(
                    values.json_at(values.Json(ctx.engine, rows.properties), where.property), where.compare
                )
            )
    else:
        if leaf.store:
            rows = rows.filter(values.Json(ctx.engine, rows.properties)["store_code"].str == leaf.store)
        if leaf.category:
            lines = [
                values.Json(ctx.engine, rows.properties)["products"][i]["category"].str == leaf.category
                for i in range(CATEGORY_LINES)
            ]
            rows = rows.filter(functools.reduce(lambda a, b: a | b, lines))
    return _owned(ctx, rows)


def _revenue_minor(engine: str, rows: ir.Table) -> ir.NumericValue:
    # Orders state revenue_minor when the sender knows minor units, revenue (major units) otherwise.
    properties = values.Json(engine, rows.properties)
    major = properties["revenue"].float * 100
    return properties["revenue_minor"].float.coalesce(major).round(0)


def _buyers(ctx: Context, leaf: d.Orders | d.Rfm) -> ir.Table:
    """Per buyer: order count, revenue in minor units, last order time, channels bought on."""
    if isinstance(leaf, d.Rfm):
        leaf = d.Orders("count", d.Compare("gte", 1), leaf.within_days, None, None, None, leaf.path)
    rows = person_events(ctx, leaf)
    rows = rows.mutate(_revenue=_revenue_minor(ctx.engine, rows))
    return rows.group_by("profile_id").agg(
        orders=rows.position.count(),
        revenue=rows._revenue.sum(),
        last_at=rows.occurred_at.max(),
        channels=rows.channel.nunique(),
    )


def _rank_score(table: ir.Table, column: str, score: tuple[int, int]) -> ir.BooleanValue:
    # score = 1 + floor(5 * rank / n), kept in integers: low - 1 <= 5 * rank / n < high.
    rank = ibis.rank().over(order_by=table[column])
    n = table.profile_id.count().over(ibis.window())
    return ((score[0] - 1) * n <= rank * 5) & (rank * 5 < score[1] * n)


def _leaf(ctx: Context, leaf: d.Node) -> Members:
    if isinstance(leaf, d.Trait):
        resolved = resolved_traits(ctx, leaf.name)
        return _distinct(
            resolved.filter(values.json_compare(values.Json(ctx.engine, resolved.value), leaf.compare))
        )
    if isinstance(leaf, d.ComputedTrait):
        return _computed(ctx, leaf)
    if isinstance(leaf, d.Tag):
        tag, identifier = ctx.t["segment_tag"], ctx.t["identity_identifier"]
        held = tag.filter(tag.tag == leaf.tag).join(
            identifier, (tag.kind == identifier.kind) & (tag.value == identifier.value)
        )
        return _distinct(held.select(profile_id=held.profile_id)).intersect(universe(ctx))
    if isinstance(leaf, d.Event):
        events = person_events(ctx, leaf)
        if not leaf.performed:
            return universe(ctx).difference(_distinct(events))
        counts = events.group_by("profile_id").agg(n=events.position.count())
        low = d.Compare("gte", leaf.min_times)
        found = _counted(ctx, counts, "n", low)
        if leaf.max_times is not None:
            found = found.intersect(_counted(ctx, counts, "n", d.Compare("lte", leaf.max_times)))
        return found
    if isinstance(leaf, d.Orders):
        return _orders(ctx, leaf)
    if isinstance(leaf, d.Rfm):
        # Scores rank a buyer among all buyers, however few people are being evaluated.
        buyers = _buyers(everyone(ctx), leaf)
        scored = buyers.mutate(
            _r=_rank_score(buyers, "last_at", leaf.r),
            _f=_rank_score(buyers, "orders", leaf.f),
            _m=_rank_score(buyers, "revenue", leaf.m),
        )
        return _chosen(ctx, _distinct(scored.filter(scored._r & scored._f & scored._m)))
    if isinstance(leaf, d.Consent):
        return _consent(ctx, leaf.channel, leaf.purpose, leaf.status)
    if isinstance(leaf, d.Reachable):
        return _reachable(ctx, leaf.channel)
    if isinstance(leaf, d.InSegment):
        member = ctx.t["segment_member"]
        held = member.filter(member.segment_id == ctx.segment_ids[leaf.key])
        if ctx.profiles is not None:
            held = held.filter(held.profile_id.isin(list(ctx.profiles)))
        return _distinct(held).intersect(universe(ctx))
    raise TypeError(f"not a condition: {leaf!r}")


def _computed(ctx: Context, leaf: d.ComputedTrait) -> Members:
    ref = ctx.computed[leaf.name]
    inputs = ctx.t["profile_computed_input"]
    rows = inputs.filter(inputs.trait_id == ref.id, inputs.occurred_at < ctx.until)
    since = ctx.since(ref.window_days)
    if since is not None:
        rows = rows.filter(rows.occurred_at >= since)
    rows = _owned(ctx, rows)
    number = values.Json(ctx.engine, rows.value).float
    aggregate = {
        "count": rows.position.count(),
        "sum": number.sum(),
        "avg": number.mean(),
        "min": number.min(),
        "max": number.max(),
    }[ref.aggregation]
    per_person = rows.group_by("profile_id").agg(v=aggregate)
    if ref.aggregation in ("count", "sum"):
        return _counted(ctx, per_person, "v", leaf.compare)
    return _distinct(per_person.filter(values.matches(per_person.v, leaf.compare)))


def _orders(ctx: Context, leaf: d.Orders) -> Members:
    buyers = _buyers(ctx, leaf)
    if leaf.metric in ("count", "revenue", "channels"):
        column = {"count": "orders", "revenue": "revenue", "channels": "channels"}[leaf.metric]
        return _counted(ctx, buyers, column, leaf.compare)
    if leaf.metric == "last_days":
        cutoff = (ctx.now - timedelta(days=leaf.compare.value)).replace(microsecond=0)
        recent = leaf.compare.op in ("lt", "lte")
        return _distinct(buyers.filter(buyers.last_at >= cutoff if recent else buyers.last_at < cutoff))
    # The place is among all buyers, however few people are being evaluated.
    paying = _buyers(everyone(ctx), leaf)
    paying = paying.filter(paying.revenue > 0)
    ranked = paying.mutate(
        _rank=ibis.rank().over(order_by=ibis.desc(paying.revenue)),
        _n=paying.profile_id.count().over(ibis.window()),
    )
    # Top p percent: the buyer's place (1 for the biggest) is within p/100 of the buyers; in integers,
    # so no engine rounds differently. Ties share a place.
    percent = int(leaf.compare.value * 100)
    return _chosen(ctx, _distinct(ranked.filter((ranked._rank + 1) * 10_000 <= ranked._n * percent)))


def latest_consent(ctx: Context, channel: str, purpose: str) -> ir.Table:
    """Each profile's latest decision for channel and purpose (a later log position breaks a tie)."""
    consent = ctx.t["profile_consent"]
    decided = _owned(ctx, consent.filter(consent.channel == channel, consent.purpose == purpose))
    return _latest(decided, ["profile_id"], [ibis.desc(decided.decided_at), ibis.desc(decided.position)])


def _consent(ctx: Context, channel: str, purpose: str, status: str) -> Members:
    latest = latest_consent(ctx, channel, purpose)
    if status == "unknown":
        return universe(ctx).difference(_distinct(latest))
    return _distinct(latest.filter(latest.granted == (status == "granted")))


def _reachable(ctx: Context, channel: str) -> Members:
    """Profiles with a way to reach them on channel who said yes to marketing there."""
    granted = _consent(ctx, channel, "marketing", "granted")
    if channel == "push":
        activity = ctx.t["profile_activity"]
        contact = _distinct(_owned(ctx, activity.filter(activity.channel == "app")))
    else:
        identifier = ctx.t["identity_identifier"]
        held = identifier.filter(identifier.kind.isin(list(CONTACT_KINDS[channel])))
        if ctx.profiles is not None:
            held = held.filter(held.profile_id.isin(list(ctx.profiles)))
        contact = _distinct(held.select("profile_id"))
    return granted.intersect(contact)


def members(ctx: Context, tree: d.Node) -> Members:
    """The live profiles a definition selects."""
    if isinstance(tree, d.All):
        positive = [members(ctx, c) for c in tree.conditions if not isinstance(c, d.Not)]
        negative = [members(ctx, c.condition) for c in tree.conditions if isinstance(c, d.Not)]
        found = functools.reduce(lambda a, b: a.intersect(b), positive) if positive else universe(ctx)
        return functools.reduce(lambda a, b: a.difference(b), negative, found)
    if isinstance(tree, d.Any_):
        return functools.reduce(
            lambda a, b: a.union(b, distinct=True), [members(ctx, c) for c in tree.conditions]
        )
    if isinstance(tree, d.Not):
        return universe(ctx).difference(members(ctx, tree.condition))
    return _leaf(ctx, tree)


def evidence(ctx: Context, leaf: d.Node) -> ir.Table | None:
    """The events that make an event or order condition hold for ctx's profiles, newest first."""
    if not isinstance(leaf, d.Event | d.Orders):
        return None
    rows = person_events(ctx, leaf)
    return rows.select("position", "occurred_at", "event", "channel").order_by(
        ibis.desc(rows.occurred_at), ibis.desc(rows.position)
    )


def to_sql(ctx: Context, expression: ir.Table) -> str:
    """The expression as SQL of ctx's engine."""
    return str(ibis.to_sql(expression, dialect=DIALECTS[ctx.engine]))


def count_of(expression: Members) -> ir.Table:
    """A one-row table of how many profiles expression selects."""
    return expression.aggregate(n=expression.profile_id.count())
