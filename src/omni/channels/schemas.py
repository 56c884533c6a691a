"""API shapes of the channels domain: sending, messages, templates, previews, push subscriptions, inbox."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Channel = Literal["email", "sms", "whatsapp", "line", "push", "in_app", "webhook"]
Purpose = Literal["marketing", "transactional"]
Variants = dict[str, dict[str, str]]
# Browsers give https push services; plain http is accepted only for one on this machine (development).
_PUSH_SERVICE = re.compile(r"^(https://|http://(127\.0\.0\.1|localhost)(:\d+)?/)")


class MessageContent(BaseModel):
    """What to send: a saved template by name, or variants given inline; data fills order, cart, store."""

    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(None, min_length=1, max_length=100)
    variants: Variants | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="order, cart, store and shop variables")

    @model_validator(mode="after")
    def _one_source(self) -> MessageContent:
        if (self.template is None) == (self.variants is None):
            raise ValueError("give either template or variants")
        unknown = set(self.data) - {"order", "cart", "store", "shop"}
        if unknown:
            raise ValueError(f"data may hold order, cart, store and shop, not {', '.join(sorted(unknown))}")
        return self


class MessageSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: int = Field(gt=0)
    channel: Channel
    purpose: Purpose = "marketing"
    idempotency_key: str = Field(min_length=1, max_length=200)
    message: MessageContent


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    idempotency_key: str
    profile_id: int
    channel: str
    purpose: str
    provider: str
    status: str
    address: str
    content: dict[str, Any]
    provider_message_id: str | None
    error: str | None
    attempts: int
    created_at: datetime
    not_before: datetime
    sent_at: datetime | None


class TemplateSave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    purpose: Purpose = "marketing"
    variants: Variants


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    purpose: str
    variants: Variants
    created_at: datetime
    updated_at: datetime


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: int = Field(gt=0)
    message: MessageContent
    order_id: str | None = Field(None, min_length=1, max_length=64, description="A real order's number")
    cart_id: str | None = Field(None, min_length=1, max_length=200, description="A cart of the person's")


class PreviewRead(BaseModel):
    profile_id: int
    variants: Variants


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=16, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class PushSubscriptionCreate(BaseModel):
    """A browser's PushSubscription.toJSON() (kind web) or an app's FCM token (kind fcm), for a person
    named by the userId or anonymousId the shop's tracking uses."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    user_id: str | None = Field(None, alias="userId", min_length=1, max_length=200)
    anonymous_id: str | None = Field(None, alias="anonymousId", min_length=1, max_length=200)
    kind: Literal["web", "fcm"] = "web"
    endpoint: str | None = Field(None, min_length=1, max_length=1000)
    keys: PushKeys | None = None
    token: str | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _complete(self) -> PushSubscriptionCreate:
        if not (self.user_id or self.anonymous_id):
            raise ValueError("userId or anonymousId is required")
        if self.kind == "web" and not (self.endpoint and _PUSH_SERVICE.match(self.endpoint) and self.keys):
            raise ValueError("a web subscription needs an https endpoint and its keys")
        if self.kind == "fcm" and not self.token:
            raise ValueError("an fcm subscription needs the app's registration token")
        return self


class PushSubscriptionRead(BaseModel):
    id: int
    profile_id: int
    kind: str


class InboxItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: int
    title: str
    body: str
    url: str | None
    created_at: datetime
    read_at: datetime | None


class ProvidersRead(BaseModel):
    """Which provider serves each channel."""

    channels: dict[str, str]
    vapid_public_key: str | None
