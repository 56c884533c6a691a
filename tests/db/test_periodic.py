from __future__ import annotations

import time
from typing import Any

from omni.db.engine import Database
from omni.db.periodic import JobRunner, PeriodicJob
from omni.settings import Settings

DATABASE: Any = None
SETTINGS: Any = None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _job(
    runs: list[object], every: float, *, results: list[object] | None = None, **options: Any
) -> PeriodicJob:
    answers = iter(results or [])

    def run(database: Database, settings: Settings) -> object:
        result = next(answers, None)
        runs.append(result)
        if result == "fail":
            raise RuntimeError("the database went away")
        return result

    return PeriodicJob(name="job", every_seconds=every, run=run, description="a job", **options)


def test_a_job_runs_when_its_interval_has_passed_and_not_before() -> None:
    clock, runs = Clock(), list[object]()
    runner = JobRunner(_job(runs, 30), DATABASE, SETTINGS, clock=clock)
    assert runner.run_due() is False
    clock.now += 29.9
    assert runner.run_due() is False
    clock.now += 0.1
    assert runner.run_due() is True
    assert runner.run_due() is False
    assert runner.seconds_to_next() == 30
    assert len(runs) == 1


def test_a_job_may_run_at_start() -> None:
    clock, runs = Clock(), list[object]()
    runner = JobRunner(_job(runs, 5, run_at_start=True), DATABASE, SETTINGS, clock=clock)
    assert runner.run_due() is True
    assert runner.seconds_to_next() == 5


def test_a_busy_job_runs_again_at_once_until_it_finds_nothing() -> None:
    clock, runs = Clock(), list[object]()
    job = _job(runs, 10, results=[25, 3, 0], run_at_start=True, busy_means_more=True)
    runner = JobRunner(job, DATABASE, SETTINGS, clock=clock)
    assert [runner.run_due() for _ in range(4)] == [True, True, True, False]
    assert runs == [25, 3, 0]
    assert runner.seconds_to_next() == 10


def test_a_failing_run_is_retried_at_its_next_turn() -> None:
    clock, runs = Clock(), list[object]()
    runner = JobRunner(
        _job(runs, 10, results=["fail", 1], run_at_start=True), DATABASE, SETTINGS, clock=clock
    )
    assert runner.run_due() is True
    assert runner.seconds_to_next() == 10
    clock.now += 10
    assert runner.run_due() is True
    assert runs == ["fail", 1]


def test_the_thread_repeats_the_job_and_stops_promptly() -> None:
    runs = list[object]()
    runner = JobRunner(_job(runs, 0.05, run_at_start=True), DATABASE, SETTINGS)
    runner.start()
    deadline = time.monotonic() + 5
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    runner.stop(timeout=2)
    assert len(runs) >= 3
    assert time.monotonic() - started < 1.5
