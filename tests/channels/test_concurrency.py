"""Concurrent requests for the same send, each with its own connection, make one message."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from omni.channels import service
from omni.channels.models import ChannelMessage
from omni.db.engine import Database
from tests.channels.builders import EMAIL, content, member, settings_for


def test_the_same_idempotency_key_sent_at_once_makes_one_message(committed: Database, tmp_path: Path) -> None:
    # given a member and eight workers asking for the same journey step at the same moment
    settings = settings_for(tmp_path)
    with committed.unit_of_work() as session:
        amy = member(session, "c1")
    barrier = threading.Barrier(8)
    answers: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            barrier.wait()
            with committed.unit_of_work() as session:
                message = service.send(
                    session,
                    profile_id=amy,
                    channel="email",
                    message=content(email=EMAIL),
                    idempotency_key="journey:7:step:3:c1",
                    purpose="marketing",
                    settings=settings,
                )
                answers.append(message.id)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then there is one message, and every worker that got an answer got that one
    with committed.unit_of_work() as session:
        ids = session.scalars(select(ChannelMessage.id)).all()
        assert session.scalar(select(func.count()).select_from(ChannelMessage)) == 1
    assert errors == []
    assert set(answers) == set(ids)
    assert len(answers) == 8
