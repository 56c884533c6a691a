"""Channel reachability: who can be sent marketing on each channel, who opted out, who has no address.

A person is reachable on a channel when they hold the identifier the channel sends to and their marketing
consent in force there is a yes. Opted out means the consent in force is a no (with or without an
address); not asked means an address but no decision; no address means neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The identifier each messaging channel sends to.
ADDRESS_KIND = {"email": "email", "sms": "phone", "whatsapp": "phone", "push": "device_id"}
STATUSES = ("reachable", "not_asked", "opted_out", "no_address")
COLUMNS = ["channel", "people", *STATUSES, "reachable_share", "opted_out_share"]


def status(channel: str, kinds: set[str], consent: Mapping[str, bool]) -> str:
    """Where one person stands on one channel."""
    decided = consent.get(channel)
    if decided is False:
        return "opted_out"
    if ADDRESS_KIND[channel] not in kinds:
        return "no_address"
    return "reachable" if decided else "not_asked"


def shares(
    people: Iterable[int],
    kinds: Mapping[int, set[str]],
    consent: Mapping[int, Mapping[str, bool]],
) -> list[list[str | int | float]]:
    """Rows of channel, people, the count per status, and the reachable and opted-out shares."""
    counts = {channel: dict.fromkeys(STATUSES, 0) for channel in ADDRESS_KIND}
    total = 0
    for person in people:
        total += 1
        held, decided = kinds.get(person, set()), consent.get(person, {})
        for channel in ADDRESS_KIND:
            counts[channel][status(channel, held, decided)] += 1
    return [
        [
            channel,
            total,
            *(found[s] for s in STATUSES),
            round(found["reachable"] / total, 4) if total else 0.0,
            round(found["opted_out"] / total, 4) if total else 0.0,
        ]
        for channel, found in counts.items()
    ]
