"""Use cases of the channels domain: templates, previews, and a message's send intent (what became of it
and what the person did with it is outcomes.py).

At most once: send() records the intent under a unique idempotency key and never calls a provider; the
caller commits, and a worker (tasks.deliver_due) claims the message, calls the provider after that commit
and records the outcome. A message left claimed by a worker that died is never sent again blindly
(tasks.reconcile).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omni.channels import best, commerce, facts, policy, repository, templates, tracking
from omni.channels import person as persons
from omni.channels.errors import (
    ChannelNotConfigured,
    IdempotencyKeyReused,
    TemplateExists,
    TemplateInvalid,
    TemplateNotFound,
)
from omni.channels.models import ChannelMessage, MessageTemplate
from omni.channels.providers import provider_name
from omni.channels.providers.base import Outgoing
from omni.channels.schemas import MessageContent, TemplateSave
from omni.kit.time import utc_now
from omni.orders import service as orders_service
from omni.settings import Settings, get_settings


def list_templates(session: Session) -> Sequence[MessageTemplate]:
    """Templates in use, by name."""
    return session.scalars(
        select(MessageTemplate).where(MessageTemplate.archived.is_(False)).order_by(MessageTemplate.name)
    ).all()


def template_by_name(session: Session, name: str) -> MessageTemplate:
    found = session.scalar(select(MessageTemplate).where(MessageTemplate.name == name))
    if found is None or found.archived:
        raise TemplateNotFound(
            f"no template named {name}", details=[{"field": "template", "rule": "unknown"}]
        )
    return found


def save_template(session: Session, data: TemplateSave, *, replace: bool = False) -> MessageTemplate:
    """Check every variant against the known variables, then store the template."""
    templates.check(data.variants)
    found = session.scalar(select(MessageTemplate).where(MessageTemplate.name == data.name))
    now = utc_now()
    if found is not None and not replace:
        raise TemplateExists(
            f"a template named {data.name} exists", details=[{"field": "name", "rule": "unique"}]
        )
    if found is None:
        found = MessageTemplate(name=data.name, created_at=now, archived=False)
        session.add(found)
    found.purpose, found.variants, found.updated_at = data.purpose, data.variants, now
    session.flush()
    return found


def variants_of(session: Session, content: MessageContent) -> dict[str, dict[str, str]]:
    """The per-channel variants a message content stands for, checked."""
    if content.template is not None:
        return dict(template_by_name(session, content.template).variants)
    variants = content.variants or {}
    templates.check(variants)
    return variants


def preview(
    session: Session,
    *,
    profile_id: int,
    content: MessageContent,
    about: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> tuple[int, dict[str, dict[str, str]]]:
    """Every variant of a message rendered for a real person, as they would receive it; about names a real
    order or cart (order_id, cart_id and the cart's products) to fill the order, cart and store with."""
    person = persons.load(session, profile_id)
    if about and about.get("order_id"):
        orders_service.get_order(session, str(about["order_id"]))  # a preview of an unknown order is a 404
    about = commerce.latest_cart(session, person.profile_id, about) if about else about
    rendered = {}
    for channel, parts in variants_of(session, content).items():
        variables, _ = commerce.fill_for_send(
            session,
            parts,
            person.variables,
            about=about,
            given=content.data,
            settings=settings or get_settings(),
        )
        # What the message is not about shows as the sample, so the preview shows its layout.
        samples = {name: templates.KNOWN[name] for name in templates.COMMERCE if name not in variables}
        rendered[channel] = templates.render(channel, parts, samples | variables)
    return person.profile_id, rendered


def _skip_reason(
    session: Session,
    message_id: int,
    person: persons.Person,
    *,
    channel: str,
    purpose: str,
    rules: policy.Policy,
    now: datetime,
) -> tuple[str | None, str | None]:
    """(why the message may not go, the person's address on the channel)."""
    refusal = policy.consent_refusal(person.consent(), channel, purpose)
    if refusal:
        return refusal, None
    address = persons.address_or_none(session, person, channel)
    if address is None:
        return f"the person has no {channel} address", None
    caps = [cap for cap in rules.caps if cap.purpose == purpose]
    if not caps:  # transactional messages are never capped: no need to count what went
        return None, address
    since = now - policy.longest_window(caps)
    cap = policy.cap_reached(
        caps,
        repository.recently_sent(session, person.profile_id, since=since, besides=message_id),
        channel=channel,
        purpose=purpose,
        now=now,
    )
    if cap is not None:
        return f"frequency cap: {cap.describe()}", address
    return None, address


def send(
    session: Session,
    *,
    profile_id: int,
    channel: str,
    message: MessageContent,
    idempotency_key: str,
    purpose: str,
    settings: Settings,
    rules: policy.Policy = policy.DEFAULT_POLICY,
    context: Mapping[str, Any] | None = None,
    about: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> ChannelMessage:
    """Record the intent to send message to a person on channel, once per idempotency key.

    A message the policies stop is recorded as skipped with the reason; one that falls in the person's
    quiet hours waits for their end (not_before). The same key again answers with the first message.
    about holds what the message is about (a journey's trigger event properties: order_id, cart_id ...);
    a value the message names that is not there is no blank: the message is recorded failed, saying why.
    The key is claimed by the transaction's first write, before anything is read: concurrent callers then
    queue behind it (on SQLite too, whose reads would otherwise pin a snapshot that cannot write).
    """
    at = now or utc_now()
    row = ChannelMessage(
        idempotency_key=idempotency_key,
        profile_id=profile_id,
        channel=channel,
        purpose=purpose,
        provider=provider_name(settings, channel),
        address="",
        status="queued",
        content={},
        context={},
        attempts=0,
        created_at=at,
        not_before=at,
        updated_at=at,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # The key is taken, by an earlier call or one that committed while we waited: that is the message.
        held = repository.by_key(session, idempotency_key)
        if held is None:
            raise
        return _same_intent(held, profile_id=profile_id, channel=channel)
    variants = variants_of(session, message)
    if channel not in variants:
        raise ChannelNotConfigured(
            f"the message has no {channel} variant",
            details=[{"field": f"variants.{channel}", "rule": "required"}],
        )
    person = persons.load(session, profile_id)
    reason, address = _skip_reason(
        session, row.id, person, channel=channel, purpose=purpose, rules=rules, now=at
    )
    if reason is None and purpose == "marketing":
        tz = policy.zone(person.timezone, settings.timezone or rules.default_timezone)
        row.not_before = policy.next_allowed(at, tz, start=rules.quiet_start, end=rules.quiet_end)
    row.profile_id, row.address, row.error = person.profile_id, address or "", reason
    row.status = "skipped" if reason else "queued"
    row.context = {**(context or {}), "person": person.event_address(), "template": message.template}
    if reason is None:
        variables, notes = commerce.fill_for_send(
            session, variants[channel], person.variables, about=about, given=message.data, settings=settings
        )
        try:
            row.content = _content(
                channel, variants[channel], variables, message_id=row.id, settings=settings
            )
        except TemplateInvalid as exc:  # never sent with blanks: failed, saying what was missing and why
            row.status, row.error = "failed", commerce.failure(exc, notes)[:1000]
    fact = facts.fact(row, row.status, at=at, reason=row.error, not_before=row.not_before.isoformat())
    facts.append(session, fact)
    session.flush()
    return row


def _same_intent(held: ChannelMessage, *, profile_id: int, channel: str) -> ChannelMessage:
    if held.channel != channel:
        raise IdempotencyKeyReused(
            f"idempotency key {held.idempotency_key} was used for message {held.id} on {held.channel}",
            details=[{"field": "idempotency_key", "rule": "one key per message"}],
        )
    return held


def _content(
    channel: str, parts: Mapping[str, str], variables: dict[str, Any], *, message_id: int, settings: Settings
) -> dict[str, Any]:
    tokens = tracking.Tokens(settings.resolved_secret_key())
    links = tracking.link_urls(settings.public_url, tokens, message_id)
    variables = {**variables, "message": {"unsubscribe_url": links["unsubscribe"], "view_url": ""}}
    rendered: dict[str, Any] = templates.render(channel, parts, variables)
    if channel == "email":
        if rendered.get("html"):
            rendered["html"] = tracking.track_html(
                rendered["html"],
                click=lambda url: tracking.click_url(settings.public_url, tokens, message_id, url),
                pixel_url=links["open"],
            )
        rendered["headers"] = {
            "List-Unsubscribe": f"<{links['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    elif channel in ("push", "in_app") and rendered.get("url"):
        rendered["opened_url"] = tracking.click_url(settings.public_url, tokens, message_id, rendered["url"])
    return rendered


def outgoing(message: ChannelMessage) -> Outgoing:
    """The message as its provider is given it."""
    content = dict(message.content)
    headers = content.pop("headers", {})
    return Outgoing(
        message_id=message.id,
        idempotency_key=message.idempotency_key,
        profile_id=message.profile_id,
        channel=message.channel,
        address=message.address,
        content=content,
        headers=headers,
    )


def reachable_channels(
    session: Session, profile_id: int, *, candidates: Sequence[str], purpose: str = "marketing"
) -> list[str]:
    """The candidates the person has an address on and has not refused purpose on, in candidates' order."""
    person = persons.load(session, profile_id)
    consent = person.consent()
    return [
        channel
        for channel in candidates
        if policy.consent_refusal(consent, channel, purpose) is None
        and persons.address_or_none(session, person, channel) is not None
    ]


def best_channel(
    session: Session,
    profile_id: int,
    *,
    candidates: Sequence[str],
    purpose: str = "marketing",
    now: datetime | None = None,
) -> str | None:
    """The reachable candidate the person engaged with most lately; None when none is reachable."""
    reachable = reachable_channels(session, profile_id, candidates=candidates, purpose=purpose)
    if len(reachable) <= 1:
        return reachable[0] if reachable else None
    at = now or utc_now()
    scores = best.channel_scores(best.recent_engagements(session, profile_id, now=at), now=at)
    return best.choose_channel(scores, reachable)


def best_send_hour(
    session: Session,
    profile_id: int,
    *,
    zone: ZoneInfo | None = None,
    default_timezone: str = policy.DEFAULT_POLICY.default_timezone,
    now: datetime | None = None,
) -> int:
    """The local hour (0-23, in zone or the person's time zone) the person opens and clicks most in."""
    if zone is None:
        zone = policy.zone(persons.load(session, profile_id).timezone, default_timezone)
    hours = best.engaged_hours(session, profile_id, zone, now=now or utc_now())
    return best.best_hour(hours)
