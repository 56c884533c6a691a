"""Periodic jobs of inventory: carts' holds whose time is up go back to free stock.

Holds are also released lazily when a buyer finds a SKU short (service._take), so this job only keeps the
numbers honest for readers (feeds, availability) between buyers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from omni.db.engine import Database
from omni.db.periodic import PeriodicJob
from omni.inventory import service
from omni.kit.time import utc_now
from omni.settings import Settings

BATCH = 500


def release_expired_holds(
    factory: sessionmaker[Session], *, now: datetime | None = None, batch: int = BATCH
) -> int:
    """Expire every hold due by now, a batch per transaction; the holds expired."""
    moment = now or utc_now()
    total = 0
    while True:
        with factory() as session, session.begin():
            expired = service.expire_reservations(session, now=moment, limit=batch)
        total += expired
        if expired < batch:
            return total


def _release_expired_holds(database: Database, _: Settings) -> int:
    return release_expired_holds(database.sessions)


RELEASE_EXPIRED_HOLDS = PeriodicJob(
    name="inventory.release_expired_holds",
    every_seconds=30,
    run=_release_expired_holds,
    description="Releases cart holds whose time is up, so their units are available again",
    run_at_start=True,
)

JOBS = [RELEASE_EXPIRED_HOLDS]
