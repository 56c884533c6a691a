"""Best channel and best send hour: the pure rules, and the services over the log on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from omni.channels import best, service
from omni.events import service as events_service
from tests.channels.builders import member
from tests.identity.builders import stitch_new

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TAIPEI = ZoneInfo("Asia/Taipei")


def _engaged(channel: str, days_ago: float, weight: float = best.OPEN) -> best.Engagement:
    return best.Engagement(channel, NOW - days_ago * DAY, weight)


def test_engagement_of_names_the_channel_of_each_kind_of_fact() -> None:
    # given events as channels and the CRM log them
    props: dict[str, Any] = {"channel": "line"}
    # then opens weigh 1 and clicks 2, on the channel the name or (for "Message ...") the properties say
    assert best.engagement_of("Email Opened", {}, NOW) == best.Engagement("email", NOW, 1.0)
    assert best.engagement_of("Push Notification Tapped", {}, NOW) == best.Engagement("push", NOW, 2.0)
    assert best.engagement_of("SMS Link Clicked", {}, NOW) == best.Engagement("sms", NOW, 2.0)
    assert best.engagement_of("Message Link Clicked", props, NOW) == best.Engagement("line", NOW, 2.0)
    assert best.engagement_of("Message Opened", {}, NOW) is None
    assert best.engagement_of("Email Sent", {}, NOW) is None
    assert best.engagement_of(None, {}, NOW) is None


def test_scores_halve_every_half_life_and_ignore_what_is_older_than_the_window() -> None:
    # given an email open today, an email click 30 days ago, an SMS click 60 days ago and one 91 days ago
    engagements = [
        _engaged("email", 0),
        _engaged("email", 30, best.CLICK),
        _engaged("sms", 60, best.CLICK),
        _engaged("sms", 91, best.CLICK),
    ]
    # when scored
    scores = best.channel_scores(engagements, now=NOW)
    # then email = 1 + 2/2, sms = 2/4 and the 91-day-old click counts for nothing
    assert scores == {"email": 2.0, "sms": 0.5}


def test_the_highest_scoring_reachable_channel_wins_and_ties_go_to_the_first_listed() -> None:
    scores = {"email": 1.0, "sms": 3.0, "line": 3.0}
    assert best.choose_channel(scores, ["email", "sms", "line"]) == "sms"
    assert best.choose_channel(scores, ["email", "line", "sms"]) == "line"
    assert best.choose_channel(scores, ["email"]) == "email"
    assert best.choose_channel({}, ["line", "email"]) == "line"
    assert best.choose_channel(scores, []) is None


def test_best_hour_is_the_smoothed_peak_and_ten_without_history() -> None:
    # no history: 10:00
    assert best.best_hour([]) == 10
    # one open at 19:00 and two at 8 and 9: the 8-9 block wins (9 has 2*1 + 1 = 3 against 19's 2)
    assert best.best_hour([19, 8, 9]) == 8
    # two opens at 21 beat one each at 20 and 22, whose neighbour 21 they also lift
    assert best.best_hour([20, 21, 21, 22]) == 21
    # smoothing goes round midnight: opens at 23 and 1 make 0 the peak
    assert best.best_hour([23, 1]) == 0


@given(st.lists(st.integers(min_value=0, max_value=23), min_size=1, max_size=50))
def test_best_hour_is_an_hour_with_or_next_to_an_engagement(hours: list[int]) -> None:
    chosen = best.best_hour(hours)
    assert 0 <= chosen <= 23
    assert {(chosen - 1) % 24, chosen, (chosen + 1) % 24} & set(hours)


def _log(session: Session, *events: tuple[str, datetime, dict[str, Any]], user_id: str = "c1") -> None:
    before = events_service.head_position(session)
    payloads = [
        {
            "type": "track",
            "event": name,
            "userId": user_id,
            "messageId": f"best-{name}-{at.isoformat()}",
            "timestamp": at.isoformat(),
            "properties": properties,
        }
        for name, at, properties in events
    ]
    events_service.append_events(
        session, events_service.build_records(payloads, source="crm", default_channel="crm")
    )
    stitch_new(session, after=before)


def test_best_channel_picks_the_reachable_channel_engaged_with_most(session: Session) -> None:
    # given Amy, with an email address, a phone (SMS opted in) and no LINE id, who clicks SMS and opens email
    amy = member(session, "c1", sms_opt_in=True)
    _log(
        session,
        ("Email Opened", NOW - 2 * DAY, {}),
        ("SMS Link Clicked", NOW - 1 * DAY, {}),
        ("Message Link Clicked", NOW - 1 * DAY, {"channel": "line"}),
        ("Message Link Clicked", NOW - 3 * DAY, {"channel": "line"}),
    )
    # when the best of email, line and sms is asked for
    chosen = service.best_channel(session, amy, candidates=["email", "line", "sms"], now=NOW)
    # then SMS wins: LINE scored higher but she cannot be reached there
    assert chosen == "sms"
    # and for a purpose or a list she is reachable on once, that one; on none, none
    assert service.best_channel(session, amy, candidates=["line", "email"], now=NOW) == "email"
    assert service.best_channel(session, amy, candidates=["line"], now=NOW) is None


def test_best_send_hour_is_the_local_hour_of_most_opens(session: Session) -> None:
    # given Bo in Taipei, who opens at 20:xx local (12:xx UTC) and once at 07:xx
    bo = member(session, "c2", timezone="Asia/Taipei")
    evening = datetime(2026, 5, 20, 12, 15, tzinfo=UTC)
    _log(
        session,
        ("Email Opened", evening, {}),
        ("Email Link Clicked", evening + 2 * DAY, {}),
        ("Email Opened", datetime(2026, 5, 25, 23, 5, tzinfo=UTC), {}),
        user_id="c2",
    )
    # then the best hour is 20 in his zone, 12 in UTC's, and 10 for someone with no history
    assert service.best_send_hour(session, bo, now=NOW) == 20
    assert service.best_send_hour(session, bo, zone=ZoneInfo("UTC"), now=NOW) == 12
    assert service.best_send_hour(session, member(session, "c3"), now=NOW) == 10
