"""LINE Messaging API push messages: POST /v2/bot/message/push with the channel access token as Bearer.

LINE keeps an X-Line-Retry-Key for a day and answers a repeat with 409 and the accepted request's id, so
a message interrupted mid-call may be pushed again without reaching the person twice."""

from __future__ import annotations

import httpx

from omni.channels.providers.base import Outgoing, post, retry_key


class LineProvider:
    name = "line"
    resend_safe = True
    lanes = 1

    def __init__(self, *, base_url: str, channel_token: str, timeout: float = 15.0) -> None:
        self.url = f"{base_url.rstrip('/')}/v2/bot/message/push"
        self.client = httpx.Client(headers={"Authorization": f"Bearer {channel_token}"}, timeout=timeout)

    def send(self, outgoing: Outgoing) -> str:
        body = {"to": outgoing.address, "messages": [{"type": "text", "text": str(outgoing.content["text"])}]}
        headers = {"X-Line-Retry-Key": retry_key(outgoing.idempotency_key)}
        response = post(self.client, self.url, "LINE", also_ok=(409,), json=body, headers=headers)
        if response.status_code == 409:
            # Already accepted under this retry key: the person has it once.
            return str(response.headers.get("x-line-accepted-request-id", headers["X-Line-Retry-Key"]))
        sent = response.json().get("sentMessages") or []
        if sent and isinstance(sent[0], dict) and "id" in sent[0]:
            return str(sent[0]["id"])
        return str(response.headers.get("x-line-request-id", headers["X-Line-Retry-Key"]))

    def lookup(self, outgoing: Outgoing) -> str | None:
        return None

    def close(self) -> None:
        self.client.close()
