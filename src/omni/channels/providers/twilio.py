"""SMS and WhatsApp through the Twilio Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json, form
encoded, HTTP Basic with the account SID and auth token; and the check of Twilio's webhook signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

import httpx

from omni.channels.providers.base import Outgoing, ProviderError, post


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """X-Twilio-Signature of a webhook: HMAC-SHA1 over the URL and the sorted form fields, base64."""
    payload = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    return bool(given) and hmac.compare_digest(signature(auth_token, url, params), given)


class TwilioProvider:
    name = "twilio"
    # Twilio's Messages API takes no idempotency key and cannot be searched by one.
    resend_safe = False
    lanes = 1

    def __init__(
        self,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sms_from: str,
        whatsapp_from: str = "",
        status_callback: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.sms_from, self.whatsapp_from, self.status_callback = sms_from, whatsapp_from, status_callback
        self.client = httpx.Client(auth=(account_sid, auth_token), timeout=timeout)

    def send(self, outgoing: Outgoing) -> str:
        whatsapp = outgoing.channel == "whatsapp"
        sender = self.whatsapp_from if whatsapp else self.sms_from
        form = {
            "To": f"whatsapp:{outgoing.address}" if whatsapp else outgoing.address,
            "From": f"whatsapp:{sender}" if whatsapp and not sender.startswith("whatsapp:") else sender,
            "Body": str(outgoing.content.get("text", "")),
        }
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        response = post(self.client, self.url, "Twilio", data=form)
        sid = response.json().get("sid")
        if not isinstance(sid, str):
            raise ProviderError(
                f"Twilio accepted the message without a sid: {response.text[:200]}", outcome="unknown"
            )
        return sid

    def lookup(self, outgoing: Outgoing) -> str | None:
        return None

    def close(self) -> None:
        self.client.close()
