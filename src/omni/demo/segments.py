"""The demo's segments: the predefined ones, with members as soon as the demo's events are processed."""

from __future__ import annotations

from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.events.consumers import catch_up
from omni.segments import membership, predefined
from omni.segments.schemas import RecomputeAllRead


def prepare_segments(database: Database) -> RecomputeAllRead:
    """Process the log so profiles are complete, then create the predefined segments and compute them.

    Membership needs the unified profiles, so the log is caught up first; from then on the segments
    consumer keeps members current as the demo's later events arrive.
    """
    catch_up(database.sessions, ALL_CONSUMERS)
    with database.unit_of_work() as session:
        predefined.ensure(session)
        return membership.recompute_all(session)
