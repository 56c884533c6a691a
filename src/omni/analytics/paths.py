"""Cross-channel paths: the channels a person moved through before each purchase, as a Sankey.

A path is the person's visits in the lookback before the purchase (other orders left out, and identify,
alias and group messages too, as they are records, not visits), reduced to channels with repeats in a
row collapsed, keeping the last few; it ends at the purchase's channel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta

from omni.analytics.repository import ORDER_COMPLETED, PersonEvent

PURCHASE = "purchase"
TOUCHES = frozenset({"track", "page", "screen"})
COLUMNS = ["path", "purchases"]


def _paths_of(
    events: list[PersonEvent], lookback: timedelta, max_steps: int, counted: Callable[[PersonEvent], bool]
) -> Iterable[tuple[str, ...]]:
    for index, event in enumerate(events):
        if event.event != ORDER_COMPLETED or not counted(event):
            continue
        channels: list[str] = []
        for before in reversed(events[:index]):
            if event.at - before.at > lookback:
                break
            if before.event == ORDER_COMPLETED or before.type not in TOUCHES:
                continue
            if channels and channels[-1] == before.channel:
                continue
            if len(channels) == max_steps:
                break
            channels.append(before.channel)
        yield (*reversed(channels), f"{PURCHASE}:{event.channel}")


def channel_paths(
    events: Iterable[PersonEvent],
    *,
    lookback: timedelta,
    max_steps: int,
    counted: Callable[[PersonEvent], bool] = lambda _: True,
) -> Counter[tuple[str, ...]]:
    """How many purchases followed each channel path; events come in person then time order, and counted
    says which purchases count (the filters' date range, channel and store apply to the purchase)."""
    counts: Counter[tuple[str, ...]] = Counter()
    person: int | None = None
    held: list[PersonEvent] = []
    for event in events:
        if event.person != person:
            counts.update(_paths_of(held, lookback, max_steps, counted))
            person, held = event.person, []
        held.append(event)
    counts.update(_paths_of(held, lookback, max_steps, counted))
    return counts


def node_name(path: tuple[str, ...], index: int) -> str:
    """A Sankey node: the step's number and channel, or the purchase with its channel."""
    step = path[index]
    return step if step.startswith(f"{PURCHASE}:") else f"{index + 1}·{step}"


def sankey(counts: Counter[tuple[str, ...]]) -> tuple[list[str], list[tuple[str, str, int]]]:
    """Nodes and weighted links of the paths; numbering steps keeps the graph free of cycles."""
    links: Counter[tuple[str, str]] = Counter()
    for path, n in counts.items():
        for index in range(len(path) - 1):
            links[(node_name(path, index), node_name(path, index + 1))] += n
    nodes = sorted({name for pair in links for name in pair})
    return nodes, [(source, target, n) for (source, target), n in sorted(links.items())]


def table(counts: Counter[tuple[str, ...]], *, limit: int) -> list[list[str | int]]:
    """Rows of path (channels joined by ' > ') and purchases, most frequent first."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [[" > ".join(path), n] for path, n in ranked]
