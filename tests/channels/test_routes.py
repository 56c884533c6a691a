"""The channels API over HTTP: sending, templates, previews, tracking links, one-click unsubscribe,
Twilio's webhooks with their signatures, push subscriptions with a write key, and the inbox."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from py_vapid import Vapid02

from omni.accounts.roles import Role
from omni.app import create_app
from omni.channels import service, tasks
from omni.channels.providers.twilio import signature
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events import sources as events_sources
from omni.events.schemas import SourceCreate
from omni.profiles import service as profiles_service
from omni.settings import Settings
from tests.builders import PASSWORD, make_user
from tests.channels import fakes
from tests.channels.builders import EMAIL, content, events, member, reindex, settings_for
from tests.orders.builders import make_world, order_body, place

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
TOKEN = "twilio-token"


@pytest.fixture
def channel_settings(tmp_path: Path) -> Settings:
    vapid = Vapid02()
    vapid.generate_keys()
    return settings_for(
        tmp_path,
        twilio_account_sid="AC" + "2" * 32,
        twilio_auth_token=TOKEN,
        vapid_private_key=vapid.private_pem().decode(),
    )


@pytest.fixture
def http(committed: Database, channel_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(channel_settings, committed), base_url="http://127.0.0.1") as client:
        yield client


def _log_in(client: TestClient, database: Database, role: Role = Role.MARKETER) -> dict[str, str]:
    with database.unit_of_work() as session:
        user = make_user(session, role=role)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})
    page = CSRF_FIELD.search(client.get("/customers").text)
    assert page
    return {"x-csrf-token": page.group(1)}


def _email(database: Database, settings: Settings) -> tuple[int, dict[str, Any]]:
    with database.unit_of_work() as session:
        amy = member(session, "c1")
        message = service.send(
            session,
            profile_id=amy,
            channel="email",
            message=content(email=EMAIL),
            idempotency_key="k1",
            purpose="marketing",
            settings=settings,
        )
        return message.id, dict(message.content)


def test_a_marketer_sends_a_message_that_the_console_receives(
    http: TestClient, committed: Database, channel_settings: Settings
) -> None:
    headers = _log_in(http, committed)
    with committed.unit_of_work() as session:
        amy = member(session, "c1")
    body = {
        "profile_id": amy,
        "channel": "in_app",
        "purpose": "transactional",
        "idempotency_key": "api-1",
        "message": {
            "variants": {
                "in_app": {"title": "Ready", "body": "{{ profile.first_name }}, pick up at {{ store.name }}"}
            },
            "data": {"store": {"name": "信義店"}},
        },
    }
    sent = http.post("/v1/messages", json=body, headers=headers)
    assert sent.status_code == 202
    assert http.post("/v1/messages", json=body, headers=headers).json()["id"] == sent.json()["id"]
    message = http.get(f"/v1/messages/{sent.json()['id']}").json()
    assert (message["status"], message["provider"]) == ("sent", "inbox")
    inbox = http.get(f"/v1/inbox/{amy}").json()
    assert [(item["title"], item["body"]) for item in inbox] == [("Ready", "Amy, pick up at 信義店")]
    assert http.post(f"/v1/inbox/{amy}/{inbox[0]['id']}/read", headers=headers).json()["read_at"] is not None


def test_a_template_with_an_unknown_variable_is_a_422_naming_it(
    http: TestClient, committed: Database
) -> None:
    headers = _log_in(http, committed)
    refused = http.post(
        "/v1/templates",
        json={"name": "cart", "variants": {"sms": {"text": "{{ cart.totl }}"}}},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {
            "field": "variants.sms.text",
            "rule": "unknown variable cart.totl; cart has id, total, currency, items, url",
        }
    ]
    saved = http.post(
        "/v1/templates",
        json={"name": "cart", "variants": {"sms": {"text": "{{ cart.total }} {{ profile.first_name }}"}}},
        headers=headers,
    )
    assert saved.status_code == 201
    with committed.unit_of_work() as session:
        amy = member(session, "c1")
    preview = http.post(
        "/v1/messages/preview",
        json={"profile_id": amy, "message": {"template": "cart", "data": {"cart": {"total": "NT$990"}}}},
        headers=headers,
    )
    assert preview.json() == {"profile_id": amy, "variants": {"sms": {"text": "NT$990 Amy"}}}


def test_sending_needs_a_marketing_role(http: TestClient, committed: Database) -> None:
    headers = _log_in(http, committed, Role.STORE_STAFF)
    refused = http.post(
        "/v1/templates", json={"name": "x", "variants": {"sms": {"text": "x"}}}, headers=headers
    )
    assert refused.status_code == 403


def test_open_pixel_click_redirect_and_one_click_unsubscribe(
    http: TestClient, committed: Database, channel_settings: Settings
) -> None:
    message_id, sent = _email(committed, channel_settings)
    pixel = re.search(r'src="http://omni.test(/v1/t/o/[^"]+)"', sent["html"])
    link = re.search(r'href="http://omni.test(/v1/t/c/[^"]+)"', sent["html"])
    unsubscribe = sent["headers"]["List-Unsubscribe"].strip("<>").removeprefix("http://omni.test")
    assert pixel
    assert link
    opened = http.get(pixel.group(1))
    assert (opened.status_code, opened.headers["content-type"]) == (200, "image/gif")
    clicked = http.get(link.group(1).replace("&amp;", "&"), follow_redirects=False)
    assert (clicked.status_code, clicked.headers["location"]) == (302, "https://shop.test/sale?a=1&b=2")
    forged = http.get(link.group(1)[:-3] + "abc", follow_redirects=False)
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "bad_signature"
    # a GET (a mail scanner following the link) shows a page and changes nothing
    assert http.get(unsubscribe).status_code == 200
    with committed.unit_of_work() as session:
        assert events(session, "Unsubscribed") == []
    # the mail client's one-click POST (RFC 8058) unsubscribes
    done = http.post(
        unsubscribe,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    with committed.unit_of_work() as session:
        assert len(events(session, "Email Opened")) == 1
        assert [e.properties["url"] for e in events(session, "Email Link Clicked")] == [
            "https://shop.test/sale?a=1&b=2"
        ]
        assert [
            (e.properties["channel"], e.properties["purpose"]) for e in events(session, "Unsubscribed")
        ] == [("email", "marketing")]


def _twilio(http: TestClient, path: str, form: dict[str, str], *, token: str = TOKEN) -> Any:
    url = f"http://omni.test{path}"
    headers = {"X-Twilio-Signature": signature(token, url, form.items())}
    return http.post(path, data=form, headers=headers)


@pytest.mark.parametrize(
    ("word", "event"),
    [
        pytest.param("STOP", "Unsubscribed", id="stop"),
        pytest.param(" stopall ", "Unsubscribed", id="stopall-any-case"),
        pytest.param("Unsubscribe", "Unsubscribed", id="unsubscribe"),
        pytest.param("CANCEL", "Unsubscribed", id="cancel"),
        pytest.param("END", "Unsubscribed", id="end"),
        pytest.param("QUIT", "Unsubscribed", id="quit"),
        pytest.param("START", "Subscribed", id="start"),
        pytest.param("UNSTOP", "Subscribed", id="unstop"),
    ],
)
def test_sms_keywords_change_consent(http: TestClient, committed: Database, word: str, event: str) -> None:
    with committed.unit_of_work() as session:
        amy = member(session, "c1", sms_opt_in=True)
        before = events_service.head_position(session)
    answer = _twilio(
        http,
        "/v1/channels/twilio/inbound",
        {"MessageSid": "SM1", "From": "+886912345678", "To": "+15005550006", "Body": word},
    )
    assert answer.status_code == 200
    assert answer.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    with committed.unit_of_work() as session:
        reindex(session, after=before)
        consent = {(c.channel, c.purpose): c.status for c in profiles_service.consent_of(session, amy)}
    expected = "denied" if event == "Unsubscribed" else "granted"
    assert (consent[("sms", "marketing")], consent[("sms", "transactional")]) == (expected, expected)


def test_help_is_answered_and_an_unsigned_webhook_is_refused(http: TestClient, committed: Database) -> None:
    form = {"MessageSid": "SM2", "From": "+886912345678", "Body": "HELP"}
    helped = _twilio(http, "/v1/channels/twilio/inbound", form)
    assert "<Message>Reply STOP to stop messages, START to receive them again.</Message>" in helped.text
    forged = _twilio(http, "/v1/channels/twilio/inbound", {**form, "Body": "STOP"}, token="not-the-token")
    assert forged.status_code == 403
    assert forged.json()["error"]["details"] == [{"field": "X-Twilio-Signature", "rule": "valid"}]


def test_whatsapp_stop_opts_out_of_whatsapp(http: TestClient, committed: Database) -> None:
    with committed.unit_of_work() as session:
        amy = member(session, "c1")
        before = events_service.head_position(session)
    _twilio(
        http,
        "/v1/channels/twilio/inbound",
        {"MessageSid": "SM3", "From": "whatsapp:+886912345678", "Body": "stop"},
    )
    with committed.unit_of_work() as session:
        reindex(session, after=before)
        consent = {(c.channel, c.purpose): c.status for c in profiles_service.consent_of(session, amy)}
    assert (consent[("whatsapp", "marketing")], consent[("sms", "marketing")]) == ("denied", "unknown")


def test_a_browser_subscribes_with_the_write_key_and_gets_a_web_push(
    http: TestClient, committed: Database, channel_settings: Settings
) -> None:
    # given the web shop's write key and a browser at a local push service
    with committed.unit_of_work() as session:
        amy = member(session, "c1")
        key = events_sources.create_source(session, SourceCreate(name="shop", kind="web")).write_key
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    browser = fakes.Browser()
    with fakes.serve(fakes.push_service(browser)) as push:
        subscription = {"userId": "c1", "endpoint": f"{push.url}/push/1", "keys": browser.keys()}
        assert http.post("/v1/push/subscriptions", json=subscription).status_code == 401
        assert (
            http.post(
                "/v1/push/subscriptions", json={**subscription, "userId": "nobody"}, headers=auth
            ).status_code
            == 422
        )
        created = http.post("/v1/push/subscriptions", json=subscription, headers=auth)
        assert created.json() == {"id": created.json()["id"], "profile_id": amy, "kind": "web"}
        # when a push message is sent and delivered
        with committed.unit_of_work() as session:
            service.send(
                session,
                profile_id=amy,
                channel="push",
                idempotency_key="push-1",
                purpose="transactional",
                message=content(
                    push={
                        "title": "Ready",
                        "body": "{{ profile.first_name }}",
                        "url": "https://shop.test/o/1",
                    }
                ),
                settings=channel_settings,
            )
        tasks.deliver_due(committed, channel_settings)
    # then the browser shows it, and tapping goes through the tracked link
    assert [(shown["title"], shown["body"], shown["url"]) for shown in browser.shown] == [
        ("Ready", "Amy", "https://shop.test/o/1")
    ]
    tapped = http.get(browser.shown[0]["opened_url"].removeprefix("http://omni.test"), follow_redirects=False)
    assert tapped.headers["location"] == "https://shop.test/o/1"
    with committed.unit_of_work() as session:
        assert len(events(session, "Push Notification Sent")) == 1
        assert len(events(session, "Push Notification Tapped")) == 1


def test_the_service_worker_and_vapid_key_are_served(http: TestClient, committed: Database) -> None:
    worker = http.get("/v1/push/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert 'self.addEventListener("push"' in worker.text
    headers = _log_in(http, committed)
    channels = http.get("/v1/channels", headers=headers).json()["channels"]
    assert channels == {
        "email": "console",
        "sms": "console",
        "whatsapp": "console",
        "line": "console",
        "push": "push",
        "in_app": "inbox",
        "webhook": "console",
    }


def test_the_settings_page_shows_which_provider_serves_each_channel(
    http: TestClient, committed: Database
) -> None:
    _log_in(http, committed, Role.ADMIN)
    page = http.get("/settings").text
    rows = dict(re.findall(r'<tr data-channel="([a-z_]+)"><td>[a-z_]+</td><td>([a-z]+)</td></tr>', page))
    assert rows == {
        "email": "console",
        "sms": "console",
        "whatsapp": "console",
        "line": "console",
        "push": "push",
        "in_app": "inbox",
        "webhook": "console",
    }


def test_a_preview_of_a_real_order_fills_it_and_of_an_unknown_order_is_a_404(
    http: TestClient, committed: Database
) -> None:
    headers = _log_in(http, committed)
    with committed.unit_of_work() as session:
        make_world(session, stock={"TEE-M": {"XINYI": 5}})
        amy = member(session, "c1")
        order = place(session, order_body("click_and_collect", store="XINYI", number="1001"))
    message = {"variants": {"sms": {"text": "{{ order.number }} {{ store.name }} {{ order.pickup_code }}"}}}
    preview = http.post(
        "/v1/messages/preview",
        json={"profile_id": amy, "message": message, "order_id": "1001"},
        headers=headers,
    )
    assert preview.json()["variants"] == {"sms": {"text": f"1001 XINYI 店 {order.pickup_code}"}}
    unknown = http.post(
        "/v1/messages/preview",
        json={"profile_id": amy, "message": message, "order_id": "404"},
        headers=headers,
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "order_not_found")
