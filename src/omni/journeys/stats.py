"""A journey's numbers: people per node, entries and conversions, and treatment against the holdout with
a two-proportion z-test, so a marketer can tell a real lift from noise."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from omni.journeys import definitions as d
from omni.journeys import repository
from omni.journeys.schemas import CohortStats, HoldoutComparison, JourneyStats, NodeStats
from omni.journeys.service import Definitions, get


def two_proportion_z(
    converted_a: int, people_a: int, converted_b: int, people_b: int
) -> tuple[float, float] | None:
    """(z, two-sided p-value) for rate a against rate b with a pooled variance; None when undefined."""
    if people_a == 0 or people_b == 0:
        return None
    pooled = (converted_a + converted_b) / (people_a + people_b)
    variance = pooled * (1 - pooled) * (1 / people_a + 1 / people_b)
    if variance == 0:
        return None
    z = (converted_a / people_a - converted_b / people_b) / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


def _cohort(people: int, converted: int) -> CohortStats:
    return CohortStats(people=people, converted=converted, rate=converted / people if people else None)


def holdout_comparison(cohorts: dict[str, tuple[int, int]]) -> HoldoutComparison | None:
    """Treatment against holdout, None when the journey has no holdout."""
    if "holdout" not in cohorts:
        return None
    treatment, holdout = _cohort(*cohorts.get("treatment", (0, 0))), _cohort(*cohorts["holdout"])
    test = two_proportion_z(treatment.converted, treatment.people, holdout.converted, holdout.people)
    lift = treatment.rate - holdout.rate if treatment.rate is not None and holdout.rate is not None else None
    return HoldoutComparison(
        treatment=treatment,
        holdout=holdout,
        lift=lift,
        z=test[0] if test else None,
        p_value=test[1] if test else None,
    )


def journey_stats(session: Session, journey_id: int) -> JourneyStats:
    """People per node of the current version, entries by outcome, and the holdout comparison."""
    journey = get(session, journey_id)
    definition = Definitions(session).get(journey.id, journey.current_version)
    counts = repository.counts_by_state(session, [journey.id])[journey.id]
    here, reached = (
        repository.people_here(session, journey.id),
        repository.people_reached(session, journey.id),
    )
    nodes = [
        NodeStats(
            node=node_id,
            type=node.type,
            reached=reached.get(node_id, 0),
            here=here.get(node_id, 0),
            next=[target for _, target in d.successors(node)],
        )
        for node_id, node in definition.nodes.items()
    ]
    return JourneyStats(
        journey_id=journey.id,
        entered=sum(n for state, n in counts.items() if state != "converted"),
        active=counts.get("active", 0) + counts.get("waiting", 0),
        completed=counts.get("completed", 0),
        exited=counts.get("exited", 0),
        failed=counts.get("failed", 0),
        converted=counts.get("converted", 0),
        nodes=nodes,
        holdout=holdout_comparison(repository.cohorts(session, journey.id)),
    )
