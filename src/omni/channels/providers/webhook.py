"""Outgoing webhook: the message as JSON POSTed to the retailer's URL, signed with HMAC-SHA256 and carrying
an Idempotency-Key that the receiver uses to drop repeats (the contract stated to webhook receivers)."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from omni.channels.providers.base import Outgoing, post

SIGNATURE_HEADER = "X-Omni-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookProvider:
    name = "webhook"
    resend_safe = True
    lanes = 1

    def __init__(self, *, url: str, secret: str, timeout: float = 15.0) -> None:
        self.url, self.secret = url, secret
        self.client = httpx.Client(timeout=timeout)

    def send(self, outgoing: Outgoing) -> str:
        body = json.dumps(
            {
                "message_id": outgoing.message_id,
                "idempotency_key": outgoing.idempotency_key,
                "profile_id": outgoing.profile_id,
                "channel": outgoing.channel,
                "to": outgoing.address,
                "content": dict(outgoing.content),
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": outgoing.idempotency_key,
            SIGNATURE_HEADER: sign(self.secret, body),
        }
        post(self.client, self.url, "webhook", content=body, headers=headers)
        return f"webhook:{outgoing.message_id}"

    def lookup(self, outgoing: Outgoing) -> str | None:
        return None

    def close(self) -> None:
        self.client.close()
