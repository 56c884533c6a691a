from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from omni.identity.graph import Graph, Key, Sighting
from omni.identity.rules import RULE_CO_OCCURRENCE, StitchRules

RULES = StitchRules(limits={"user_id": 1, "email": 2, "phone": 2, "anonymous_id": 3})
START = datetime(2026, 3, 1, tzinfo=UTC)

keys = st.one_of(
    st.builds(lambda n: ("user_id", f"u{n}"), st.integers(0, 5)),
    st.builds(lambda n: ("email", f"e{n}@gmail.com"), st.integers(0, 5)),
    st.builds(lambda n: ("phone", f"+88691234567{n}"), st.integers(0, 5)),
    st.builds(lambda n: ("anonymous_id", f"a{n}"), st.integers(0, 9)),
)
streams = st.lists(st.lists(keys, min_size=1, max_size=4, unique=True), min_size=1, max_size=40)


def _sightings(stream: list[list[Key]]) -> list[Sighting]:
    return [
        Sighting(
            position=n + 1,
            message_id=f"m{n}",
            source="web",
            occurred_at=START + timedelta(minutes=n),
            identifiers=tuple(sorted(ids, key=lambda key: RULES.rank(key[0]))),
            rule=RULE_CO_OCCURRENCE,
        )
        for n, ids in enumerate(stream)
    ]


def _groups(graph: Graph, identifiers: set[Key]) -> dict[int, set[Key]]:
    groups: dict[int, set[Key]] = {}
    for key in identifiers:
        root = graph.profile_of(key)
        if root is not None:
            groups.setdefault(root, set()).add(key)
    return groups


def _people(graph: Graph, identifiers: set[Key]) -> set[frozenset[Key]]:
    return {frozenset(group) for group in _groups(graph, identifiers).values()}


@given(streams)
def test_no_profile_ever_exceeds_a_limit(stream: list[list[Key]]) -> None:
    graph = Graph(RULES, {}, {})
    for sighting in _sightings(stream):
        graph.observe(sighting)
    for group in _groups(graph, {key for ids in stream for key in ids}).values():
        for kind, n in Counter(kind for kind, _ in group).items():
            limit = RULES.limit(kind)
            assert limit is None or n <= limit


@given(streams)
def test_every_event_is_attributed_to_one_of_its_own_identifiers(stream: list[list[Key]]) -> None:
    graph = Graph(RULES, {}, {})
    sightings = _sightings(stream)
    for sighting in sightings:
        graph.observe(sighting)
    assert [
        (p, key in s.identifiers) for (p, key), s in zip(graph.plan.attributions, sightings, strict=True)
    ] == [(s.position, True) for s in sightings]


@given(streams, st.integers(0, 40))
def test_splitting_a_stream_into_two_batches_gives_the_same_people(stream: list[list[Key]], cut: int) -> None:
    # given the whole stream linked at once
    sightings = _sightings(stream)
    whole = Graph(RULES, {}, {})
    for sighting in sightings:
        whole.observe(sighting)
    # when it is linked in two batches, the second starting from what the first stored
    first = Graph(RULES, {}, {})
    for sighting in sightings[:cut]:
        first.observe(sighting)
    stored_id = {node: n + 1 for n, node in enumerate(first.plan.new_profiles)}
    known = {key: stored_id[root] for key in first.plan.new_identifiers if (root := first.profile_of(key))}
    counts: dict[int, dict[str, int]] = {}
    for key, profile in known.items():
        counts.setdefault(profile, {}).setdefault(key[0], 0)
        counts[profile][key[0]] += 1
    second = Graph(RULES, known, counts)
    for sighting in sightings[cut:]:
        second.observe(sighting)
    # then the same identifiers end up together
    identifiers = {key for ids in stream for key in ids}
    assert _people(second, identifiers) == _people(whole, identifiers)
    assert len(first.plan.merges) + len(second.plan.merges) == len(whole.plan.merges)
    assert len(first.plan.conflicts) + len(second.plan.conflicts) == len(whole.plan.conflicts)
