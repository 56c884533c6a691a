"""Normalise identifiers as people and tills write them, and refuse the junk that would link strangers.

Emails are validated by `email-validator` (syntax only, no DNS): its rules follow the RFCs and the
internationalised forms (IDNA domains, UTF-8 local parts) that a hand-written regex gets wrong in both
directions. Phones become E.164 through `phonenumbers`, reading national forms in the retailer's region.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Values that forms, SDKs and tills send when nobody knows the real one; they must never link two people.
DEFAULT_BLOCKED_VALUES = frozenset(
    {
        "",
        "null",
        "undefined",
        "anonymous",
        "none",
        "nil",
        "nan",
        "unknown",
        "n/a",
        "na",
        "0",
        "-1",
        "test@test.com",
        "test@example.com",
    }
)
ID_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Normalized(NamedTuple):
    """A normalised value, or None with the reason it was refused."""

    value: str | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


def _refused(reason: str) -> Normalized:
    return Normalized(None, reason)


def _folded(raw: object) -> str:
    # NFKC turns full-width digits and letters (typed with a CJK input method) into ASCII.
    return unicodedata.normalize("NFKC", str(raw)).strip()


def is_blocked(value: str, blocked: frozenset[str]) -> bool:
    """Whether value (already trimmed) is a junk placeholder."""
    return value.lower() in blocked


def normalize_email(raw: object, *, blocked: frozenset[str] = DEFAULT_BLOCKED_VALUES) -> Normalized:
    """Trim, lower-case and check an email's syntax; junk and invalid addresses give None."""
    return _normalize_email(_folded(raw), blocked)


def _normalize_email(text: str, blocked: frozenset[str]) -> Normalized:
    lowered = text.lower()
    if is_blocked(lowered, blocked):
        return _refused("blocked value")
    if len(lowered) > EMAIL_MAX_LENGTH:
        return _refused(f"longer than {EMAIL_MAX_LENGTH} characters")
    try:
        checked = validate_email(lowered, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return _refused(f"not an email address: {exc}")
    # The validator keeps the local part's case and may re-normalise Unicode; lower-case its result again.
    normalized = checked.lower()
    if is_blocked(normalized, blocked):
        return _refused("blocked value")
    return Normalized(normalized)


def normalize_phone(
    raw: object, *, region: str = "TW", blocked: frozenset[str] = DEFAULT_BLOCKED_VALUES
) -> Normalized:
    """The phone number in E.164, reading national forms in region; junk and invalid numbers give None."""
    return _normalize_phone(_folded(raw), region.upper(), blocked)


def _normalize_phone(text: str, region: str, blocked: frozenset[str]) -> Normalized:
    if is_blocked(text, blocked):
        return _refused("blocked value")
    if not any(ch.isdigit() for ch in text):
        return _refused("no digits")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return _refused(f"not a phone number: {exc}")
    if not phonenumbers.is_valid_number(number):
        return _refused("not a valid phone number")
    national = str(number.national_number)
    # 0900-000-000 or 0911-111-111: a till's placeholder, not a subscriber.
    if len(set(national[1:])) == 1:
        return _refused("placeholder number (repeated digit)")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if is_blocked(e164, blocked):
        return _refused("blocked value")
    return Normalized(e164)


def normalize_name(raw: object) -> Normalized:
    """A person's name, NFKC-normalised with runs of whitespace collapsed to one space."""
    text = _WHITESPACE.sub(" ", _folded(raw))
    if not text:
        return _refused("empty")
    return Normalized(text)


def normalize_key(raw: object, *, blocked: frozenset[str] = DEFAULT_BLOCKED_VALUES) -> Normalized:
    """An opaque identifier (user, anonymous, member, device, custom): trimmed, case kept, junk refused."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return _refused("not a string or an integer")
    return _normalize_key(_folded(raw), blocked)


# Omni's own domains key events that are no person's doing (a stock movement) to ids under this prefix.
SYSTEM_ID_PREFIX = "omni:"


def _normalize_key(text: str, blocked: frozenset[str]) -> Normalized:
    if is_blocked(text, blocked):
        return _refused("blocked value")
    if text.startswith(SYSTEM_ID_PREFIX):
        return _refused("Omni's own system identity, not a person")
    if len(text) > ID_MAX_LENGTH:
        return _refused(f"longer than {ID_MAX_LENGTH} characters")
    if len(set(text)) == 1 and text[0] in "0-":
        return _refused("blocked value")
    # NUL and other control characters are never part of an id, and PostgreSQL refuses NUL in text.
    if _CONTROL.search(text):
        return _refused("contains control characters")
    return Normalized(text)


def normalize_identifier(
    kind: str, raw: object, *, region: str = "TW", blocked: frozenset[str] = DEFAULT_BLOCKED_VALUES
) -> Normalized:
    """Normalise raw as an identifier of kind: email and phone by their rules, any other kind as a key."""
    if isinstance(raw, str):
        return _normalize_text(kind, raw, region, blocked)
    if raw is None:
        return _refused("missing")
    if kind == "email":
        return _refused("not a string")
    if isinstance(raw, bool) or not isinstance(raw, int):
        return _refused("not a string or an integer")
    return (
        normalize_phone(raw, region=region, blocked=blocked)
        if kind == "phone"
        else normalize_key(raw, blocked=blocked)
    )


# Stitching asks for the same values over and over (an anonymous id on every page view). A plain dict,
# emptied when full, holding only strings and tuples of strings, costs less than lru_cache and gives the
# garbage collector nothing to scan.
MEMO_LIMIT = 100_000
_MEMO: dict[frozenset[str], dict[tuple[str, str, str], Normalized]] = {}


def _normalize_text(kind: str, raw: str, region: str, blocked: frozenset[str]) -> Normalized:
    memo = _MEMO.get(blocked)
    if memo is None or len(memo) >= MEMO_LIMIT:
        if len(_MEMO) >= 8:
            _MEMO.clear()
        memo = _MEMO[blocked] = {}
    key = (kind, raw, region)
    found = memo.get(key)
    if found is None:
        if kind == "email":
            found = normalize_email(raw, blocked=blocked)
        elif kind == "phone":
            found = normalize_phone(raw, region=region, blocked=blocked)
        else:
            found = normalize_key(raw, blocked=blocked)
        memo[key] = found
    return found


def blocked_values(extra: Iterable[str] = ()) -> frozenset[str]:
    """The default junk values plus extra ones, compared trimmed and lower-cased."""
    return DEFAULT_BLOCKED_VALUES | {_folded(value).lower() for value in extra}
