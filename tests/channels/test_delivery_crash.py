"""10,000 emails through real worker processes into a local SMTP server, workers killed with SIGKILL at
random points along the way: nothing is sent twice and nothing is lost silently, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, inspect, select

from omni.channels import service, tasks
from omni.channels.models import ChannelMessage
from omni.channels.providers.smtp import message_id_of
from omni.db.engine import Database
from omni.events.models import LoggedEvent
from omni.settings import Settings
from tests.channels import fakes
from tests.channels.builders import EMAIL, content, member, settings_for

ROOT = Path(__file__).resolve().parents[2]
EMAILS = 10_000
KILLS = 6
BATCH = 50
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)\r?$", re.MULTILINE | re.IGNORECASE)


class MessageIds:
    """aiosmtpd handler counting each Message-ID the server accepted (a killed worker's half-sent DATA is
    never accepted, so never counted)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = MESSAGE_ID.search(envelope.content)
        self.received[found.group(1).decode() if found else "(none)"] += 1
        self.accepted += 1
        return "250 OK"


def _queue_emails(database: Database, settings: Settings, count: int) -> None:
    """One intent through channels.service.send, then count - 1 copies of its row under keys of their own:
    recording 10,000 intents one by one (rendering, policies) would take the test's whole time budget."""
    with database.unit_of_work() as session:
        amy = member(session, "c1")
        first = service.send(
            session,
            profile_id=amy,
            channel="email",
            message=content(email=EMAIL),
            idempotency_key="crash-0",
            purpose="transactional",
            settings=settings,
        )
        assert first.status == "queued"
        columns = [
            c.key for c in inspect(ChannelMessage).column_attrs if c.key not in ("id", "idempotency_key")
        ]
        row = {key: getattr(first, key) for key in columns}
        session.execute(
            insert(ChannelMessage), [{**row, "idempotency_key": f"crash-{i}"} for i in range(1, count)]
        )


def _start_worker(database: Database, settings: Settings) -> subprocess.Popen[str]:
    """A worker process, imported and ready but waiting for a line on its stdin before it delivers."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.channels.worker",
            database.url,
            settings.model_dump_json(),
            f"batch={BATCH}",
            "go",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "READY"
    return worker


def _go(worker: subprocess.Popen[str]) -> None:
    assert worker.stdin is not None
    worker.stdin.write("go\n")
    worker.stdin.close()


def test_ten_thousand_emails_with_workers_killed_at_random_are_never_doubled_nor_silently_lost(
    committed: Database, tmp_path: Path
) -> None:
    """Zero duplicates: no Message-ID reaches the SMTP server twice. Zero lost: every message ends either
    "sent", and then the server received it exactly once under the Message-ID recorded for it, or "unknown",
    set by reconcile because a worker died between handing it to SMTP and recording its outcome (ADR 0006:
    SMTP cannot be asked, so such a message is never sent again and is left for a person to look at; the
    server may or may not have it). A message a dead worker had claimed but not handed over goes back to the
    queue and is sent by the next worker. No message is left queued, claimed, sending or failed, every
    message the server lacks is one of those flagged unknown, and the flagged ones are no more than the
    kills could leave in doubt.
    """
    sink = MessageIds()
    port = fakes.free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    seed = random.randrange(1 << 32)
    chance = random.Random(seed)
    workers: list[subprocess.Popen[str]] = []
    try:
        # given 10,000 emails due, and kill points at random numbers of emails received
        settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        _queue_emails(committed, settings, EMAILS)
        kill_at = sorted(chance.sample(range(100, EMAILS - 500), KILLS))
        # when a worker is killed with SIGKILL at each point (plus up to 50 ms, so that kills land in the
        # database's turns as well as the server's), reconciled after and replaced, until a worker finishes;
        # each next worker is started while one runs, so that its start-up (imports) costs no time
        doubted: Counter[str] = Counter()
        workers.append(_start_worker(committed, settings))
        for kills, point in enumerate(kill_at):
            workers.append(_start_worker(committed, settings))
            running = workers[kills]
            _go(running)
            deadline = time.monotonic() + 60
            while sink.accepted < point and running.poll() is None:
                assert time.monotonic() < deadline, f"no progress towards {point} (seed {seed})"
                time.sleep(0.001)
            time.sleep(chance.uniform(0, 0.05))
            running.send_signal(signal.SIGKILL)
            assert running.wait(timeout=30) == -signal.SIGKILL, (
                f"a worker ended before its kill (seed {seed})"
            )
            doubted += tasks.reconcile(committed, settings, stale_after=timedelta(0))
        _go(workers[-1])
        assert workers[-1].wait(timeout=240) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=30)
        controller.stop()
    with committed.unit_of_work() as session:
        rows = session.execute(
            select(
                ChannelMessage.idempotency_key,
                ChannelMessage.status,
                ChannelMessage.provider_message_id,
                ChannelMessage.error,
            )
        ).all()
        logged_sent = session.scalar(
            select(func.count()).select_from(LoggedEvent).where(LoggedEvent.event == "Email Sent")
        )
    expected = {
        message_id_of(key, "example.com"): (status, recorded, error) for key, status, recorded, error in rows
    }
    unknown = {mid for mid, (status, _, _) in expected.items() if status == "unknown"}
    context = f"seed {seed}, kills at {kill_at}"
    # then no email reached the server twice
    assert len(expected) == EMAILS
    assert [mid for mid, times in sink.received.items() if times > 1] == [], context
    assert set(sink.received) <= set(expected), context
    # and every email is sent, received once under its recorded id, or unknown and flagged by reconcile
    assert set(Counter(status for status, _, _ in expected.values())) <= {"sent", "unknown"}, context
    assert all(
        sink.received[mid] == 1 and recorded == mid
        for mid, (status, recorded, _) in expected.items()
        if status == "sent"
    ), context
    assert set(expected) - set(sink.received) <= unknown, context
    assert all(expected[mid][2] == tasks.IN_DOUBT for mid in unknown), context
    assert doubted["unknown"] == len(unknown), context
    assert set(doubted) <= {"unknown", "requeued"}, context  # requeued: claimed, never handed over
    # at most two batches are in doubt at a kill: the one being sent and the one sent before it, unrecorded
    assert len(unknown) <= KILLS * 2 * BATCH, context
    assert logged_sent == EMAILS - len(unknown), context
