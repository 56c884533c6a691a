from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from omni.kit.periodic import PeriodicJob, PeriodicWorker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _job(
    name: str, every: float, runs: list[str], *, fail: bool = False, at_start: bool = False
) -> PeriodicJob:
    def run(_: sessionmaker[Session]) -> None:
        runs.append(name)
        if fail:
            raise RuntimeError("the database went away")

    return PeriodicJob(name=name, every_seconds=every, run=run, description=name, run_at_start=at_start)


FACTORY: Any = sessionmaker()


def test_jobs_run_when_their_interval_has_passed_and_not_before() -> None:
    clock, runs = Clock(), list[str]()
    worker = PeriodicWorker(FACTORY, [_job("holds", 30, runs), _job("segments", 3600, runs)], clock=clock)
    assert worker.run_due() == []
    clock.now += 30
    assert worker.run_due() == ["holds"]
    assert worker.run_due() == []
    clock.now += 3600
    assert worker.run_due() == ["holds", "segments"]
    assert runs == ["holds", "holds", "segments"]


def test_a_job_may_run_at_start() -> None:
    clock, runs = Clock(), list[str]()
    worker = PeriodicWorker(FACTORY, [_job("timers", 5, runs, at_start=True)], clock=clock)
    assert worker.run_due() == ["timers"]
    assert worker.seconds_to_next() == 5


def test_a_failing_job_is_retried_at_its_next_turn_and_does_not_stop_the_others() -> None:
    clock, runs = Clock(), list[str]()
    worker = PeriodicWorker(FACTORY, [_job("broken", 10, runs, fail=True), _job("ok", 10, runs)], clock=clock)
    clock.now += 10
    assert worker.run_due() == ["broken", "ok"]
    clock.now += 10
    assert worker.run_due() == ["broken", "ok"]
    assert runs == ["broken", "ok", "broken", "ok"]


def test_the_thread_runs_due_jobs_and_stops_promptly() -> None:
    runs: list[str] = []
    worker = PeriodicWorker(FACTORY, [_job("timers", 0.05, runs, at_start=True)])
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while len(runs) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop(timeout=2)
    assert len(runs) >= 3
