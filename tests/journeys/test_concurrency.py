"""Several workers stepping the same due runs, and workers killed mid-step: every step happens once and
every message step records at most one send intent, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from omni.channels import tasks as channels_tasks
from omni.channels.models import ChannelMessage
from omni.db.engine import Database
from omni.journeys import service, tasks
from omni.journeys.models import JourneyRun, JourneyStep
from omni.journeys.schemas import EntryCreate
from omni.settings import Settings
from tests.journeys.builders import EMAIL, journey, member, settings_for

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 24
REMIND = {
    "trigger": {"type": "api"},
    "start": "email",
    "nodes": {
        "email": {
            "type": "send",
            "channel": "email",
            # Transactional, so quiet hours never hold it back, whatever the clock says during the suite.
            "purpose": "transactional",
            "message": {"variants": {"email": EMAIL}},
            "next": "end",
        },
        "end": {"type": "exit"},
    },
    "reentry": {"policy": "always"},
}


def _people_in_journey(database: Database, people: int) -> int:
    with database.unit_of_work() as session:
        ids = [member(session, f"c{n}") for n in range(people)]
        journey_id = journey(session, REMIND, name="Remind").id
        for profile_id in ids:
            service.enter_by_api(session, journey_id, EntryCreate(profile_id=profile_id))
    return journey_id


def _outcome(database: Database) -> tuple[Counter[tuple[int, str]], Counter[str], Counter[str]]:
    with database.unit_of_work() as session:
        steps = Counter(
            (run_id, node) for run_id, node in session.execute(select(JourneyStep.run_id, JourneyStep.node))
        )
        keys = Counter(session.scalars(select(ChannelMessage.idempotency_key)).all())
        states = Counter(session.scalars(select(JourneyRun.state)).all())
    return steps, keys, states


def test_workers_stepping_the_same_due_runs_step_each_once(committed: Database, tmp_path: Path) -> None:
    # given 24 people due to be emailed
    settings = settings_for(tmp_path)
    _people_in_journey(committed, PEOPLE)
    # when three workers, each with its own connections, step due runs at the same moment
    start = threading.Barrier(3)
    claimed: list[int] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            claimed.append(tasks.run_due(committed, settings, batch=3).runs)
        except BaseException as exc:  # reported below, a thread cannot fail the test itself
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # then every run was claimed once, every node stepped once per run, and one email intent per person
    assert failures == []
    assert sum(claimed) == PEOPLE
    steps, keys, states = _outcome(committed)
    assert len(steps) == 2 * PEOPLE
    assert set(steps.values()) == {1}
    assert len(keys) == PEOPLE
    assert set(keys.values()) == {1}
    assert states == Counter({"exited": PEOPLE})


def _kill_at(database: Database, settings: Settings, point: str) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.journeys.worker", database.url, settings.model_dump_json(), point],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    line = worker.stdout.readline().strip()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert line == f"AT {point}"


@pytest.mark.parametrize(
    ("point", "due_after_kill"),
    [
        pytest.param("stepped", 3, id="killed-after-send-intents-before-commit"),
        pytest.param("committed", 0, id="killed-after-commit-before-any-provider"),
    ],
)
def test_a_killed_worker_never_causes_a_second_message(
    committed: Database, tmp_path: Path, point: str, due_after_kill: int
) -> None:
    # given 3 people due to be emailed
    settings = settings_for(tmp_path)
    _people_in_journey(committed, 3)
    # when a worker is killed with SIGKILL at the point, and a new worker takes over
    _kill_at(committed, settings, point)
    with committed.unit_of_work() as session:
        due = session.scalar(
            select(func.count()).select_from(JourneyRun).where(JourneyRun.wake_at.is_not(None))
        )
    assert due == due_after_kill
    assert tasks.run_due(committed, settings).runs == due_after_kill
    # then each person has exactly one email intent and the journey moved on once
    steps, keys, states = _outcome(committed)
    assert set(steps.values()) == {1}
    assert len(keys) == 3
    assert set(keys.values()) == {1}
    assert states == Counter({"exited": 3})
    # and delivery sends each once through the console provider
    assert channels_tasks.deliver_due(committed, settings) == Counter({"sent": 3})
    with committed.unit_of_work() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(ChannelMessage).where(ChannelMessage.status == "sent")
            )
            == 3
        )
