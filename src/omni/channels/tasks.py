"""The delivery worker: claim due messages, call their providers after the claim is committed, record
each outcome in a transaction of its own; and reconcile messages a dead worker left in flight.

Each step owns its transaction. A worker killed after claiming leaves the message "sending"; one killed
after the provider call but before recording leaves it "sending" too. Neither is sent again blindly:
reconcile asks the provider (lookup), re-sends only where the provider drops repeats itself (resend_safe),
and otherwise marks the message unknown, for a person to look at. So a message reaches a person at most once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from omni.channels import repository, service
from omni.channels.models import ChannelMessage
from omni.channels.policy import RateLimiter
from omni.channels.providers import ProviderSet, open_providers
from omni.channels.providers.base import ProviderError
from omni.db.engine import Database
from omni.db.periodic import PeriodicJob
from omni.kit.time import utc_now
from omni.settings import Settings

Checkpoint = Callable[[str, int], None]
log = logging.getLogger(__name__)
IN_DOUBT = "the worker stopped during the provider call; not sent again, as it may have gone out"


def _deliver(
    database: Database,
    claimed: Sequence[ChannelMessage],
    providers: ProviderSet,
    limiter: RateLimiter,
    checkpoint: Checkpoint | None,
    now: datetime | None = None,
) -> Counter[str]:
    """Call each claimed message's provider, then record the batch's outcomes in one transaction.

    One commit per batch rather than per message: a worker killed mid-batch leaves the batch "sending"
    either way (it was claimed in one commit), so recording one by one would save nothing from doubt.
    """
    outcomes: list[tuple[int, str | ProviderError]] = []
    for message in claimed:
        if checkpoint:
            checkpoint("claimed", message.id)
        provider = providers.get(message.provider)
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
    done: Counter[str] = Counter()
    with database.unit_of_work() as session:
        for message_id, outcome in outcomes:
            if isinstance(outcome, ProviderError):
                done[service.record_failure(session, message_id, outcome, now=now).status] += 1
            else:
                done[service.record_sent(session, message_id, outcome, now=now).status] += 1
    return done


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

    A batch is claimed in one commit and recorded in one; a worker killed mid-batch leaves at most batch
    messages in doubt.
    """
    limiter = limiter or RateLimiter(settings.channel_rate_limits)
    done: Counter[str] = Counter()
    with open_providers(settings, database.sessions) as providers:
        while sum(done.values()) < limit:
            with database.unit_of_work() as session:
                claimed = repository.claim_due(
                    session, now=now or utc_now(), limit=min(batch, limit - sum(done.values()))
                )
            if not claimed:
                break
            done += _deliver(database, claimed, providers, limiter, checkpoint, now)
    return done


def deliver_now(database: Database, settings: Settings, message_id: int) -> str:
    """Send one message if it is due (the API's send-now path, after its intent was committed)."""
    with database.unit_of_work() as session:
        claimed = repository.claim_due(session, now=utc_now(), limit=1, ids=[message_id])
    if claimed:
        with open_providers(settings, database.sessions) as providers:
            _deliver(database, claimed, providers, RateLimiter(settings.channel_rate_limits), None)
    with database.unit_of_work() as session:
        return service.get_message(session, message_id).status


def _resolve(session: Session, message: ChannelMessage, providers: ProviderSet) -> str:
    provider = providers.get(message.provider)
    found = provider.lookup(service.outgoing(message))
    if found is not None:
        service.record_sent(session, message.id, found)
        return "sent"
    at = utc_now()
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
