from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.identity.normalize import (
    Normalized,
    blocked_values,
    normalize_email,
    normalize_identifier,
    normalize_key,
    normalize_name,
    normalize_phone,
)


@pytest.mark.parametrize(
    "raw",
    [
        "0912-345-678",
        "+886912345678",
        "886 912 345 678",
        "0912345678",
        "+886 912-345-678",
        "０９１２３４５６７８",
    ],
    ids=["dashed-national", "e164", "country-code-spaces", "national", "e164-dashed", "full-width"],
)
def test_taiwanese_mobile_in_any_written_form_becomes_e164(raw: str) -> None:
    assert normalize_phone(raw) == Normalized("+886912345678")


def test_phone_with_a_foreign_country_code_keeps_it() -> None:
    assert normalize_phone("+1 650-253-0000") == Normalized("+16502530000")


def test_national_number_is_read_in_the_given_region() -> None:
    assert normalize_phone("(650) 253-0000", region="US") == Normalized("+16502530000")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0900-000-000", "placeholder number (repeated digit)"),
        ("0911111111", "placeholder number (repeated digit)"),
        ("12345", "not a valid phone number"),
        ("call me", "no digits"),
        ("", "blocked value"),
        ("null", "blocked value"),
        ("0", "blocked value"),
    ],
    ids=["all-zero", "all-same-digit", "too-short", "words", "empty", "null", "zero"],
)
def test_junk_or_invalid_phones_are_refused_with_a_reason(raw: str, reason: str) -> None:
    assert normalize_phone(raw) == Normalized(None, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Amy.Chen@GMAIL.com ", "amy.chen@gmail.com"),
        ("AMY@YAHOO.COM.TW", "amy@yahoo.com.tw"),
        ("amy@gmail.com", "amy@gmail.com"),
        ("ＡＭＹ@gmail.com", "amy@gmail.com"),
    ],
    ids=["padded-capitalised", "shouted", "already-normal", "full-width"],
)
def test_emails_are_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == Normalized(expected)


@pytest.mark.parametrize(
    "raw",
    ["test@test.com", " TEST@example.com", "undefined", "null", ""],
    ids=["test-test", "test-example", "undefined", "null", "empty"],
)
def test_junk_emails_are_blocked(raw: str) -> None:
    assert normalize_email(raw) == Normalized(None, "blocked value")


@pytest.mark.parametrize("raw", ["amy", "amy@", "@gmail.com", "amy@localhost", "a b@gmail.com"])
def test_invalid_emails_are_refused_with_the_validators_reason(raw: str) -> None:
    result = normalize_email(raw)
    assert result.value is None
    assert result.reason is not None
    assert result.reason.startswith("not an email address: ")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  陳  怡君 ", "陳 怡君"),
        ("Amy\u3000Chen", "Amy Chen"),
        ("ＡＭＹ\tChen", "AMY Chen"),
        ("ｶﾀｶﾅ", "カタカナ"),
    ],
    ids=["collapsed-spaces", "ideographic-space", "full-width-and-tab", "half-width-kana"],
)
def test_names_are_nfkc_normalised_and_whitespace_collapsed(raw: str, expected: str) -> None:
    assert normalize_name(raw) == Normalized(expected)


def test_blank_name_is_refused() -> None:
    assert normalize_name(" \u3000 ") == Normalized(None, "empty")


@pytest.mark.parametrize(
    "raw",
    ["null", "NULL", "undefined", "anonymous", "None", "n/a", "0", "-1", "000", " ", ""],
    ids=[
        "null",
        "NULL",
        "undefined",
        "anonymous",
        "None",
        "n/a",
        "zero",
        "minus-one",
        "zeros",
        "space",
        "empty",
    ],
)
def test_junk_keys_never_become_identifiers(raw: str) -> None:
    assert normalize_key(raw) == Normalized(None, "blocked value")


def test_keys_with_control_characters_are_refused() -> None:
    assert normalize_key("c_0\x0001") == Normalized(None, "contains control characters")


def test_keys_are_trimmed_and_keep_their_case() -> None:
    assert normalize_key("  c_00AB12 ") == Normalized("c_00AB12")


def test_integer_keys_become_text() -> None:
    assert normalize_key(12345) == Normalized("12345")


def test_extra_blocked_values_are_compared_trimmed_and_lower_cased() -> None:
    blocked = blocked_values([" Store@Shop.TW ", "+886227208889"])
    assert normalize_email("store@shop.tw", blocked=blocked) == Normalized(None, "blocked value")
    assert normalize_phone("02-2720-8889", blocked=blocked) == Normalized(None, "blocked value")
    assert normalize_email("amy@shop.tw", blocked=blocked) == Normalized("amy@shop.tw")


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", " Amy@Gmail.com", Normalized("amy@gmail.com")),
        ("phone", "0912-345-678", Normalized("+886912345678")),
        ("phone", 886912345678, Normalized("+886912345678")),
        ("member_id", " M00012345 ", Normalized("M00012345")),
        ("line_id", "U4af4980629", Normalized("U4af4980629")),
        ("email", 42, Normalized(None, "not a string")),
        ("phone", True, Normalized(None, "not a string or an integer")),
        ("user_id", None, Normalized(None, "missing")),
        ("user_id", {"id": 1}, Normalized(None, "not a string or an integer")),
    ],
    ids=["email", "phone", "phone-int", "member", "custom", "email-int", "phone-bool", "missing", "dict"],
)
def test_normalize_identifier_dispatches_by_kind(kind: str, raw: object, expected: Normalized) -> None:
    assert normalize_identifier(kind, raw) == expected


emails = st.one_of(
    st.emails(),
    st.builds(lambda a, b: f" {a}@{b} ", st.text(min_size=0, max_size=20), st.text(min_size=0, max_size=20)),
    st.text(max_size=40),
)
phones = st.one_of(
    st.from_regex(r"\A(\+?886|0)?[ -]?9\d{2}[ -]?\d{3}[ -]?\d{3}\Z"),
    st.from_regex(r"\A\+?[0-9 ()-]{3,20}\Z"),
    st.text(max_size=20),
)


@given(emails)
def test_email_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_email(raw)
    if once.value is not None:
        assert normalize_email(once.value) == once


@given(phones, st.sampled_from(["TW", "US", "JP"]))
def test_phone_normalisation_is_idempotent(raw: str, region: str) -> None:
    once = normalize_phone(raw, region=region)
    if once.value is not None:
        assert normalize_phone(once.value, region=region) == once
        assert normalize_phone(once.value, region="TW") == once


@given(st.text(max_size=40))
def test_name_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_name(raw)
    if once.value is not None:
        assert normalize_name(once.value) == once


@given(st.one_of(st.text(max_size=40), st.integers()))
def test_key_normalisation_is_idempotent(raw: str | int) -> None:
    once = normalize_key(raw)
    if once.value is not None:
        assert normalize_key(once.value) == once


def test_omnis_own_system_ids_are_no_one() -> None:
    # the stock movements' anonymousId must not gather every inventory event into one "person"
    assert normalize_key("omni:inventory") == Normalized(None, "Omni's own system identity, not a person")
    assert normalize_identifier("anonymous_id", "omni:inventory").value is None
    assert normalize_key("omnichannel-fan") == Normalized("omnichannel-fan")
