"""Exports of a segment's members: CSV, a webhook, and the ad platforms' audience files.

Each audience file normalises as its platform documents (see docs/segments.md), then hashes with SHA-256:
- Google Customer Match: email trimmed and lower-cased; phone in E.164 *with* the leading +; first and
  last name trimmed and lower-cased.
- Meta Custom Audiences: email trimmed and lower-cased; phone as digits only (country code, no +); first
  and last name lower-cased, letters a–z only (a name with none, such as 王小明, is left out).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from sqlalchemy.orm import Session

from omni.kit.time import utc_now
from omni.segments import compile as c
from omni.segments import repository, service, values
from omni.segments.models import Segment, SegmentExport

DEFAULT_REGION = "TW"
WEBHOOK_TIMEOUT_SECONDS = 30


@dataclass
class Contact:
    """How a member can be reached: their identifiers and the name traits that won."""

    profile_id: int
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None


def contacts(session: Session, segment_id: int) -> list[Contact]:
    """Every current member with their emails, phones and names, in profile id order."""
    service.get(session, segment_id)
    ctx = service.context(session)
    member = ctx.t["segment_member"]
    members = member.filter(member.segment_id == segment_id).select("profile_id")
    found = {int(row[0]): Contact(int(row[0])) for row in repository.run(session, ctx, members)}
    identifier = ctx.t["identity_identifier"]
    held = identifier.filter(identifier.kind.isin(["email", "phone"]))
    held = held.join(members, held.profile_id == members.profile_id)
    for profile_id, kind, value in repository.run(session, ctx, held.select("profile_id", "kind", "value")):
        contact = found[int(profile_id)]
        (contact.emails if kind == "email" else contact.phones).append(str(value))
    for trait in ("first_name", "last_name", "name"):
        resolved = c.resolved_traits(ctx, trait)
        named = resolved.join(members, resolved.profile_id == members.profile_id)
        value = values.Json(ctx.engine, named.value).str
        for profile_id, text in repository.run(session, ctx, named.select(named.profile_id, text=value)):
            if text is not None:
                setattr(found[int(profile_id)], trait, str(text))
    for contact in found.values():
        contact.emails.sort()
        contact.phones.sort()
    return [found[key] for key in sorted(found)]


def members_csv(rows: list[Contact]) -> str:
    """A plain CSV of members: profile id, first email and phone, name."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["profile_id", "email", "phone", "name"])
    for row in rows:
        name = row.name or " ".join(part for part in (row.first_name, row.last_name) if part)
        writer.writerow([row.profile_id, _first(row.emails), _first(row.phones), name])
    return out.getvalue()


def _first(values: list[str]) -> str:
    return values[0] if values else ""


def sha256(text: str) -> str:
    """Lower-case hex SHA-256 of UTF-8 text, as both platforms take it."""
    return hashlib.sha256(text.encode()).hexdigest()


def normalized_email(raw: str) -> str | None:
    """Trimmed and lower-cased; None when it is not an address."""
    email = raw.strip().lower()
    return email if "@" in email and " " not in email else None


def e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """A phone number in E.164 (+886912345678); None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def google_name(raw: str | None) -> str | None:
    name = (raw or "").strip().lower()
    return name or None


def meta_name(raw: str | None) -> str | None:
    name = re.sub(r"[^a-z]", "", (raw or "").lower())
    return name or None


def google_customer_match(rows: list[Contact]) -> str:
    """A Customer Match CSV: one line per email or phone, each value normalised and hashed."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email", "Phone", "First Name", "Last Name"])
    for row in rows:
        emails = sorted({e for e in map(normalized_email, row.emails) if e})
        phones = sorted({p for p in map(e164, row.phones) if p})
        first, last = google_name(row.first_name), google_name(row.last_name)
        for index in range(max(len(emails), len(phones))):
            writer.writerow([
                sha256(emails[index]) if index < len(emails) else "",
                sha256(phones[index]) if index < len(phones) else "",
                sha256(first) if first else "",
                sha256(last) if last else "",
            ])  # fmt: skip
    return out.getvalue()


def meta_custom_audience(rows: list[Contact]) -> str:
    """A Custom Audience CSV (EMAIL, PHONE, FN, LN): phone digits only, names a–z only, all hashed."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["EMAIL", "PHONE", "FN", "LN"])
    for row in rows:
        emails = sorted({e for e in map(normalized_email, row.emails) if e})
        phones = sorted({p.lstrip("+") for p in map(e164, row.phones) if p})
        first, last = meta_name(row.first_name), meta_name(row.last_name)
        for index in range(max(len(emails), len(phones))):
            writer.writerow([
                sha256(emails[index]) if index < len(emails) else "",
                sha256(phones[index]) if index < len(phones) else "",
                sha256(first) if first else "",
                sha256(last) if last else "",
            ])  # fmt: skip
    return out.getvalue()


def record_webhook(session: Session, segment_id: int, url: str) -> SegmentExport:
    """Record a webhook export before it is sent, so that its outcome is kept whatever happens."""
    segment = service.get(session, segment_id)
    export = SegmentExport(segment_id=segment.id, kind="webhook", url=url[:2000], members=segment.size,
                           status="pending", created_at=utc_now())  # fmt: skip
    session.add(export)
    session.flush()
    return export


def webhook_body(session: Session, segment_id: int, export_id: int) -> bytes:
    """The JSON a webhook receives: the segment, the export id (for idempotence) and the members."""
    segment = session.get(Segment, segment_id)
    assert segment is not None
    members = [
        {"profile_id": row.profile_id, "emails": row.emails, "phones": row.phones, "name": row.name}
        for row in contacts(session, segment_id)
    ]
    document: dict[str, Any] = {
        "export_id": export_id,
        "segment": {
            "id": segment.id,
            "key": segment.key,
            "name": segment.name,
            "version": segment.computed_version,
        },
        "members": members,
    }
    return json.dumps(document, ensure_ascii=False).encode()


def post(url: str, body: bytes, export_id: int) -> tuple[int | None, str | None]:
    """POST body to url; (HTTP status, error) where error is None on a 2xx answer."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": f"segment-export-{export_id}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def finish_webhook(session: Session, export_id: int, status: int | None, error: str | None) -> SegmentExport:
    """Store a webhook's outcome."""
    export = session.get(SegmentExport, export_id)
    assert export is not None
    export.response_status = status
    export.error = error
    export.status = "delivered" if error is None else "failed"
    export.delivered_at = utc_now() if error is None else None
    session.flush()
    return export
