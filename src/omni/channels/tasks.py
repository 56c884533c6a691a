"""The delivery worker: claim due messages, call their providers after the claim is committed, record
each outcome in a transaction of its own; and reconcile messages a dead worker left in flight.

Each step owns its transaction (a batch's claim, its hand-over just before the provider calls, its
record). A worker killed after claiming leaves the message "claimed": never handed over, reconcile puts it
back in the queue. One killed after the hand-over leaves it "sending", sent or not: reconcile asks the
provider (lookup), re-sends only where the provider drops repeats itself (resend_safe), and otherwise marks
the message unknown, for a person to look at. So a message reaches a person at most once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from omni.channels import outcomes as message_outcomes
from omni.channels import repository, service
from omni.channels.models import ChannelMessage
from omni.channels.policy import RateLimiter
from omni.channels.providers import ProviderSet, open_providers
from omni.channels.providers.base import Provider, ProviderError
from omni.db.engine import Database
from omni.db.periodic import PeriodicJob
from omni.kit.time import utc_now
from omni.settings import Settings

Checkpoint = Callable[[str, int], None]
Outcomes = list[tuple[int, str | ProviderError]]
log = logging.getLogger(__name__)
# The most lanes any provider opens (SMTP's connections); threads beyond a provider's lanes stay unused.
MAX_LANES = 4
IN_DOUBT = "the worker stopped during the provider call; not sent again, as it may have gone out"


def _send_each(
    provider: Provider,
    messages: Sequence[ChannelMessage],
    limiter: RateLimiter,
    checkpoint: Checkpoint | None,
) -> Outcomes:
    outcomes: Outcomes = []
    for message in messages:
        if checkpoint:
            checkpoint("claimed", message.id)
        limiter.wait(provider.name)
        try:
            outcomes.append((message.id, provider.send(service.outgoing(message))))
        except ProviderError as error:
            outcomes.append((message.id, error))
        except Exception as crash:
            # A provider's own bug may strike after the message left: never resent, recorded for a person.
            log.exception("provider %s crashed on message %s", provider.name, message.id)
            outcomes.append(
                (message.id, ProviderError(f"{provider.name} crashed: {crash!r}", outcome="unknown"))
            )
        if checkpoint:
            checkpoint("called", message.id)
    return outcomes


def _send_batch(
    database: Database,
    claimed: Sequence[ChannelMessage],
    providers: ProviderSet,
    limiter: RateLimiter,
    checkpoint: Checkpoint | None,
    lanes: Executor | None = None,
) -> Outcomes:
    """Hand the claimed messages over (committed as "sending"), then call each one's provider once; the
    outcomes in claimed order.

    A provider with several lanes gets its messages dealt out over them, on the lanes executor's threads,
    each lane over a connection of its own; the rest are sent one after another here.
    """
    with database.unit_of_work() as session:
        ours = repository.hand_over(session, claimed)
    by_provider: dict[str, list[ChannelMessage]] = defaultdict(list)
    for message in claimed:
        if message.id in ours:
            by_provider[message.provider].append(message)
    dealt: list[Future[Outcomes]] = []
    sent: Outcomes = []
    for name, messages in by_provider.items():
        instances = providers.lanes(name, len(messages)) if lanes else [providers.get(name)]
        if lanes is None or len(instances) == 1:
            sent.extend(_send_each(instances[0], messages, limiter, checkpoint))
            continue
        for lane, provider in enumerate(instances):
            share = messages[lane :: len(instances)]
            dealt.append(lanes.submit(_send_each, provider, share, limiter, checkpoint))
    for lane_outcomes in dealt:
        sent.extend(lane_outcomes.result())
    order = {message.id: index for index, message in enumerate(claimed)}
    return sorted(sent, key=lambda outcome: order[outcome[0]])


def _record(database: Database, outcomes: Outcomes, now: datetime | None) -> Counter[str]:
    """Record a batch's outcomes in one transaction: one commit per batch rather than per message, as a
    worker killed mid-batch leaves the whole batch "sending" either way (it was handed over in one commit)."""
    with database.unit_of_work() as session:
        return Counter(
            message.status for message in message_outcomes.record_outcomes(session, outcomes, now=now)
        )


def deliver_due(
    database: Database,
    settings: Settings,
    *,
    limit: int = 100,
    batch: int = 10,
    now: datetime | None = None,
    limiter: RateLimiter | None = None,
    checkpoint: Checkpoint | None = None,
) -> Counter[str]:
    """Send every message due by now, batch claims at a time, up to limit; count outcomes by status.

    Each batch is claimed in one commit, sent, and recorded in one commit. Sending runs on a thread of its
    own, one batch after another, while this thread records the previous batch and claims the next, so the
    database's round trips overlap the providers'. Every call follows its message's committed hand-over;
    a worker killed at any point leaves at most two batches in doubt (the one being sent and the one sent
    before it, not yet recorded); the batch claimed next goes back to the queue.
    """
    limiter = limiter or RateLimiter(settings.channel_rate_limits)
    done: Counter[str] = Counter()
    taken = 0

    def claim() -> Sequence[ChannelMessage]:
        nonlocal taken
        if taken >= limit:
            return []
        with database.unit_of_work() as session:
            claimed = repository.claim_due(session, now=now or utc_now(), limit=min(batch, limit - taken))
        taken += len(claimed)
        return claimed

    with (
        open_providers(settings, database.sessions) as providers,
        ThreadPoolExecutor(1, thread_name_prefix="omni-send") as stage,
        ThreadPoolExecutor(MAX_LANES, thread_name_prefix="omni-lane") as lanes,
    ):
        sending: Future[Outcomes] | None = None
        try:
            claimed = claim()
            while claimed:
                # One stage thread: a batch starts only when the one before has finished with the providers.
                previous = sending
                sending = stage.submit(_send_batch, database, claimed, providers, limiter, checkpoint, lanes)
                if previous is not None:
                    done += _record(database, previous.result(), now)
                claimed = claim()
        finally:
            # Also on the way out of an error: what went out is recorded, not left for reconcile to doubt.
            if sending is not None:
                done += _record(database, sending.result(), now)
    return done


def deliver_now(database: Database, settings: Settings, message_id: int) -> str:
    """Send one message if it is due (the API's send-now path, after its intent was committed)."""
    with database.unit_of_work() as session:
        claimed = repository.claim_due(session, now=utc_now(), limit=1, ids=[message_id])
    if claimed:
        limiter = RateLimiter(settings.channel_rate_limits)
        with open_providers(settings, database.sessions) as providers:
            _record(database, _send_batch(database, claimed, providers, limiter, None), None)
    with database.unit_of_work() as session:
        return message_outcomes.get_message(session, message_id).status


def _resolve(session: Session, message: ChannelMessage, providers: ProviderSet) -> str:
    at = utc_now()
    if message.status == "claimed":  # never handed to its provider: simply due again
        message.status, message.not_before, message.updated_at = "queued", at, at
        return "requeued"
    provider = providers.get(message.provider)
    found = provider.lookup(service.outgoing(message))
    if found is not None:
        message_outcomes.record_sent(session, message.id, found)
        return "sent"
    message.updated_at = at
    if provider.resend_safe:
        message.status, message.not_before = "queued", at
        return "requeued"
    message.status, message.error = "unknown", IN_DOUBT
    return "unknown"


def reconcile(
    database: Database,
    settings: Settings,
    *,
    stale_after: timedelta = timedelta(minutes=5),
    now: datetime | None = None,
    limit: int = 1000,
) -> Counter[str]:
    """Settle messages claimed over stale_after ago and never recorded; count what became of them."""
    done: Counter[str] = Counter()
    cutoff = (now or utc_now()) - stale_after
    with open_providers(settings, database.sessions) as providers, database.unit_of_work() as session:
        for message in repository.in_flight(session, claimed_before=cutoff, limit=limit):
            done[_resolve(session, message, providers)] += 1
    return done


class _Delivery:
    """Sends what is queued; first, and every few minutes, settles what a dead process left half-sent.

    One job rather than two, so that settling and sending never race each other for SQLite's write lock.
    """

    RECONCILE_EVERY_SECONDS = 300.0

    def __init__(self) -> None:
        self._reconciled_at: dict[str, float] = {}

    def __call__(self, database: Database, settings: Settings) -> int:
        now = time.monotonic()
        last = self._reconciled_at.get(database.url)
        if last is None or now - last >= self.RECONCILE_EVERY_SECONDS:
            reconcile(database, settings)
            self._reconciled_at[database.url] = now
        return sum(deliver_due(database, settings).values())


DELIVER = PeriodicJob(
    name="channels.deliver",
    every_seconds=1,
    run=_Delivery(),
    description="Sends queued messages through their providers; settles half-sent ones, never twice",
    run_at_start=True,
    busy_means_more=True,
)

JOBS = [DELIVER]
