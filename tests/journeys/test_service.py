"""People entering journeys and stepping through them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.events.models import LoggedEvent
from omni.journeys import reactions, runtime, service, stats
from omni.journeys.errors import EntryRefused, JourneyInvalid
from omni.journeys.models import JourneyStep
from omni.journeys.schemas import EntryCreate, JourneyUpdate
from omni.segments import membership
from omni.segments import service as segments_service
from omni.segments.schemas import SegmentCreate
from tests.identity.builders import log, stitch_new
from tests.journeys.builders import (
    EMAIL,
    NOON,
    cart,
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

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_a_keyed_wait_is_ended_by_the_same_carts_order_only(session: Session, tmp_path: Path) -> None:
    # given Amy started checking out cart A and waits for its order
    settings = settings_for(tmp_path)
    member(session, "c1")
    cart_journey = journey(session, cart())
    log_and_react(session, track("Checkout Started", "m1", cart_id="A"))
    step(session, settings, NOON)
    [run] = runs(session, cart_journey.id)
    assert (run.state, run.node, run.wait_key) == ("waiting", "wait_order", 'Order Completed|cart_id="A"')
    # when she orders another cart
    log_and_react(session, track("Order Completed", "m2", cart_id="B", at=NOON + 10 * timedelta(minutes=1)))
    # then she still waits for cart A
    [run] = runs(session, cart_journey.id)
    assert (run.state, run.converted_at) == ("waiting", None)
    # when she orders cart A
    log_and_react(session, track("Order Completed", "m3", cart_id="A", at=NOON + 20 * timedelta(minutes=1)))
    # then the journey ends as converted and no reminder is ever sent
    [run] = runs(session, cart_journey.id)
    assert (run.state, run.converted_at, run.wake_at) == ("completed", NOON + 20 * timedelta(minutes=1), None)
    assert step(session, settings, NOON + 2 * DAY) == (0, 0)
    assert messages(session) == []
    assert path_of(session, run.id) == [
        ("wait_order", "waiting for Order Completed"),
        ("wait_order", "left: converted by Order Completed"),
    ]


def test_an_order_logged_before_the_person_reaches_the_wait_ends_it(session: Session, tmp_path: Path) -> None:
    # given the checkout and the order arrive in one batch, before any worker stepped the run
    member(session, "c1")
    cart_journey = journey(session, cart(goal=None))
    log_and_react(
        session,
        track("Checkout Started", "m1", cart_id="A"),
        track("Order Completed", "m2", cart_id="A", at=NOON + timedelta(minutes=1)),
    )
    # when the run is stepped
    step(session, settings_for(tmp_path), NOON + timedelta(minutes=2))
    # then the wait sees the order on the log and takes the order branch
    [run] = runs(session, cart_journey.id)
    assert (run.state, run.node) == ("completed", "bought")
    assert path_of(session, run.id)[0] == ("wait_order", "Order Completed had already happened")


def test_the_timeout_branch_emails_then_texts_a_day_later(session: Session, tmp_path: Path) -> None:
    # given Amy abandoned cart A
    settings = settings_for(tmp_path)
    member(session, "c1")
    cart_journey = journey(session, cart())
    log_and_react(session, track("Checkout Started", "m1", cart_id="A"))
    step(session, settings, NOON)
    # when 59 minutes pass, nothing is due; at one hour the timeout fires
    assert step(session, settings, NOON + timedelta(minutes=59)) == (0, 0)
    assert step(session, settings, NOON + HOUR) == (1, 3)
    # then one reminder email is queued under the step's key and she waits a day
    [run] = runs(session, cart_journey.id)
    [email] = messages(session)
    assert (email.channel, email.idempotency_key, email.status) == (
        "email",
        f"journey:{run.id}:email",
        "queued",
    )
    assert email.content["subject"] == "Your cart, Amy"
    assert (run.state, run.node, run.wake_at) == ("waiting", "day", NOON + HOUR + DAY)
    # when the day has passed
    step(session, settings, NOON + HOUR + DAY)
    # then the split sends her the SMS or holds her out, by her run's fixed bucket
    [run] = runs(session, cart_journey.id)
    holdout = runtime.bucket(run.id, "split", seed=str(cart_journey.id)) >= 90
    assert run.cohort == ("holdout" if holdout else "treatment")
    assert [m.channel for m in messages(session)] == (["email"] if holdout else ["email", "sms"])
    assert (run.state, run.node, run.finished_at) == ("exited", "done", NOON + HOUR + DAY)


def test_a_step_run_again_never_sends_twice(session: Session, tmp_path: Path) -> None:
    # given the reminder step ran and queued its email
    settings = settings_for(tmp_path)
    member(session, "c1")
    cart_journey = journey(session, cart())
    log_and_react(session, track("Checkout Started", "m1", cart_id="A"))
    step(session, settings, NOON)
    step(session, settings, NOON + HOUR)
    [run] = runs(session, cart_journey.id)
    # when the run's progress past the step is lost but its send intent is not, and the step runs again
    runtime.move(run, "email", at=NOON + HOUR)
    session.execute(delete(JourneyStep).where(JourneyStep.run_id == run.id, JourneyStep.node != "wait_order"))
    session.flush()
    step(session, settings, NOON + HOUR)
    # then the step's idempotency key answers with the first message: still one email
    assert [(m.channel, m.idempotency_key) for m in messages(session)] == [
        ("email", f"journey:{run.id}:email")
    ]


@pytest.mark.parametrize(
    ("reentry", "entered"),
    [
        pytest.param({"policy": "once"}, 1, id="once"),
        pytest.param({"policy": "once_per", "days": 1}, 2, id="once-per-day"),
        pytest.param({"policy": "always"}, 3, id="always"),
    ],
)
def test_reentry_policies(session: Session, reentry: dict[str, Any], entered: int) -> None:
    # given a journey with the policy
    member(session, "c1")
    cart_journey = journey(session, cart(reentry=reentry))
    # when Amy starts checking out three carts: now, in 2 hours, in 2 days
    for n, when in enumerate((NOON, NOON + 2 * HOUR, NOON + 2 * DAY)):
        log_and_react(session, track("Checkout Started", f"m{n}", cart_id=f"C{n}", at=when))
    # then she entered as often as the policy allows
    assert len(runs(session, cart_journey.id)) == entered


def test_the_same_trigger_event_consumed_twice_is_one_entry(session: Session) -> None:
    # given the consumer handles a batch, crashes before its cursor moved, and handles it again
    member(session, "c1")
    cart_journey = journey(session, cart())
    log_and_react(session, track("Checkout Started", "m1", cart_id="A"))
    reactions.handle_events(session, events_service.events_after(session, 0, limit=1000), now=NOON)
    # then Amy is in once
    assert [r.entry_key for r in runs(session, cart_journey.id)] == ["event:m1"]


def test_the_entry_cap_stops_entries(session: Session) -> None:
    for user in ("c1", "c2", "c3"):
        member(session, user)
    cart_journey = journey(session, cart(entry_cap=2))
    for n, user in enumerate(("c1", "c2", "c3")):
        log_and_react(session, track("Checkout Started", f"m{n}", user_id=user, cart_id=f"C{n}"))
    assert len(runs(session, cart_journey.id)) == 2


def test_people_in_flight_finish_on_the_version_they_entered(session: Session, tmp_path: Path) -> None:
    # given Amy is waiting in version 1, which emails on timeout
    settings = settings_for(tmp_path)
    member(session, "c1")
    member(session, "c2")
    cart_journey = journey(session, cart())
    log_and_react(session, track("Checkout Started", "m1", user_id="c1", cart_id="A"))
    step(session, settings, NOON)
    # when version 2 drops the email and Ben enters under it
    raw = cart()
    raw["nodes"]["wait_order"]["timeout_next"] = "done"
    del raw["nodes"]["email"], raw["nodes"]["day"], raw["nodes"]["split"], raw["nodes"]["sms"]
    updated = service.update(session, cart_journey.id, JourneyUpdate(definition=raw), by="test")
    log_and_react(session, track("Checkout Started", "m2", user_id="c2", cart_id="B"))
    step(session, settings, NOON)
    step(session, settings, NOON + HOUR)
    # then Amy got version 1's email and Ben none
    amy, ben = runs(session, cart_journey.id)
    assert (updated.current_version, amy.version, ben.version) == (2, 1, 2)
    assert [m.profile_id for m in messages(session)] == [amy.profile_id]
    assert (ben.state, ben.node) == ("exited", "done")


def _api_journey(session: Session, nodes: dict[str, Any], **more: Any) -> int:
    raw = {"trigger": {"type": "api"}, "start": next(iter(nodes)), "nodes": nodes, **more}
    return journey(session, raw, name="API").id


def test_a_condition_on_a_trait_and_a_profile_update(session: Session, tmp_path: Path) -> None:
    # given a journey that tags and marks people named Amy
    amy = member(session, "c1")
    ben = member(session, "c2", first_name="Ben")
    journey_id = _api_journey(
        session,
        {
            "is_amy": {
                "type": "condition",
                "if": {"trait": "first_name", "value": "Amy"},
                "then": "mark",
                "else": "end",
            },
            "mark": {
                "type": "update_profile",
                "traits": {"cart_reminded": True},
                "tags": ["reminded"],
                "next": "end",
            },
            "end": {"type": "exit"},
        },
    )
    # when both enter by API and are stepped
    for profile_id in (amy, ben):
        service.enter_by_api(session, journey_id, EntryCreate(profile_id=profile_id), at=NOON)
    step(session, settings_for(tmp_path), NOON)
    # then only Amy was tagged, and her new trait went to the log as an identify the profiles index
    amy_run, ben_run = runs(session, journey_id)
    assert [node for node, _ in path_of(session, amy_run.id)] == ["is_amy", "mark", "end"]
    assert [node for node, _ in path_of(session, ben_run.id)] == ["is_amy", "end"]
    assert segments_service.tags_of(session, amy).tags == ["reminded"]
    assert segments_service.tags_of(session, ben).tags == []
    [identify] = session.scalars(select(LoggedEvent).where(LoggedEvent.source == "omni:journeys")).all()
    assert (identify.type, identify.user_id, identify.traits) == ("identify", "c1", {"cart_reminded": True})


def test_api_entries_are_idempotent_and_refused_by_policy(session: Session) -> None:
    amy = member(session, "c1")
    journey_id = _api_journey(session, {"end": {"type": "exit"}})
    first = service.enter_by_api(
        session, journey_id, EntryCreate(profile_id=amy, idempotency_key="k1"), at=NOON
    )
    again = service.enter_by_api(
        session, journey_id, EntryCreate(profile_id=amy, idempotency_key="k1"), at=NOON
    )
    assert again.id == first.id
    with pytest.raises(EntryRefused) as refused:
        service.enter_by_api(session, journey_id, EntryCreate(profile_id=amy, idempotency_key="k2"), at=NOON)
    assert refused.value.status_code == 409
    assert refused.value.message.endswith("(re-entry: once)")


def test_a_paused_journey_lets_nobody_in_and_moves_nobody(session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    member(session, "c1")
    member(session, "c2")
    cart_journey = journey(session, cart())
    log_and_react(session, track("Checkout Started", "m1", user_id="c1", cart_id="A"))
    service.set_status(session, cart_journey.id, "paused")
    log_and_react(session, track("Checkout Started", "m2", user_id="c2", cart_id="B"))
    assert step(session, settings, NOON + DAY) == (0, 0)
    [run] = runs(session, cart_journey.id)
    assert (run.state, run.node) == ("active", "wait_order")
    # and resuming moves the person on
    service.set_status(session, cart_journey.id, "active")
    assert step(session, settings, NOON + DAY)[0] == 1


def test_birthdays_enter_once_a_day(session: Session) -> None:
    amy = member(session, "c1", birthday="1990-06-01")
    member(session, "c2", birthday="1990-07-01")
    journey_id = journey(
        session,
        {
            "trigger": {"type": "date_trait", "trait": "birthday", "annual": True},
            "start": "end",
            "nodes": {"end": {"type": "exit"}},
        },
        name="Birthday",
    ).id
    assert reactions.enter_by_dates(session, today=date(2026, 6, 1), now=NOON) == 1
    assert reactions.enter_by_dates(session, today=date(2026, 6, 1), now=NOON) == 0
    assert [r.profile_id for r in runs(session, journey_id)] == [amy]


def test_conversion_is_compared_against_the_holdout(session: Session, tmp_path: Path) -> None:
    # given 40 people split half into a holdout, and a goal of any order within 7 days
    people = [member(session, f"p{n}") for n in range(40)]
    journey_id = _api_journey(
        session,
        {
            "split": {
                "type": "random_split",
                "branches": [{"percent": 50, "next": "end"}, {"percent": 50, "next": "end", "holdout": True}],
            },
            "end": {"type": "exit"},
        },
        goal={"event": "Order Completed"},
    )
    for profile_id in people:
        service.enter_by_api(session, journey_id, EntryCreate(profile_id=profile_id), at=NOON)
    step(session, settings_for(tmp_path), NOON)
    # when every treated person and no held-out person orders
    by_cohort = {r.profile_id: r.cohort for r in runs(session, journey_id)}
    treated = [n for n, p in enumerate(people) if by_cohort[p] == "treatment"]
    log_and_react(
        session, *[track("Order Completed", f"o{n}", user_id=f"p{n}", at=NOON + HOUR) for n in treated]
    )
    # then the stats show the lift and a significant p-value
    numbers = stats.journey_stats(session, journey_id)
    assert numbers.holdout is not None
    assert (numbers.entered, numbers.converted, numbers.exited) == (40, len(treated), 40)
    assert numbers.holdout.treatment.people == len(treated)
    assert (numbers.holdout.treatment.rate, numbers.holdout.holdout.rate, numbers.holdout.lift) == (
        1.0,
        0.0,
        1.0,
    )
    assert numbers.holdout.p_value is not None
    assert numbers.holdout.p_value < 1e-6
    assert {n.node: n.reached for n in numbers.nodes} == {"split": 40, "end": 40}


def test_a_template_with_an_unknown_variable_is_refused_naming_the_node(session: Session) -> None:
    raw = cart()
    raw["nodes"]["email"]["message"]["variants"]["email"]["subject"] = "Hi {{ profile.nickname }}"
    with pytest.raises(JourneyInvalid) as caught:
        journey(session, raw)
    assert [d["field"] for d in caught.value.details] == ["nodes.email.message.variants.email.subject"]


def test_a_send_without_a_variant_for_its_channel_is_refused(session: Session) -> None:
    raw = cart()
    raw["nodes"]["sms"]["channel"] = "line"
    with pytest.raises(JourneyInvalid) as caught:
        journey(session, raw)
    assert caught.value.details == [
        {"field": "nodes.sms.message.variants", "rule": "needs a line variant for node sms"}
    ]


def test_an_old_trigger_event_lets_nobody_in(session: Session) -> None:
    # given checkouts logged late: one from yesterday morning, one from two days ago (an import)
    member(session, "c1")
    cart_journey = journey(session, cart())
    log_and_react(
        session,
        track("Checkout Started", "m1", cart_id="A", at=NOON - 20 * HOUR),
        track("Checkout Started", "m2", cart_id="B", at=NOON - 2 * DAY),
    )
    # then only the checkout within the trigger's day of age entered
    assert [r.keys for r in runs(session, cart_journey.id)] == [{"cart_id": "A"}]


def test_entering_a_segment_starts_the_journey_and_conditions_read_segments_and_events(
    session: Session, tmp_path: Path
) -> None:
    # given Amy, who ordered twice this month, and a segment of people named Amy
    amy = member(session, "c1")
    member(session, "c2", first_name="Ben")
    log_and_react(
        session,
        track("Order Completed", "o1", at=NOON - 3 * DAY, total=100),
        track("Order Completed", "o2", at=NOON - 2 * DAY, total=900),
    )
    segment = segments_service.create(
        session,
        SegmentCreate(
            key="amys", name="Amys", definition={"trait": "first_name", "op": "eq", "value": "Amy"}
        ),
        by="test",
    )
    journey_id = journey(
        session,
        {
            "trigger": {"type": "segment_entered", "segment_id": segment.id},
            "start": "member",
            "nodes": {
                "member": {
                    "type": "condition",
                    "if": {"in_segment": segment.id},
                    "then": "big",
                    "else": "no",
                },
                "big": {
                    "type": "condition",
                    "if": {
                        "did_event": "Order Completed",
                        "within": {"days": 7},
                        "where": [{"property": "total", "op": "gte", "value": 500}],
                    },
                    "then": "yes",
                    "else": "no",
                },
                "yes": {"type": "exit"},
                "no": {"type": "exit"},
            },
        },
        name="Amys",
    ).id
    # when the segments consumer announces Amy entering it, in the pass after identity stitched (so the
    # announcement is not attributed yet when journeys read it)
    before = events_service.head_position(session)
    membership.recompute(session, segment.id, now=NOON)
    reactions.handle_events(session, events_service.events_after(session, before, limit=100), now=NOON)
    step(session, settings_for(tmp_path), NOON)
    # then Amy entered and the conditions saw her membership and her NT$900 order
    [run] = runs(session, journey_id)
    assert run.profile_id == amy
    assert [node for node, _ in path_of(session, run.id)] == ["member", "big", "yes"]


def test_an_order_the_consumer_missed_is_seen_before_the_timeout_branch(
    session: Session, tmp_path: Path
) -> None:
    # given Amy waits for cart A's order
    settings = settings_for(tmp_path)
    member(session, "c1")
    cart_journey = journey(session, cart(goal=None))
    log_and_react(session, track("Checkout Started", "m1", cart_id="A"))
    step(session, settings, NOON)
    # when her order is logged and stitched, but the wake-up missed it (it raced her being put to wait)
    before = events_service.head_position(session)
    log(session, track("Order Completed", "m2", cart_id="A", at=NOON + timedelta(minutes=5)))
    stitch_new(session, after=before)
    step(session, settings, NOON + HOUR)
    # then the timeout looks once more and takes the order branch: no reminder
    [run] = runs(session, cart_journey.id)
    assert (run.state, run.node, run.converted_at) == ("completed", "bought", NOON + HOUR)
    assert path_of(session, run.id)[1] == ("wait_order", "Order Completed arrived")
    assert messages(session) == []


def test_a_send_node_a_loop_comes_back_to_sends_again_under_a_new_key(
    session: Session, tmp_path: Path
) -> None:
    # given a daily reminder loop: email, wait a day, email again
    settings = settings_for(tmp_path)
    amy = member(session, "c1")
    email = {"type": "send", "channel": "email", "message": {"variants": {"email": EMAIL}}, "next": "day"}
    journey_id = _api_journey(
        session, {"email": email, "day": {"type": "delay", "duration": {"days": 1}, "next": "email"}}
    )
    service.enter_by_api(session, journey_id, EntryCreate(profile_id=amy), at=NOON)
    # when three days of steps pass
    for day in range(3):
        step(session, settings, NOON + day * DAY)
    # then each visit sent once, keyed by its visit
    [run] = runs(session, journey_id)
    assert [m.idempotency_key for m in messages(session)] == [
        f"journey:{run.id}:email",
        f"journey:{run.id}:email:2",
        f"journey:{run.id}:email:3",
    ]
