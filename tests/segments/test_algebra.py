"""Invariant: AND, OR and NOT of conditions select exactly the set algebra of what each condition selects."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from omni.segments import compile as c
from omni.segments import repository, service
from omni.segments.definitions import MAX_DEPTH
from tests.segments.builders import NOW, shop

LEAVES: list[dict[str, Any]] = [
    {"trait": "city", "value": "台北市"},
    {"event": "Product Viewed", "min_times": 3},
    {"orders": "count", "op": "gte", "value": 1},
    {"orders": "channels", "op": "gte", "value": 2},
    {"consent": "email", "status": "unknown"},
    {"trait": "phone", "op": "exists"},
]
trees = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda items: {"all": items}),
        st.lists(inner, min_size=1, max_size=3).map(lambda items: {"any": items}),
        inner.map(lambda item: {"not": item}),
    ),
    max_leaves=6,
)


def _depth(tree: dict[str, Any]) -> int:
    """Groups nested inside one another; validation refuses more than MAX_DEPTH."""
    if "not" in tree:
        return 1 + _depth(tree["not"])
    items = tree.get("all") or tree.get("any")
    return 1 + max(_depth(item) for item in items) if items else 0


def _expected(tree: dict[str, Any], leaf_members: dict[str, set[int]], everyone: set[int]) -> set[int]:
    if "all" in tree:
        found = set(everyone)
        for item in tree["all"]:
            found &= _expected(item, leaf_members, everyone)
        return found
    if "any" in tree:
        return set().union(*(_expected(item, leaf_members, everyone) for item in tree["any"]))
    if "not" in tree:
        return everyone - _expected(tree["not"], leaf_members, everyone)
    return leaf_members[repr(tree)]


def test_groups_are_the_set_algebra_of_their_conditions(session: Session) -> None:
    # given the shop, and what each condition selects alone
    shop(session)
    ctx = service.context(session, now=NOW)

    def members(definition: dict[str, Any]) -> set[int]:
        return repository.profile_ids(
            session, ctx, c.members(ctx, service.check(session, definition, ctx=ctx))
        )

    leaf_members = {repr(leaf): members(leaf) for leaf in LEAVES}
    everyone = repository.profile_ids(session, ctx, c.universe(ctx))

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(tree=trees)
    def check(tree: dict[str, Any]) -> None:
        # when any nesting of groups is compiled and run, then it equals the algebra of its leaves
        assume(_depth(tree) <= MAX_DEPTH)
        assert members(tree) == _expected(tree, leaf_members, everyone)

    check()
