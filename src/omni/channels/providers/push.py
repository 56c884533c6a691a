"""Push notifications: web push with VAPID (RFC 8292, aes128gcm body, via pywebpush) to browsers, and
the FCM HTTP v1 API (POST /v1/projects/{id}/messages:send, OAuth bearer) to apps. A person's message goes
to each of their subscriptions, carried in the address as JSON."""

from __future__ import annotations

import json
from typing import Any

import httpx
import requests
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from omni.channels.providers.base import Outcome, Outgoing, ProviderError, post


def vapid_key(private_key: str) -> Vapid02:
    """The VAPID signing key from PEM text or from base64url (raw 32 bytes or DER)."""
    if private_key.lstrip().startswith("-----BEGIN"):
        return Vapid02.from_pem(private_key.encode())
    return Vapid02.from_string(private_key)


def notification(outgoing: Outgoing) -> dict[str, Any]:
    """What the service worker shows: title, body, the link to open and the message id for tracking."""
    content = outgoing.content
    return {
        "title": str(content.get("title", "")),
        "body": str(content.get("body", "")),
        "url": content.get("url"),
        "message_id": outgoing.message_id,
        "opened_url": content.get("opened_url"),
    }


class PushProvider:
    name = "push"
    resend_safe = False
    lanes = 1

    def __init__(
        self,
        *,
        vapid_private_key: str = "",
        vapid_subject: str = "",
        fcm_base_url: str = "",
        fcm_project_id: str = "",
        fcm_access_token: str = "",
        timeout: float = 15.0,
    ) -> None:
        self.vapid = vapid_key(vapid_private_key) if vapid_private_key else None
        self.vapid_subject = vapid_subject
        self.fcm_url = f"{fcm_base_url.rstrip('/')}/v1/projects/{fcm_project_id}/messages:send"
        self.fcm = (
            httpx.Client(headers={"Authorization": f"Bearer {fcm_access_token}"}, timeout=timeout)
            if fcm_project_id and fcm_access_token
            else None
        )
        self.web = requests.Session()
        self.timeout = timeout

    def _web(self, subscription: dict[str, Any], outgoing: Outgoing) -> str:
        if self.vapid is None:
            raise ProviderError("web push needs OMNI_VAPID_PRIVATE_KEY", outcome="failed")
        info = {"endpoint": subscription["endpoint"], "keys": subscription["keys"]}
        try:
            response = webpush(
                info,
                data=json.dumps(notification(outgoing), ensure_ascii=False),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.vapid_subject},
                ttl=24 * 3600,
                timeout=self.timeout,
                requests_session=self.web,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else 0
            outcome: Outcome = "retry" if status in (429, 503) else "unknown" if status >= 500 else "failed"
            raise ProviderError(f"push service refused: {exc.message[:300]}", outcome=outcome) from None
        except requests.ConnectionError as exc:
            raise ProviderError(f"push service not reachable: {exc}", outcome="retry") from None
        except requests.RequestException as exc:
            raise ProviderError(f"push service did not answer: {exc}", outcome="unknown") from None
        if isinstance(response, str):  # only with curl=True, which is never asked for
            return response
        return str(response.headers.get("Location", subscription["endpoint"]))

    def _app(self, subscription: dict[str, Any], outgoing: Outgoing) -> str:
        if self.fcm is None:
            raise ProviderError(
                "app push needs OMNI_FCM_PROJECT_ID and OMNI_FCM_ACCESS_TOKEN", outcome="failed"
            )
        shown = notification(outgoing)
        body = {
            "message": {
                "token": subscription["endpoint"],
                "notification": {"title": shown["title"], "body": shown["body"]},
                # FCM data values must be strings.
                "data": {key: str(value) for key, value in shown.items() if value is not None},
            }
        }
        response = post(self.fcm, self.fcm_url, "FCM", json=body)
        return str(response.json().get("name", ""))

    def send(self, outgoing: Outgoing) -> str:
        subscriptions: list[dict[str, Any]] = json.loads(outgoing.address)
        sent: list[str] = []
        problems: list[ProviderError] = []
        for subscription in subscriptions:
            try:
                send_one = self._web if subscription["kind"] == "web" else self._app
                sent.append(send_one(subscription, outgoing))
            except ProviderError as exc:
                problems.append(exc)
        if not sent and problems:
            # Nothing reached any device: retry wins over unknown, unknown over failed.
            outcome = next(
                (o for o in ("retry", "unknown", "failed") if any(p.outcome == o for p in problems)), "failed"
            )
            raise ProviderError("; ".join(p.reason for p in problems), outcome=outcome)  # type: ignore[arg-type]
        return " ".join(sent)[:200]

    def lookup(self, outgoing: Outgoing) -> str | None:
        return None

    def close(self) -> None:
        self.web.close()
        if self.fcm is not None:
            self.fcm.close()
