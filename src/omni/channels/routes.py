"""The channels API: sending and previewing messages, templates, push subscriptions, the in-app inbox;
and the public endpoints people and providers reach (open pixel, click redirect, one-click unsubscribe,
Twilio's inbound and status webhooks, the push service worker).

Routers are included by the application behind their checks: `router` for marketing staff,
`inbox_router` for customer service, `write_key_router` for a tracking source's write key (the web
shop), `public_router` open to all (its requests carry signed tokens or provider signatures).
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from omni.channels import audience, inbound, outcomes, service, tasks, tracking
from omni.channels.errors import BadSignature
from omni.channels.providers import configured
from omni.channels.providers.twilio import signature_valid
from omni.channels.schemas import (
    InboxItemRead,
    MessageRead,
    MessageSend,
    PreviewRead,
    PreviewRequest,
    ProvidersRead,
    PushSubscriptionCreate,
    PushSubscriptionRead,
    TemplateRead,
    TemplateSave,
)
from omni.db.engine import Database
from omni.db.requests import SessionDep
from omni.events import sources as events_sources
from omni.kit.errors import NotAuthenticated
from omni.settings import Settings

router = APIRouter(prefix="/v1", tags=["channels"])
inbox_router = APIRouter(prefix="/v1", tags=["channels"])
write_key_router = APIRouter(prefix="/v1", tags=["channels"])
public_router = APIRouter(prefix="/v1", tags=["channels"], include_in_schema=True)

SERVICE_WORKER = Path(__file__).parent / "static" / "omni-push-sw.js"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
MessageId = Annotated[int, PathParam(gt=0)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _tokens(request: Request) -> tracking.Tokens:
    return tracking.Tokens(_settings(request).resolved_secret_key())


def _source(request: Request, session: SessionDep) -> str:
    """The write key of a tracking source, as the HTTP Basic user name (as analytics.js sends it)."""
    header = request.headers.get("authorization", "")
    try:
        scheme, _, encoded = header.partition(" ")
        key = base64.b64decode(encoded).decode().split(":", 1)[0] if scheme.lower() == "basic" else ""
    except (ValueError, UnicodeDecodeError):
        key = ""
    source = events_sources.authenticate(session, key) if key else None
    if source is None:
        raise NotAuthenticated("send a source's write key as the HTTP Basic user name")
    return source.key


@router.post("/messages", response_model=MessageRead, status_code=202, summary="Send a message")
def send_message(
    body: MessageSend, session: SessionDep, request: Request, background: BackgroundTasks
) -> MessageRead:
    """Record the message once per idempotency key and send it after the answer (or when quiet hours end)."""
    message = service.send(
        session,
        profile_id=body.profile_id,
        channel=body.channel,
        message=body.message,
        idempotency_key=body.idempotency_key,
        purpose=body.purpose,
        settings=_settings(request),
        context={"requested_by": getattr(request.state, "actor", "api")},
    )
    if message.status == "queued":
        background.add_task(tasks.deliver_now, request.app.state.database, _settings(request), message.id)
    return MessageRead.model_validate(message)


@router.get("/messages/{message_id}", response_model=MessageRead, summary="A message and its outcome")
def read_message(message_id: MessageId, session: SessionDep) -> MessageRead:
    return MessageRead.model_validate(outcomes.get_message(session, message_id))


@router.post("/messages/preview", response_model=PreviewRead, summary="Preview a message for a person")
def preview_message(body: PreviewRequest, session: SessionDep) -> PreviewRead:
    """Every channel's variant rendered with a real person's traits, computed traits and the data given,
    and with a real order (order_id) or cart (cart_id) of theirs when named."""
    about = {k: v for k, v in (("order_id", body.order_id), ("cart_id", body.cart_id)) if v}
    profile_id, variants = service.preview(
        session, profile_id=body.profile_id, content=body.message, about=about
    )
    return PreviewRead(profile_id=profile_id, variants=variants)


@router.get("/templates", response_model=list[TemplateRead], summary="Message templates")
def list_templates(session: SessionDep) -> list[TemplateRead]:
    return [TemplateRead.model_validate(t) for t in service.list_templates(session)]


@router.post("/templates", response_model=TemplateRead, status_code=201, summary="Save a new template")
def create_template(body: TemplateSave, session: SessionDep) -> TemplateRead:
    """Rejected, naming the variant and the variable, when it uses a variable no message can fill."""
    return TemplateRead.model_validate(service.save_template(session, body))


@router.put("/templates/{name}", response_model=TemplateRead, summary="Replace a template")
def replace_template(name: str, body: TemplateSave, session: SessionDep) -> TemplateRead:
    return TemplateRead.model_validate(
        service.save_template(session, body.model_copy(update={"name": name}), replace=True)
    )


@router.get("/channels", response_model=ProvidersRead, summary="Which provider serves each channel")
def providers(request: Request) -> ProvidersRead:
    settings = _settings(request)
    return ProvidersRead(channels=configured(settings), vapid_public_key=settings.vapid_public_key or None)


@inbox_router.get(
    "/inbox/{profile_id}", response_model=list[InboxItemRead], summary="A person's in-app inbox"
)
def read_inbox(profile_id: MessageId, session: SessionDep) -> list[InboxItemRead]:
    return [InboxItemRead.model_validate(item) for item in audience.inbox(session, profile_id)]


@inbox_router.post(
    "/inbox/{profile_id}/{item_id}/read", response_model=InboxItemRead, summary="Mark an inbox message read"
)
def mark_read(profile_id: MessageId, item_id: MessageId, session: SessionDep) -> InboxItemRead:
    return InboxItemRead.model_validate(audience.mark_read(session, profile_id, item_id))


@write_key_router.post(
    "/push/subscriptions", response_model=PushSubscriptionRead, status_code=201, summary="Subscribe to push"
)
def subscribe(
    body: PushSubscriptionCreate, session: SessionDep, source: Annotated[str, Depends(_source)]
) -> PushSubscriptionRead:
    """Keep a browser's push subscription or an app's FCM token for the person the ids name."""
    row = audience.subscribe(session, body)
    return PushSubscriptionRead(id=row.id, profile_id=row.profile_id, kind=row.kind)


@public_router.get("/push/sw.js", summary="The web push service worker")
def service_worker() -> Response:
    return Response(SERVICE_WORKER.read_text(), media_type="text/javascript")


@public_router.get("/push/vapid-public-key", summary="The VAPID public key browsers subscribe with")
def vapid_public_key(request: Request) -> dict[str, str | None]:
    return {"publicKey": _settings(request).vapid_public_key or None}


@public_router.get("/t/o/{token}.gif", summary="Open pixel")
def opened(token: str, session: SessionDep, request: Request) -> Response:
    message_id, _ = _tokens(request).read("open", token)
    outcomes.record_open(session, message_id)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@public_router.get("/t/c/{token}", summary="Click redirect")
def clicked(token: str, session: SessionDep, request: Request) -> Response:
    message_id, url = _tokens(request).read("click", token)
    if not url:
        raise BadSignature(
            "the link names no destination", details=[{"field": "token", "rule": "a click token"}]
        )
    outcomes.record_click(session, message_id, url)
    return RedirectResponse(url, status_code=302)


@public_router.get("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe page")
def unsubscribe_page(token: str, request: Request) -> HTMLResponse:
    """A confirmation page: mail scanners follow links, so a GET never unsubscribes (RFC 8058)."""
    _tokens(request).read("unsubscribe", token)
    action = escape(str(request.url.path))
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribe</title></head><body>"
        f"<form method='post' action='{action}'><p>Stop these messages?</p>"
        "<button type='submit' name='List-Unsubscribe' value='One-Click'>Unsubscribe</button></form>"
        "</body></html>"
    )


@public_router.post("/unsubscribe/{token}", response_class=HTMLResponse, summary="One-click unsubscribe")
def unsubscribe(token: str, session: SessionDep, request: Request) -> HTMLResponse:
    """RFC 8058 one-click: the mail client POSTs List-Unsubscribe=One-Click; no login, no further step."""
    message_id, _ = _tokens(request).read("unsubscribe", token)
    message = outcomes.unsubscribe(session, message_id, via="one_click")
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribed</title></head><body>"
        f"<p>You will no longer receive marketing by {escape(message.channel)}.</p></body></html>"
    )


async def _twilio_form(request: Request) -> list[tuple[str, str]]:
    settings = _settings(request)
    form = await request.form()
    params = [(name, str(value)) for name, value in form.multi_items()]
    url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    given = request.headers.get("x-twilio-signature", "")
    if not settings.twilio_auth_token or not signature_valid(settings.twilio_auth_token, url, params, given):
        raise BadSignature(
            "the request is not signed by Twilio", details=[{"field": "X-Twilio-Signature", "rule": "valid"}]
        )
    return params


@public_router.post("/channels/twilio/inbound", summary="Twilio inbound SMS and WhatsApp webhook")
async def twilio_inbound(request: Request) -> Response:
    """STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT opt out; START, UNSTOP opt in; HELP answers."""
    fields = dict(await _twilio_form(request))
    database: Database = request.app.state.database

    def handle() -> str | None:
        with database.unit_of_work() as session:
            return inbound.handle_reply(
                session,
                sender=fields.get("From", ""),
                body=fields.get("Body", ""),
                reply_id=fields.get("MessageSid", "") or fields.get("SmsSid", ""),
            )

    reply = await run_in_threadpool(handle)
    inner = f"<Message>{escape(reply)}</Message>" if reply else ""
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>', media_type="text/xml"
    )


@public_router.post("/channels/twilio/status", status_code=204, summary="Twilio delivery status webhook")
async def twilio_status(request: Request) -> Response:
    fields = dict(await _twilio_form(request))
    database: Database = request.app.state.database

    def handle() -> None:
        with database.unit_of_work() as session:
            outcomes.record_delivery(
                session,
                fields.get("MessageSid", ""),
                fields.get("MessageStatus", ""),
                reason=fields.get("ErrorCode"),
            )

    await run_in_threadpool(handle)
    return Response(status_code=204)
