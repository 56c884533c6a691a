"""Local servers speaking the providers' real protocols over real sockets: SMTP (aiosmtpd), Twilio's
Messages API, LINE's push API, FCM HTTP v1, a web push service that checks VAPID and decrypts aes128gcm,
and a webhook receiver. Each keeps what it accepted, to count what reached people."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import http_ece
import jwt
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class FakeHttp:
    """An HTTP server on 127.0.0.1 answering with answer(request); accepted keeps requests it took (2xx)."""

    answer: Callable[[Request], Answer]
    received: list[Request] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve(answer: Callable[[Request], Answer]) -> Iterator[FakeHttp]:
    fake = FakeHttp(answer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            with fake.lock:
                fake.received.append(request)
                status, headers, body = fake.answer(request)
                if 200 <= status < 300:
                    fake.accepted.append(request)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _json(status: int, body: Any, **headers: str) -> Answer:
    return status, headers, json.dumps(body).encode()


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme != "Basic":
        return None
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


def twilio(
    account_sid: str, auth_token: str, *, refuse: dict[str, tuple[int, Any]] | None = None
) -> Callable[[Request], Answer]:
    """Twilio's Messages resource: Basic auth, form fields To, From, Body; 201 with a sid."""
    sids = itertools.count(1)
    refuse = refuse or {}

    def answer(request: Request) -> Answer:
        if request.path != f"/2010-04-01/Accounts/{account_sid}/Messages.json":
            return _json(
                404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            )
        if _basic(request) != (account_sid, auth_token):
            return _json(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _json(400, {"code": 20001, "message": "form encoding expected", "status": 400})
        form = request.form()
        if form.get("To") in refuse:
            status, body = refuse[form["To"]]
            return _json(status, body)
        if not (form.get("To") and form.get("From") and form.get("Body")):
            return _json(400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400})
        sid = f"SM{next(sids):032x}"
        return _json(
            201,
            {"sid": sid, "status": "queued", "to": form["To"], "from": form["From"], "body": form["Body"]},
        )

    return answer


def line(channel_token: str, *, latency: float = 0.0) -> Callable[[Request], Answer]:
    """LINE push: Bearer token, JSON {to, messages}; a repeated X-Line-Retry-Key answers 409.

    latency makes each answer take that long, as a remote API does."""
    seen: dict[str, str] = {}
    ids = itertools.count(1)

    def answer(request: Request) -> Answer:
        time.sleep(latency)
        if request.path != "/v2/bot/message/push":
            return _json(404, {"message": "Not found"})
        if request.headers.get("authorization") != f"Bearer {channel_token}":
            return _json(401, {"message": "Authentication failed"})
        key = request.headers.get("x-line-retry-key", "")
        if key in seen:
            return _json(
                409,
                {"message": "The retry key is already accepted"},
                **{"x-line-accepted-request-id": seen[key]},
            )
        body = request.json()
        if not body.get("to") or not body.get("messages"):
            return _json(400, {"message": "The request body has 1 error(s)"})
        request_id = f"req-{next(ids)}"
        if key:
            seen[key] = request_id
        return _json(
            200,
            {"sentMessages": [{"id": str(500000 + int(request_id[4:])), "quoteToken": "q"}]},
            **{"x-line-request-id": request_id},
        )

    return answer


def fcm(project_id: str, access_token: str) -> Callable[[Request], Answer]:
    """FCM HTTP v1 messages:send: OAuth bearer, {message: {token, notification, data}}."""
    ids = itertools.count(1)

    def answer(request: Request) -> Answer:
        if request.path != f"/v1/projects/{project_id}/messages:send":
            return _json(404, {"error": {"code": 404, "status": "NOT_FOUND"}})
        if request.headers.get("authorization") != f"Bearer {access_token}":
            return _json(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        message = request.json().get("message", {})
        if message.get("token") == "gone-token":
            return _json(
                404,
                {
                    "error": {
                        "code": 404,
                        "message": "Requested entity was not found.",
                        "status": "NOT_FOUND",
                        "details": [{"errorCode": "UNREGISTERED"}],
                    }
                },
            )
        if not message.get("token") or not all(isinstance(v, str) for v in message.get("data", {}).values()):
            return _json(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}})
        return _json(200, {"name": f"projects/{project_id}/messages/{next(ids)}"})

    return answer


@dataclass
class Browser:
    """A browser's push subscription keys: the private half stays here, as in a real user agent."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: hashlib.sha256(b"auth").digest()[:16])
    shown: list[dict[str, Any]] = field(default_factory=list)

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def keys(self) -> dict[str, str]:
        return {"p256dh": self.p256dh, "auth": b64url(self.auth)}


def push_service(browser: Browser) -> Callable[[Request], Answer]:
    """A push service (RFC 8030) that checks the VAPID JWT (RFC 8292) and decrypts aes128gcm (RFC 8291)."""

    def answer(request: Request) -> Answer:
        scheme, _, params = request.headers.get("authorization", "").partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme != "vapid" or "t" not in fields or "k" not in fields:
            return 401, {}, b"VAPID authorization required"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        origin = f"http://{request.headers['host']}"
        try:
            claims = jwt.decode(fields["t"], public, algorithms=["ES256"], audience=origin)
        except jwt.PyJWTError as exc:
            return 403, {}, f"bad VAPID token: {exc}".encode()
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return 403, {}, b"VAPID sub must be a mailto: or https: URL"
        if request.headers.get("content-encoding") != "aes128gcm" or "ttl" not in request.headers:
            return 400, {}, b"aes128gcm body and TTL required"
        plain = http_ece.decrypt(
            request.body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
        )
        browser.shown.append(json.loads(plain))
        return 201, {"Location": f"{origin}/m/{len(browser.shown)}"}, b""

    return answer


class WebhookReceiver:
    """A retailer's receiver: checks the signature and acts on each Idempotency-Key once (delivered)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.delivered: list[dict[str, Any]] = []
        self.seen: set[str] = set()

    def __call__(self, request: Request) -> Answer:
        expected = "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-omni-signature", ""), expected):
            return 401, {}, b"bad signature"
        key = request.headers.get("idempotency-key", "")
        if key in self.seen:
            return 200, {}, b'{"duplicate": true}'
        self.seen.add(key)
        self.delivered.append(request.json())
        return 201, {}, b"{}"


class MailSink:
    """aiosmtpd handler keeping each message as parsed MIME."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
