"""Delivery through each provider to its local server, retries, and at-most-once across killed workers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from omni.channels import audience, outcomes, repository, service, tasks
from omni.channels.models import ChannelMessage
from omni.channels.providers.base import retry_key
from omni.channels.schemas import MessageContent
from omni.db.engine import Database
from omni.db.periodic import JobRunner
from omni.kit.time import utc_now
from omni.settings import Settings
from tests.channels import fakes
from tests.channels.builders import EMAIL, SMS, content, events, member, settings_for
from tests.journeys.builders import NOON

SID, TOKEN = "AC" + "1" * 32, "twilio-token"
ROOT = Path(__file__).resolve().parents[2]


def _queue(database: Database, settings: Settings, channel: str, count: int = 1, **traits: Any) -> list[int]:
    variants = {
        "email": EMAIL,
        "sms": SMS,
        "line": SMS,
        "in_app": {"title": "Hi", "body": "{{ profile.first_name }}"},
    }
    with database.unit_of_work() as session:
        amy = member(session, "c1", sms_opt_in=True, line_user_id="U1234", **traits)
        return [
            service.send(
                session,
                profile_id=amy,
                channel=channel,
                message=MessageContent(
                    variants={channel: variants[channel]}, data={"order": {"number": "1001"}}
                ),
                idempotency_key=f"step-{i}",
                purpose="transactional",
                settings=settings,
            ).id
            for i in range(count)
        ]


def _statuses(database: Database) -> Counter[str]:
    with database.unit_of_work() as session:
        return Counter(session.scalars(select(ChannelMessage.status)).all())


def test_email_is_delivered_over_smtp_and_recorded_as_sent(committed: Database, tmp_path: Path) -> None:
    with fakes.smtp_server() as (sink, port):
        settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        [message_id] = _queue(committed, settings, "email")
        done = tasks.deliver_due(committed, settings)
    assert done == Counter({"sent": 1})
    with committed.unit_of_work() as session:
        message = outcomes.get_message(session, message_id)
        sent = events(session, "Email Sent")
    assert message.status == "sent"
    assert message.provider_message_id == sink.messages[0]["Message-ID"]
    assert [(e.user_id, e.properties["provider"]) for e in sent] == [("c1", "smtp")]
    assert sink.messages[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_unreachable_provider_is_retried_with_backoff_then_failed_with_its_reason(
    committed: Database, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=fakes.free_port(), smtp_starttls=False)
    [message_id] = _queue(committed, settings, "email")
    now = utc_now()
    waits = []
    for _ in range(outcomes.MAX_ATTEMPTS):
        tasks.deliver_due(committed, settings, now=now)
        with committed.unit_of_work() as session:
            message = outcomes.get_message(session, message_id)
        waits.append(message.not_before - now if message.status == "queued" else message.status)
        now = message.not_before
    assert waits == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
        "failed",
    ]
    assert "SMTP server 127.0.0.1" in (message.error or "")
    with committed.unit_of_work() as session:
        assert [e.properties["reason"] for e in events(session, "Email Failed")] == [message.error]


def test_sms_goes_through_twilio_and_its_status_callback_records_delivery(
    committed: Database, tmp_path: Path
) -> None:
    with fakes.serve(fakes.twilio(SID, TOKEN)) as twilio:
        settings = settings_for(
            tmp_path,
            twilio_base_url=twilio.url,
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            twilio_sms_from="+15005550006",
        )
        [message_id] = _queue(committed, settings, "sms")
        tasks.deliver_due(committed, settings)
    assert [r.form() for r in twilio.accepted] == [
        {
            "To": "+886912345678",
            "From": "+15005550006",
            "Body": "Amy, your order 1001 is ready",
            "StatusCallback": "http://omni.test/v1/channels/twilio/status",
        }
    ]
    with committed.unit_of_work() as session:
        outcomes.record_delivery(session, f"SM{1:032x}", "delivered")
    with committed.unit_of_work() as session:
        assert outcomes.get_message(session, message_id).status == "sent"
        assert [e.event for e in events(session, "Message Delivered")] == ["Message Delivered"]
        assert [e.properties["channel"] for e in events(session, "Message Sent")] == ["sms"]


def test_line_and_in_app_messages_reach_their_servers(committed: Database, tmp_path: Path) -> None:
    with fakes.serve(fakes.line("line-token")) as line:
        settings = settings_for(tmp_path, line_base_url=line.url, line_channel_token="line-token")
        _queue(committed, settings, "line")
        with committed.unit_of_work() as session:
            amy = member(session, "c1")
            service.send(
                session,
                profile_id=amy,
                channel="in_app",
                message=content(in_app={"title": "Hi", "body": "{{ profile.first_name }}"}),
                idempotency_key="inbox-1",
                purpose="marketing",
                settings=settings,
                now=NOON,  # outside quiet hours, whatever the clock says while the suite runs
            )
        done = tasks.deliver_due(committed, settings)
    assert done == Counter({"sent": 2})
    assert [r.json()["to"] for r in line.accepted] == ["U1234"]
    with committed.unit_of_work() as session:
        inbox = audience.inbox(session, amy)
        assert [(item.title, item.body, item.read_at) for item in inbox] == [("Hi", "Amy", None)]
        audience.mark_read(session, amy, inbox[0].id)
        assert len(events(session, "Message Opened")) == 1


def _worker(database: Database, settings: Settings, stop_at: str | None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.channels.worker",
            database.url,
            settings.model_dump_json(),
            *([stop_at] if stop_at else []),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def _kill_at(database: Database, settings: Settings, point: str) -> int:
    worker = _worker(database, settings, point)
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "READY"
    line = worker.stdout.readline().split()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert line[:2] == ["AT", point]
    return int(line[2])


@pytest.mark.parametrize(
    ("provider", "point", "reached", "status"),
    [
        pytest.param("twilio", "claimed", 0, "unknown", id="twilio-killed-before-the-call-never-sends"),
        pytest.param("twilio", "called", 1, "unknown", id="twilio-killed-after-the-call-never-sends-again"),
        pytest.param("line", "claimed", 1, "sent", id="line-killed-before-the-call-sends-once"),
        pytest.param("line", "called", 1, "sent", id="line-killed-after-the-call-is-not-duplicated"),
        pytest.param("console", "called", 1, "sent", id="console-killed-after-writing-is-found-again"),
    ],
)
def test_a_killed_worker_never_makes_a_second_message(
    committed: Database, tmp_path: Path, provider: str, point: str, reached: int, status: str
) -> None:
    answer = fakes.twilio(SID, TOKEN) if provider == "twilio" else fakes.line("line-token")
    with fakes.serve(answer) as server:
        settings = settings_for(
            tmp_path,
            **(
                {
                    "twilio_base_url": server.url,
                    "twilio_account_sid": SID,
                    "twilio_auth_token": TOKEN,
                    "twilio_sms_from": "+15005550006",
                }
                if provider == "twilio"
                else {"line_base_url": server.url, "line_channel_token": "line-token"}
                if provider == "line"
                else {}
            ),
        )
        # given a message recorded and committed
        [message_id] = _queue(committed, settings, "line" if provider == "line" else "sms")
        # when a worker process is killed at the point, and a new worker reconciles and delivers
        assert _kill_at(committed, settings, point) == message_id
        settled = tasks.reconcile(committed, settings, stale_after=timedelta(0))
        tasks.deliver_due(committed, settings)
        # then the person got it at most once, exactly once where the provider can tell
        accepted = len(server.accepted)
    outbox = settings.data_dir / "outbox.jsonl"
    if provider == "console":
        accepted = len(outbox.read_text().splitlines())
    assert accepted == reached
    assert _statuses(committed) == Counter({status: 1})
    assert sum(settled.values()) == 1


def test_random_kills_during_a_run_lose_nothing_and_duplicate_nothing(
    committed: Database, tmp_path: Path
) -> None:
    # given 30 messages over LINE (20 ms a push, so a run lasts over 0.6 s), whose retry key makes an
    # interrupted push safe to repeat
    with fakes.serve(fakes.line("line-token", latency=0.02)) as line:
        settings = settings_for(tmp_path, line_base_url=line.url, line_channel_token="line-token")
        ids = _queue(committed, settings, "line", count=30)
        chance = random.Random(6)
        # when workers are killed at random moments until a worker finishes
        kills = 0
        while True:
            tasks.reconcile(committed, settings, stale_after=timedelta(0))
            worker = _worker(committed, settings, None)
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "READY"
            try:
                # Three kills at random moments, then a worker is let finish, to bound the test's time.
                worker.wait(timeout=chance.uniform(0.05, 0.5) if kills < 3 else 120)
            except subprocess.TimeoutExpired:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
                kills += 1
                continue
            break
        keys = Counter(request.headers["x-line-retry-key"] for request in line.accepted)
    # then every message reached the person exactly once
    assert kills >= 1
    assert _statuses(committed) == Counter({"sent": 30})
    assert keys == Counter({retry_key(f"step-{i}"): 1 for i in range(len(ids))})


def test_the_delivery_job_reconciles_then_sends_what_is_due(committed: Database, tmp_path: Path) -> None:
    # given one message left claimed by a dead worker long ago, and one queued
    settings = settings_for(tmp_path)
    left, queued = _queue(committed, settings, "sms", count=2)
    with committed.unit_of_work() as session:
        stale = outcomes.get_message(session, left)
        stale.status, stale.claimed_at = "sending", utc_now() - timedelta(hours=1)
    # when the job runs for a moment
    jobs = [JobRunner(job, committed, settings) for job in tasks.JOBS]
    for job in jobs:
        job.start()
    deadline = time.monotonic() + 20
    while _statuses(committed) != Counter({"sent": 2}) and time.monotonic() < deadline:
        time.sleep(0.05)
    for job in jobs:
        job.stop()
    # then the stale one, which the console never wrote, was sent once after all, and the queued one too
    lines = [json.loads(line)["message_id"] for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert sorted(lines) == sorted([left, queued])
    assert _statuses(committed) == Counter({"sent": 2})


def test_a_mailbox_refused_for_good_is_a_bounce_with_the_servers_reason(
    committed: Database, tmp_path: Path
) -> None:
    with fakes.smtp_server() as (sink, port):
        sink.refuse.add("c1@example.com")
        settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        [message_id] = _queue(committed, settings, "email")
        done = tasks.deliver_due(committed, settings)
    assert done == Counter({"failed": 1})
    with committed.unit_of_work() as session:
        message = outcomes.get_message(session, message_id)
        bounced = events(session, "Email Bounced")
    assert message.error == "SMTP refused c1@example.com: 550 b'5.1.1 mailbox unavailable'"
    assert [e.properties["reason"] for e in bounced] == [message.error]
    assert sink.messages == []


def test_a_dead_workers_claims_go_back_to_the_queue_and_a_stale_claim_is_never_handed_over(
    committed: Database, tmp_path: Path
) -> None:
    # given an email claimed by a worker that died before handing it to SMTP
    with fakes.smtp_server() as (sink, port):
        settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        [message_id] = _queue(committed, settings, "email")
        with committed.unit_of_work() as session:
            (stale,) = repository.claim_due(session, now=utc_now(), limit=1)
        # when reconcile runs, and a live worker then claims the message afresh
        assert tasks.reconcile(committed, settings, stale_after=timedelta(0)) == Counter({"requeued": 1})
        with committed.unit_of_work() as session:
            (fresh,) = repository.claim_due(session, now=utc_now(), limit=1)
            # then the dead worker's claim, were it to wake, is no longer its own to hand over
            assert repository.hand_over(session, [stale]) == set()
            assert repository.hand_over(session, [fresh]) == {message_id}
    assert (stale.attempts, fresh.attempts) == (1, 2)
    assert sink.messages == []


def test_a_claimed_email_is_sent_once_by_the_next_worker_after_a_crash(
    committed: Database, tmp_path: Path
) -> None:
    with fakes.smtp_server() as (sink, port):
        settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        [message_id] = _queue(committed, settings, "email")
        with committed.unit_of_work() as session:
            repository.claim_due(session, now=utc_now(), limit=1)  # and the worker dies here
        tasks.reconcile(committed, settings, stale_after=timedelta(0))
        done = tasks.deliver_due(committed, settings)
    assert done == Counter({"sent": 1})
    assert len(sink.messages) == 1
    with committed.unit_of_work() as session:
        assert outcomes.get_message(session, message_id).status == "sent"
