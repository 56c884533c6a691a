"""A send node on the person's best channel and at their best hour, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests.journeys.builders import (
    EMAIL,
    NOON,
    SMS,
    journey,
    log_and_react,
    member,
    messages,
    path_of,
    runs,
    settings_for,
    step,
    track,
)

DAY = timedelta(days=1)


def _welcome(**send: Any) -> dict[str, Any]:
    return {
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": "send",
        "nodes": {
            "send": {
                "type": "send",
                "channel": "best",
                "channels": ["email", "sms"],
                "message": {"variants": {"email": EMAIL, "sms": SMS}},
                "next": "done",
                **send,
            },
            "done": {"type": "exit"},
        },
    }


def test_best_sends_on_the_channel_the_person_engaged_with_most(session: Session, tmp_path: Path) -> None:
    # given Amy, reachable by email and SMS, who clicked SMS links twice lately and opened one email
    settings = settings_for(tmp_path)
    member(session, "c1", sms_opt_in=True)
    log_and_react(
        session,
        track("Email Opened", "e1", at=NOON - 3 * DAY),
        track("SMS Link Clicked", "e2", at=NOON - 2 * DAY),
        track("SMS Link Clicked", "e3", at=NOON - DAY),
    )
    # and Bo, reachable by email and SMS, with no history at all
    member(session, "c2", sms_opt_in=True)
    welcome = journey(session, _welcome(), name="Welcome")
    # when both sign up and the journey steps
    log_and_react(session, track("Signed Up", "s1"), track("Signed Up", "s2", user_id="c2"))
    step(session, settings, NOON)
    # then Amy gets SMS (her best), Bo email (first listed, no engagement to go by)
    amy_run, bo_run = runs(session, welcome.id)
    assert [(m.profile_id, m.channel) for m in messages(session)] == [
        (amy_run.profile_id, "sms"),
        (bo_run.profile_id, "email"),
    ]


def test_at_best_hour_holds_the_message_until_the_persons_best_local_hour(
    session: Session, tmp_path: Path
) -> None:
    # given Amy in Taipei, who opens emails around 20:00 local (12:00 UTC)
    settings = settings_for(tmp_path)
    member(session, "c1", timezone="Asia/Taipei")
    evening = datetime(2026, 5, 28, 12, 10, tzinfo=UTC)
    log_and_react(
        session,
        track("Email Opened", "e1", at=evening),
        track("Email Opened", "e2", at=evening + DAY),
        track("Email Opened", "e3", at=datetime(2026, 5, 30, 1, 0, tzinfo=UTC)),
    )
    welcome = journey(session, _welcome(at_best_hour=True), name="Welcome")
    # when she signs up at noon in Taipei
    log_and_react(session, track("Signed Up", "s1"))
    step(session, settings, NOON)
    # then nothing is sent yet: the run waits until 20:00 Taipei
    [run] = runs(session, welcome.id)
    at_eight = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert (run.state, run.node, run.wake_at) == ("waiting", "send", at_eight)
    assert messages(session) == []
    # when the worker wakes a few minutes after 20:00
    step(session, settings, at_eight + timedelta(minutes=3))
    # then the email goes once and the journey ends
    [run] = runs(session, welcome.id)
    assert [m.channel for m in messages(session)] == ["email"]
    assert run.state == "exited"
    assert [node for node, _ in path_of(session, run.id)] == ["send", "send", "done"]


def test_at_best_hour_sends_at_once_inside_the_best_hour(session: Session, tmp_path: Path) -> None:
    # given Bo, with no history, whose best hour is therefore 10:00 in Taipei (02:00 UTC)
    settings = settings_for(tmp_path)
    member(session, "c2", timezone="Asia/Taipei")
    welcome = journey(session, _welcome(at_best_hour=True), name="Welcome")
    ten_thirty = datetime(2026, 6, 1, 2, 30, tzinfo=UTC)
    # when he signs up at 10:30 local
    log_and_react(session, track("Signed Up", "s1", user_id="c2", at=ten_thirty), now=ten_thirty)
    step(session, settings, ten_thirty)
    # then the email goes straight away
    [run] = runs(session, welcome.id)
    assert (run.state, [m.channel for m in messages(session)]) == ("exited", ["email"])
