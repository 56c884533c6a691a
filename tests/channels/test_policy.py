"""The policies as pure functions: consent, frequency caps, quiet hours, rate limits; and templates."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.channels import inbound, policy, templates, tracking
from omni.channels.errors import BadSignature, TemplateInvalid

TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        pytest.param(
            datetime(2026, 6, 1, 12, 0, tzinfo=TAIPEI),
            datetime(2026, 6, 1, 12, 0, tzinfo=TAIPEI),
            id="noon-goes-now",
        ),
        pytest.param(
            datetime(2026, 6, 1, 21, 0, tzinfo=TAIPEI),
            datetime(2026, 6, 2, 9, 0, tzinfo=TAIPEI),
            id="21h-waits-for-morning",
        ),
        pytest.param(
            datetime(2026, 6, 2, 3, 15, tzinfo=TAIPEI),
            datetime(2026, 6, 2, 9, 0, tzinfo=TAIPEI),
            id="3am-waits-same-day",
        ),
        pytest.param(
            datetime(2026, 6, 2, 9, 0, tzinfo=TAIPEI),
            datetime(2026, 6, 2, 9, 0, tzinfo=TAIPEI),
            id="9am-goes",
        ),
        pytest.param(
            datetime(2026, 3, 7, 23, 0, tzinfo=NEW_YORK),
            datetime(2026, 3, 8, 9, 0, tzinfo=NEW_YORK),
            id="across-dst-start",
        ),
    ],
)
def test_quiet_hours_hold_until_the_window_opens(local: datetime, expected: datetime) -> None:
    now = local.astimezone(UTC)
    assert policy.next_allowed(now, local.tzinfo, start=time(21), end=time(9)) == expected.astimezone(UTC)  # type: ignore[arg-type]


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),  # noqa: DTZ001
    st.sampled_from(["Asia/Taipei", "Asia/Kolkata", "America/New_York", "Europe/London", "UTC"]),
    st.times(),
    st.times(),
)
def test_next_allowed_is_never_early_never_quiet_and_within_a_day(
    now: datetime, zone: str, start: time, end: time
) -> None:
    tz = ZoneInfo(zone)
    allowed = policy.next_allowed(now, tz, start=start, end=end)
    quiet_now = policy.in_quiet_hours(now.astimezone(tz).time(), start, end)
    # never before now, never more than a day (and a DST hour) later, and now itself when not quiet
    assert now <= allowed <= now + timedelta(days=1, hours=1)
    assert (allowed == now) is not quiet_now
    # where no clock change falls in between, the moment found is outside quiet hours and stays found
    if now.astimezone(tz).utcoffset() == allowed.astimezone(tz).utcoffset():
        assert not policy.in_quiet_hours(allowed.astimezone(tz).time(), start, end)
        assert policy.next_allowed(allowed, tz, start=start, end=end) == allowed


def test_caps_count_only_their_purpose_and_channel() -> None:
    now = datetime(2026, 6, 10, tzinfo=UTC)
    sent = [
        policy.Sent("email", "marketing", now - timedelta(days=6)),
        policy.Sent("sms", "marketing", now - timedelta(hours=2)),
        policy.Sent("sms", "transactional", now - timedelta(hours=1)),
        policy.Sent("email", "marketing", now - timedelta(days=8)),
    ]
    caps = policy.DEFAULT_POLICY.caps
    assert policy.cap_reached(caps, sent, channel="sms", purpose="marketing", now=now) == caps[1]
    assert policy.cap_reached(caps, sent, channel="email", purpose="marketing", now=now) is None
    assert (
        policy.cap_reached(caps, [*sent, sent[0]], channel="email", purpose="marketing", now=now) == caps[0]
    )
    assert policy.cap_reached(caps, sent * 5, channel="sms", purpose="transactional", now=now) is None


def test_consent_rules() -> None:
    given_consent = {("sms", "marketing"): "granted", ("email", "marketing"): "denied"}
    assert policy.consent_refusal(given_consent, "sms", "marketing") is None
    assert (
        policy.consent_refusal({}, "whatsapp", "marketing") == "whatsapp marketing needs the person's opt-in"
    )
    assert (
        policy.consent_refusal(given_consent, "email", "marketing")
        == "the person refused marketing messages on email"
    )
    assert policy.consent_refusal(given_consent, "email", "transactional") is None
    assert policy.consent_refusal({("webhook", "marketing"): "denied"}, "webhook", "marketing") is None


def test_rate_limiter_spaces_calls_to_the_providers_rate() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        clock[0] += seconds

    limiter = policy.RateLimiter({"twilio": 2.0}, now=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limiter.wait("twilio")
        limiter.wait("smtp")
    assert slept == [0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    ("body", "meaning"),
    [
        ("STOP", "opt_out"),
        ("stopall", "opt_out"),
        (" Quit ", "opt_out"),
        ("end.", "opt_out"),
        ("START", "opt_in"),
        ("unstop", "opt_in"),
        ("HELP", "help"),
        ("stop sending me", None),
        ("thanks", None),
    ],
)
def test_sms_keywords_are_whole_messages(body: str, meaning: str | None) -> None:
    assert inbound.keyword(body) == meaning


def test_tokens_name_their_message_and_reject_forgery() -> None:
    tokens = tracking.Tokens("secret")
    click = tokens.make("click", 42, "https://shop.test/a")
    assert tokens.read("click", click) == (42, "https://shop.test/a")
    with pytest.raises(BadSignature):
        tokens.read("open", click)
    with pytest.raises(BadSignature):
        tracking.Tokens("other").read("click", click)


def test_templates_check_loops_branches_and_syntax() -> None:
    templates.check(
        {
            "email": {
                "subject": "{% if cart.items.size > 1 %}{{ cart.items[0].name }}{% endif %}",
                "text": "{{ computed.orders_90d }}",
            }
        }
    )
    for broken, rule in [
        ("{% for i in cart.items %}{{ i.colour }}{% endfor %}", "i.colour is undefined"),
        (
            "{% if false %}{{ store.manager }}{% endif %}",
            "unknown variable store.manager; store has code, name, city, address, phone, hours",
        ),
        ("{% if x %}", "expected tag endif, found end of expression"),
    ]:
        with pytest.raises(TemplateInvalid) as refused:
            templates.check({"sms": {"text": broken}})
        assert refused.value.details == [{"field": "variants.sms.text", "rule": rule}]
    with pytest.raises(TemplateInvalid) as missing:
        templates.check({"push": {"body": "x"}, "fax": {"text": "x"}})
    assert missing.value.details == [
        {"field": "variants.push.title", "rule": "required"},
        {"field": "variants.fax", "rule": "one of email, sms, whatsapp, line, push, in_app, webhook"},
    ]
