"""Each provider against a local server of its protocol, over a real socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from py_vapid import Vapid02

from omni.channels.providers.base import Outgoing, ProviderError
from omni.channels.providers.console import ConsoleProvider
from omni.channels.providers.line import LineProvider
from omni.channels.providers.push import PushProvider
from omni.channels.providers.smtp import SmtpProvider
from omni.channels.providers.twilio import TwilioProvider, signature, signature_valid
from omni.channels.providers.webhook import WebhookProvider
from tests.channels import fakes

SID, TOKEN = "AC" + "0" * 32, "twilio-auth-token"


def _outgoing(channel: str, address: str, key: str = "k1", **content: str) -> Outgoing:
    return Outgoing(
        message_id=7, idempotency_key=key, profile_id=3, channel=channel, address=address, content=content
    )


def test_email_goes_over_smtp_as_text_and_html_with_one_click_unsubscribe_headers() -> None:
    # given a local SMTP server and an email with both parts and unsubscribe headers
    with fakes.smtp_server() as (sink, port):
        provider = SmtpProvider(host="127.0.0.1", port=port, sender="Shop <shop@omni.test>", starttls=False)
        outgoing = Outgoing(
            message_id=7,
            idempotency_key="k1",
            profile_id=3,
            channel="email",
            address="amy@example.com",
            content={"subject": "新品上市", "text": "Hello Amy", "html": "<p>Hello <b>Amy</b></p>"},
            headers={
                "List-Unsubscribe": "<http://omni.test/v1/unsubscribe/tok>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        # when it is sent twice over one connection
        first = provider.send(outgoing)
        provider.send(outgoing)
        provider.close()
    # then the server got a multipart/alternative message with both parts and the RFC 8058 headers
    message = sink.messages[0]
    assert len(sink.messages) == 2
    assert sink.envelopes[0] == ("shop@omni.test", ["amy@example.com"])
    assert message["Subject"] == "新品上市"
    assert message["Message-ID"] == first
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_body(("plain",)).get_content().strip() == "Hello Amy"  # type: ignore[union-attr]
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello <b>Amy</b></p>"  # type: ignore[union-attr]
    assert message["List-Unsubscribe"] == "<http://omni.test/v1/unsubscribe/tok>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    ("html", "campaign"),
    [
        pytest.param(None, "spring", id="text-only-written-directly"),
        pytest.param("<p>嗨</p>", "週年慶", id="non-ascii-header-through-the-email-package"),
    ],
)
def test_every_email_shape_arrives_whole_with_its_message_id(html: str | None, campaign: str) -> None:
    # given an email with a long subject and a long unsubscribe header, text only or with an HTML part
    with fakes.smtp_server() as (sink, port):
        provider = SmtpProvider(host="127.0.0.1", port=port, sender="商店 <shop@omni.test>", starttls=False)
        subject = "您的訂單已可取貨 " * 8
        link = "<http://omni.test/v1/unsubscribe/" + "t" * 150 + ">"
        parts = {"subject": subject, "text": ".leading dot\n您好 Amy", **({"html": html} if html else {})}
        outgoing = Outgoing(
            message_id=7,
            idempotency_key="k1",
            profile_id=3,
            channel="email",
            address="amy@example.com",
            content=parts,
            headers={"List-Unsubscribe": link, "X-Campaign": campaign},
        )
        # when it is sent
        message_id = provider.send(outgoing)
        provider.close()
    # then the server parsed it whole, with its headers, parts and the Message-ID send returned
    [message] = sink.messages
    assert not message.defects
    assert sink.envelopes == [("shop@omni.test", ["amy@example.com"])]
    assert (message["Subject"].strip(), message["From"], message["Message-ID"]) == (
        subject.strip(),
        "商店 <shop@omni.test>",
        message_id,
    )
    assert message["X-Campaign"] == campaign
    assert message["List-Unsubscribe"].strip() == link
    assert message.get_body(("plain",)).get_content() == ".leading dot\n您好 Amy"  # type: ignore[union-attr]
    if html:
        assert message.get_body(("html",)).get_content() == html  # type: ignore[union-attr]
    else:
        assert message.get_content_type() == "text/plain"


def test_a_refused_mailbox_is_a_permanent_failure_and_an_absent_server_a_retry() -> None:
    with fakes.smtp_server() as (sink, port):
        sink.refuse.add("gone@example.com")
        provider = SmtpProvider(host="127.0.0.1", port=port, sender="shop@omni.test", starttls=False)
        with pytest.raises(ProviderError) as refused:
            provider.send(_outgoing("email", "gone@example.com", subject="s", text="t"))
        provider.close()
    assert refused.value.outcome == "failed"
    assert "550" in refused.value.reason
    absent = SmtpProvider(host="127.0.0.1", port=fakes.free_port(), sender="shop@omni.test", timeout=2)
    with pytest.raises(ProviderError) as unreachable:
        absent.send(_outgoing("email", "amy@example.com", subject="s", text="t"))
    assert unreachable.value.outcome == "retry"


def test_sms_and_whatsapp_go_to_twilio_as_form_posts_with_basic_auth() -> None:
    with fakes.serve(fakes.twilio(SID, TOKEN)) as server:
        provider = TwilioProvider(
            base_url=server.url,
            account_sid=SID,
            auth_token=TOKEN,
            sms_from="+15005550006",
            whatsapp_from="+14155238886",
        )
        sms = provider.send(_outgoing("sms", "+886912345678", text="取貨通知"))
        whatsapp = provider.send(_outgoing("whatsapp", "+886912345678", text="hi"))
        provider.close()
    assert sms == f"SM{1:032x}"
    assert whatsapp == f"SM{2:032x}"
    assert [r.form() for r in server.accepted] == [
        {"To": "+886912345678", "From": "+15005550006", "Body": "取貨通知"},
        {"To": "whatsapp:+886912345678", "From": "whatsapp:+14155238886", "Body": "hi"},
    ]


def test_twilio_errors_carry_twilios_reason_and_wrong_credentials_fail() -> None:
    refuse = {"+886900000000": (400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})}
    with fakes.serve(fakes.twilio(SID, TOKEN, refuse=refuse)) as server:
        provider = TwilioProvider(
            base_url=server.url, account_sid=SID, auth_token=TOKEN, sms_from="+15005550006"
        )
        with pytest.raises(ProviderError) as invalid:
            provider.send(_outgoing("sms", "+886900000000", text="x"))
        wrong = TwilioProvider(
            base_url=server.url, account_sid=SID, auth_token="wrong", sms_from="+15005550006"
        )
        with pytest.raises(ProviderError) as unauthorised:
            wrong.send(_outgoing("sms", "+886912345678", text="x"))
    assert (invalid.value.outcome, "21211" in invalid.value.reason) == ("failed", True)
    assert (unauthorised.value.outcome, "401" in unauthorised.value.reason) == ("failed", True)
    assert server.accepted == []


def test_twilio_signature_matches_twilios_published_example() -> None:
    # The example of Twilio's request validation documentation (auth token 12345).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ]
    assert signature("12345", url, params) == "GvWf1cFY/Q7PnoempGyD5oXAezc="
    assert signature_valid("12345", url, params, "GvWf1cFY/Q7PnoempGyD5oXAezc=")
    assert not signature_valid(
        "12345", url, [*params[:-1], ("To", "+18005551213")], "GvWf1cFY/Q7PnoempGyD5oXAezc="
    )


def test_line_push_uses_bearer_and_a_retry_key_that_makes_a_repeat_harmless() -> None:
    with fakes.serve(fakes.line("line-token")) as server:
        provider = LineProvider(base_url=server.url, channel_token="line-token")
        first = provider.send(_outgoing("line", "U4af4980629", text="到店取貨"))
        again = provider.send(_outgoing("line", "U4af4980629", text="到店取貨"))
        provider.close()
    assert first == "500001"
    assert again == "req-1"  # LINE's 409 names the request that was accepted
    assert len(server.accepted) == 1
    assert server.accepted[0].json() == {
        "to": "U4af4980629",
        "messages": [{"type": "text", "text": "到店取貨"}],
    }
    assert server.received[0].headers["x-line-retry-key"] == server.received[1].headers["x-line-retry-key"]


def test_web_push_is_vapid_signed_and_aes128gcm_encrypted_for_the_browser() -> None:
    # given a browser's subscription at a local push service and a VAPID key pair
    browser = fakes.Browser()
    vapid = Vapid02()
    vapid.generate_keys()
    with fakes.serve(fakes.push_service(browser)) as service:
        subscription = {"kind": "web", "endpoint": f"{service.url}/push/abc", "keys": browser.keys()}
        provider = PushProvider(
            vapid_private_key=vapid.private_pem().decode(), vapid_subject="mailto:ops@omni.test"
        )
        # when a notification is sent
        provider.send(
            _outgoing(
                "push",
                json.dumps([subscription]),
                title="週年慶",
                body="全館 8 折",
                url="https://shop.test/sale",
            )
        )
        provider.close()
    # then the push service verified the JWT and the browser decrypts exactly what was sent
    assert browser.shown == [
        {
            "title": "週年慶",
            "body": "全館 8 折",
            "url": "https://shop.test/sale",
            "message_id": 7,
            "opened_url": None,
        }
    ]


def test_web_push_signed_with_another_key_is_refused() -> None:
    browser = fakes.Browser()
    with fakes.serve(fakes.push_service(browser)) as service:
        subscription = {"kind": "web", "endpoint": f"{service.url}/push/abc", "keys": browser.keys()}
        provider = PushProvider(vapid_private_key="", vapid_subject="mailto:ops@omni.test")
        with pytest.raises(ProviderError) as missing:
            provider.send(_outgoing("push", json.dumps([subscription]), title="t", body="b"))
    assert missing.value.outcome == "failed"
    assert browser.shown == []


def test_app_push_goes_to_fcm_http_v1_with_a_bearer_token() -> None:
    with fakes.serve(fakes.fcm("omni-shop", "oauth-token")) as server:
        provider = PushProvider(
            fcm_base_url=server.url, fcm_project_id="omni-shop", fcm_access_token="oauth-token"
        )
        subscriptions = [{"kind": "fcm", "endpoint": "device-token-1", "keys": {}}]
        name = provider.send(_outgoing("push", json.dumps(subscriptions), title="t", body="b"))
        with pytest.raises(ProviderError) as gone:
            provider.send(
                _outgoing(
                    "push", json.dumps([{"kind": "fcm", "endpoint": "gone-token"}]), title="t", body="b"
                )
            )
        provider.close()
    assert name == "projects/omni-shop/messages/1"
    assert server.accepted[0].json()["message"] == {
        "token": "device-token-1",
        "notification": {"title": "t", "body": "b"},
        "data": {"title": "t", "body": "b", "message_id": "7"},
    }
    assert gone.value.outcome == "failed"
    assert "UNREGISTERED" in gone.value.reason


def test_webhook_is_signed_and_carries_the_idempotency_key() -> None:
    receiver = fakes.WebhookReceiver("hook-secret")
    with fakes.serve(receiver) as server:
        provider = WebhookProvider(url=f"{server.url}/hooks/omni", secret="hook-secret")
        provider.send(_outgoing("webhook", "3", title="t"))
        provider.send(_outgoing("webhook", "3", title="t"))
        wrong = WebhookProvider(url=f"{server.url}/hooks/omni", secret="other")
        with pytest.raises(ProviderError) as refused:
            wrong.send(_outgoing("webhook", "3", key="k2", title="t"))
    assert [r.headers["idempotency-key"] for r in server.received] == ["k1", "k1", "k2"]
    assert [delivered["content"] for delivered in receiver.delivered] == [{"title": "t"}]
    assert refused.value.outcome == "failed"


def test_console_writes_one_line_per_message_and_finds_it_again(tmp_path: Path) -> None:
    provider = ConsoleProvider(tmp_path / "outbox.jsonl")
    first = _outgoing("sms", "+886912345678", key="journey:1:step:2", text="hi")
    provider.send(first)
    lines = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert [(line["id"], line["to"], line["content"]) for line in lines] == [
        ("journey:1:step:2", "+886912345678", {"text": "hi"})
    ]
    assert provider.lookup(first) == "console:7"
    assert provider.lookup(_outgoing("sms", "+886912345678", key="journey:1:step:3")) is None
