"""The Segment-compatible Tracking API: POST /v1/track|identify|page|screen|alias|group|batch.

Segment's SDKs and analytics.js work unchanged: the write key comes as the HTTP Basic user name or as
writeKey in the body, bodies may be gzip, and every accepted request answers {"success": true}.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omni.db.engine import Database
from omni.events import service, sources
from omni.events.errors import InvalidMessage, UnknownWriteKey
from omni.events.spec import EventRecord
from omni.events.tracking import (
    BATCH_LIMIT,
    EVENT_LIMIT,
    MESSAGE_TYPES,
    BodyReader,
    check_content_type,
    parse_request,
)
from omni.events.writer import EventWriter
from omni.kit.errors import ValidationFailed
from omni.kit.time import utc_now

SHORT_PATHS = {"identify": "i", "track": "t", "page": "p", "screen": "s", "alias": "a", "group": "g"}
TRACKING_PATHS = frozenset(
    [f"/v1/{name}" for name in (*MESSAGE_TYPES, *SHORT_PATHS.values(), "batch", "import")]
)
SUCCESS = b'{"success":true}'


@dataclass(frozen=True)
class AuthenticatedSource:
    """What ingest needs of a source, detached from the session that read it."""

    id: int
    key: str
    default_channel: str


class SourceCache:
    """Write keys already seen, by hash, so a steady sender costs no lookup per request.

    Only a source's immutable fields are cached; whether it is revoked is checked again in the
    transaction that appends its events (EventWriter), so revoking takes effect at once.
    """

    def __init__(self, database: Database, *, capacity: int = 10_000) -> None:
        self._database = database
        self._capacity = capacity
        self._known: dict[str, AuthenticatedSource] = {}

    def _lookup(self, write_key: str) -> AuthenticatedSource | None:
        with self._database.read_sessions() as session:
            source = sources.authenticate(session, write_key)
            return AuthenticatedSource(source.id, source.key, source.default_channel) if source else None

    async def authenticate(self, write_key: str | None) -> AuthenticatedSource:
        """The active source of write_key, or UnknownWriteKey."""
        if not write_key:
            raise UnknownWriteKey(
                "no write key: send it as the HTTP Basic user name, or as writeKey in the JSON body"
            )
        digest = sources.hash_write_key(write_key)
        source = self._known.get(digest)
        if source is None:
            source = await run_in_threadpool(self._lookup, write_key)
            if source is None:
                raise UnknownWriteKey("the write key is unknown or has been revoked")
            if len(self._known) >= self._capacity:
                self._known.clear()
            self._known[digest] = source
        return source


@asynccontextmanager
async def _run_writer(app: FastAPI) -> AsyncIterator[None]:
    database: Database = app.state.database
    writer = EventWriter(database)
    writer.start()
    app.state.event_writer = writer
    app.state.source_cache = SourceCache(database)
    try:
        yield
    finally:
        writer.stop()


router = APIRouter(prefix="/v1", tags=["tracking"], lifespan=_run_writer)


def basic_write_key(authorization: str | None) -> str | None:
    """The write key sent as the HTTP Basic user name, None without an Authorization header."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise UnknownWriteKey("send the write key as the HTTP Basic user name (Authorization: Basic ...)")
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise UnknownWriteKey("the Authorization header is not valid HTTP Basic credentials") from None
    return decoded.partition(":")[0]


async def _read_body(request: Request, limit: int) -> bytes:
    reader = BodyReader(limit=limit, content_encoding=request.headers.get("content-encoding"))
    reader.check_declared_length(request.headers.get("content-length"))
    try:
        async for chunk in request.stream():
            reader.feed(chunk)
    except ClientDisconnect:
        # Nobody is left to read the answer; this keeps the log free of a 500 for it.
        raise InvalidMessage("the client went away before sending the whole body") from None
    return reader.finish()


def _records(
    messages: Sequence[Any], source: AuthenticatedSource, *, batch: bool, received_at: datetime
) -> list[EventRecord]:
    try:
        return service.build_records(
            messages, source=source.key, default_channel=source.default_channel, received_at=received_at
        )
    except ValidationFailed as exc:
        if batch:
            raise InvalidMessage(
                f"{exc.message}; nothing in the batch was stored", details=exc.details
            ) from None
        details = [{key: value for key, value in detail.items() if key != "index"} for detail in exc.details]
        raise InvalidMessage("the message does not follow the tracking spec", details=details) from None


async def ingest(request: Request, message_type: str | None) -> Response:
    """Authenticate, decode, validate and append one tracking request; 200 only once it is committed."""
    received_at = utc_now()
    check_content_type(request.headers.get("content-type"))
    header_key = basic_write_key(request.headers.get("authorization"))
    cache: SourceCache = request.app.state.source_cache
    # A key in the header is checked before the body is read, so a stranger cannot make us inflate gzip.
    source = await cache.authenticate(header_key) if header_key is not None else None
    body = await _read_body(request, EVENT_LIMIT if message_type else BATCH_LIMIT)
    parsed = parse_request(body, message_type=message_type)
    if source is None:
        source = await cache.authenticate(parsed.write_key)
    records = _records(parsed.messages, source, batch=message_type is None, received_at=received_at)
    writer: EventWriter = request.app.state.event_writer
    await writer.append(records, source_id=source.id)
    return Response(SUCCESS, media_type="application/json")


def _endpoint(message_type: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await ingest(request, message_type)

    return endpoint


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Stored in the event log",
        "content": {"application/json": {"example": {"success": True}}},
    },
    400: {"description": "Not JSON, or a message breaks the spec (field and rule in details)"},
    401: {"description": "Unknown or revoked write key"},
    413: {"description": f"Over {EVENT_LIMIT // 1024} KB per message or {BATCH_LIMIT // 1024} KB per batch"},
    415: {"description": "Neither JSON nor text/plain, or an encoding other than gzip"},
}

for _type in MESSAGE_TYPES:
    for _path in (_type, SHORT_PATHS[_type]):
        router.add_api_route(
            f"/{_path}",
            _endpoint(_type),
            methods=["POST"],
            summary=f"Record one {_type} message" + ("" if _path == _type else " (analytics.js short path)"),
            responses=_RESPONSES,
            include_in_schema=_path == _type,
        )
for _path in ("batch", "import"):
    router.add_api_route(
        f"/{_path}",
        _endpoint(None),
        methods=["POST"],
        summary="Record a batch of messages, all or none"
        + (" (Segment's alias of batch)" if _path == "import" else ""),
        responses=_RESPONSES,
    )


_CORS_ALLOWED_HEADERS = b"Authorization, Content-Type, Content-Encoding, X-Request-ID"


class TrackingCORSMiddleware:
    """Let browsers on any shop domain post to the tracking paths, and only to them.

    The write key is public in a web page anyway and the tracking API reads no cookies, so echoing the
    caller's origin grants nothing that a server-side request could not already do.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in TRACKING_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        allow = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            preflight = [
                *allow,
                (b"access-control-allow-methods", b"POST, OPTIONS"),
                (b"access-control-allow-headers", _CORS_ALLOWED_HEADERS),
                (b"access-control-max-age", b"86400"),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": preflight})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(
                    [*allow, (b"access-control-expose-headers", b"X-Request-ID")]
                )
            await send(message)

        await self.app(scope, receive, send_with_cors)
