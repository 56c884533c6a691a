"""Recording send intents and the policies that stop or hold them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.channels import outcomes, service
from omni.channels.errors import ChannelNotConfigured, IdempotencyKeyReused, TemplateInvalid
from omni.channels.models import ChannelMessage
from omni.channels.schemas import MessageContent, TemplateSave
from omni.events import service as events_service
from omni.profiles import service as profiles_service
from tests.channels.builders import EMAIL, SMS, events, member, reindex, settings_for

# 12:00 in Taipei: outside quiet hours.
NOON_TAIPEI = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def _send(
    session: Session,
    tmp_path: Path,
    profile_id: int,
    channel: str,
    key: str,
    *,
    purpose: str = "marketing",
    now: datetime = NOON_TAIPEI,
    **data: dict[str, str],
) -> ChannelMessage:
    return service.send(
        session,
        profile_id=profile_id,
        channel=channel,
        # The SMS names the order: without one it would fail rather than go with a blank.
        message=MessageContent(
            variants={"email": EMAIL, "sms": SMS}, data=data or {"order": {"number": "1001"}}
        ),
        idempotency_key=key,
        purpose=purpose,
        settings=settings_for(tmp_path),
        now=now,
    )


def test_send_records_one_intent_per_key_with_rendered_tracked_content(
    session: Session, tmp_path: Path
) -> None:
    # given a member
    amy = member(session, "c1")
    # when a journey step asks twice with the same key
    first = _send(session, tmp_path, amy, "email", "journey:1:step:1:c1")
    again = _send(session, tmp_path, amy, "email", "journey:1:step:1:c1")
    # then one queued message holds the rendered, tracked email
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(ChannelMessage)) == 1
    assert (first.status, first.address, first.provider, first.not_before) == (
        "queued",
        "c1@example.com",
        "console",
        NOON_TAIPEI,
    )
    assert first.content["subject"] == "Hi Amy"
    assert first.content["text"] == "Hi Amy: https://shop.test/sale"
    assert first.content["html"].startswith('<html><body><p>Hi Amy</p><a href="http://omni.test/v1/t/c/')
    assert '<img src="http://omni.test/v1/t/o/' in first.content["html"]
    assert first.content["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.content["headers"]["List-Unsubscribe"].startswith("<http://omni.test/v1/unsubscribe/")
    # and the log says it was queued, keyed to the person, once
    queued = events(session, "Email Queued")
    assert [(e.user_id, e.source, e.message_id, e.properties["purpose"]) for e in queued] == [
        ("c1", "omni:channels", f"omni:channels:{first.id}:queued", "marketing")
    ]


def test_a_key_reused_for_another_channel_is_refused(session: Session, tmp_path: Path) -> None:
    amy = member(session, "c1", sms_opt_in=True)
    _send(session, tmp_path, amy, "email", "k1")
    with pytest.raises(IdempotencyKeyReused) as reused:
        _send(session, tmp_path, amy, "sms", "k1")
    assert reused.value.details == [{"field": "idempotency_key", "rule": "one key per message"}]


def test_a_channel_without_a_variant_is_refused(session: Session, tmp_path: Path) -> None:
    amy = member(session, "c1")
    with pytest.raises(ChannelNotConfigured) as missing:
        _send(session, tmp_path, amy, "line", "k1")
    assert missing.value.details == [{"field": "variants.line", "rule": "required"}]


@pytest.mark.parametrize(
    ("traits", "channel", "purpose", "status", "reason"),
    [
        pytest.param(
            {},
            "sms",
            "marketing",
            "skipped",
            "sms marketing needs the person's opt-in",
            id="sms-marketing-needs-opt-in",
        ),
        pytest.param({"sms_opt_in": True}, "sms", "marketing", "queued", None, id="sms-marketing-opted-in"),
        pytest.param({}, "sms", "transactional", "queued", None, id="sms-transactional-needs-no-opt-in"),
        pytest.param({}, "email", "marketing", "queued", None, id="email-marketing-until-refused"),
        pytest.param(
            {"email_opt_out": True},
            "email",
            "marketing",
            "skipped",
            "the person refused marketing messages on email",
            id="email-opted-out",
        ),
        pytest.param(
            {"email_opt_out": True},
            "email",
            "transactional",
            "queued",
            None,
            id="receipt-despite-newsletter-opt-out",
        ),
    ],
)
def test_consent_per_channel_and_purpose(
    session: Session,
    tmp_path: Path,
    traits: dict[str, bool],
    channel: str,
    purpose: str,
    status: str,
    reason: str | None,
) -> None:
    amy = member(session, "c1", **traits)
    message = _send(session, tmp_path, amy, channel, "k1", purpose=purpose, order={"number": "1001"})
    assert (message.status, message.error) == (status, reason)
    if status == "skipped":
        assert message.content == {}
        name = "Email Skipped" if channel == "email" else "Message Skipped"
        assert [e.properties["reason"] for e in events(session, name)] == [reason]


def test_frequency_caps_count_across_channels(session: Session, tmp_path: Path) -> None:
    # given a person who takes marketing by email and SMS
    amy = member(session, "c1", sms_opt_in=True)
    # when five marketing messages are asked for over four days
    statuses = [
        _send(session, tmp_path, amy, channel, f"k{i}", now=NOON_TAIPEI + timedelta(days=day)).status
        for i, (channel, day) in enumerate([("sms", 0), ("sms", 0), ("email", 1), ("email", 2), ("email", 3)])
    ]
    # then the second SMS that day and the fourth marketing message in a week are skipped
    assert statuses == ["queued", "skipped", "queued", "queued", "skipped"]
    errors = session.scalars(
        select(ChannelMessage.error).where(ChannelMessage.status == "skipped").order_by(ChannelMessage.id)
    ).all()
    assert errors == [
        "frequency cap: at most 1 marketing sms message(s) in 1 day, 0:00:00",
        "frequency cap: at most 3 marketing message(s) in 7 days, 0:00:00",
    ]
    # and a transactional message is never capped
    assert (
        _send(
            session,
            tmp_path,
            amy,
            "sms",
            "receipt",
            purpose="transactional",
            now=NOON_TAIPEI + timedelta(days=3),
        ).status
        == "queued"
    )


def test_quiet_hours_hold_marketing_until_morning_in_the_persons_time_zone(
    session: Session, tmp_path: Path
) -> None:
    # given one person in Taipei and one in New York, at 23:30 Taipei time (11:30 in New York)
    amy = member(session, "c1")
    bob = member(session, "c2", timezone="America/New_York")
    late_in_taipei = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)
    # when marketing and a pickup notice go out
    held = _send(session, tmp_path, amy, "email", "k1", now=late_in_taipei)
    notice = _send(session, tmp_path, amy, "email", "k2", purpose="transactional", now=late_in_taipei)
    new_york = _send(session, tmp_path, bob, "email", "k3", now=late_in_taipei)
    # then marketing waits for 09:00 in Taipei, the notice goes now, and New York's noon is fine
    assert (held.status, held.not_before) == ("queued", datetime(2026, 6, 2, 1, 0, tzinfo=UTC))
    assert notice.not_before == late_in_taipei
    assert new_york.not_before == late_in_taipei


def test_unsubscribe_records_the_consent_decision_profiles_honour(session: Session, tmp_path: Path) -> None:
    # given a sent marketing email
    amy = member(session, "c1")
    message = _send(session, tmp_path, amy, "email", "k1")
    before = events_service.head_position(session)
    # when the person unsubscribes through its link, and the log is processed
    outcomes.unsubscribe(session, message.id, via="one_click")
    reindex(session, after=before)
    # then their email marketing consent is denied, and the next marketing email is skipped
    consent = {(c.channel, c.purpose): c.status for c in profiles_service.consent_of(session, amy)}
    assert consent[("email", "marketing")] == "denied"
    assert consent[("email", "transactional")] == "unknown"
    assert _send(session, tmp_path, amy, "email", "k2").status == "skipped"
    assert [e.message_id for e in events(session, "Unsubscribed")] == [
        f"omni:channels:{message.id}:unsubscribed"
    ]


def test_opens_and_clicks_are_logged_once_each(session: Session, tmp_path: Path) -> None:
    amy = member(session, "c1")
    message = _send(session, tmp_path, amy, "email", "k1")
    for _ in range(2):
        outcomes.record_open(session, message.id)
        outcomes.record_click(session, message.id, "https://shop.test/sale")
    outcomes.record_click(session, message.id, "https://shop.test/other")
    assert len(events(session, "Email Opened")) == 1
    assert [e.properties["url"] for e in events(session, "Email Link Clicked")] == [
        "https://shop.test/sale",
        "https://shop.test/other",
    ]


def test_a_template_with_an_unknown_variable_is_refused_when_saved(session: Session) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        service.save_template(
            session,
            TemplateSave(
                name="welcome",
                variants={
                    "email": {"subject": "Hi {{ profile.nickname }}", "text": "x"},
                    "sms": {"text": "{{ cupon }}"},
                },
            ),
        )
    assert refused.value.details == [
        {
            "field": "variants.email.subject",
            "rule": "unknown variable profile.nickname; profile has id, name, first_name, last_name, "
            "email, phone, city, birthday, member_id, member_tier, locale, timezone",
        },
        {
            "field": "variants.sms.text",
            "rule": "unknown variable cupon; known: profile, traits, computed, order, cart, store, shop, "
            "message",
        },
    ]


def test_preview_renders_every_variant_for_a_real_person(session: Session) -> None:
    amy = member(session, "c1", shoe_size=24)
    service.save_template(
        session,
        TemplateSave(
            name="pickup",
            purpose="transactional",
            variants={
                "sms": {"text": "{{ profile.first_name }}: {{ order.number }} at {{ store.name }}"},
                "line": {
                    "text": "{% for item in order.items %}{{ item.name }} x{{ item.quantity }} {% endfor %}"
                    "size {{ traits.shoe_size }}"
                },
            },
        ),
    )
    profile_id, variants = service.preview(
        session,
        profile_id=amy,
        content=MessageContent(
            template="pickup",
            data={
                "order": {"number": "1001", "items": [{"name": "Tee", "quantity": 2}]},
                "store": {"name": "信義店"},
            },
        ),
    )
    assert profile_id == amy
    assert variants == {"sms": {"text": "Amy: 1001 at 信義店"}, "line": {"text": "Tee x2 size 24"}}


@pytest.mark.parametrize("in_flight", ["claimed", "sending"])
def test_a_message_a_worker_holds_counts_against_the_caps(
    session: Session, tmp_path: Path, in_flight: str
) -> None:
    # given a marketing SMS that a delivery worker has claimed or is handing to the provider
    amy = member(session, "c1", sms_opt_in=True)
    first = _send(session, tmp_path, amy, "sms", "k1")
    first.status = in_flight
    session.flush()
    # when a second marketing SMS is asked for the same day
    second = _send(session, tmp_path, amy, "sms", "k2", now=NOON_TAIPEI + timedelta(hours=1))
    # then the daily SMS cap already counts the first
    assert (second.status, second.error) == (
        "skipped",
        "frequency cap: at most 1 marketing sms message(s) in 1 day, 0:00:00",
    )
