"""The Segment HTTP Tracking API's wire format: bounded body reading, gzip, and messages out of the JSON.

Kept apart from the router so the rules (limits, batch-level fields, which field is wrong) are plain
functions that are tested without a server.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from omni.events.errors import InvalidMessage, PayloadTooLarge, UnsupportedContentType

EVENT_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
MESSAGE_TYPES = ("identify", "track", "page", "screen", "alias", "group")
ACCEPTED_CONTENT_TYPES = ("application/json", "text/plain")
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def _kb(limit: int) -> str:
    return f"{limit // 1024} KB ({limit} bytes)"


def check_content_type(content_type: str | None) -> None:
    """Accept JSON, and text/plain as analytics.js sends beacons to avoid a CORS preflight."""
    media_type = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES and not media_type.endswith("+json"):
        raise UnsupportedContentType(
            f"Content-Type {media_type} is not accepted; send application/json or text/plain",
            details=[{"field": "Content-Type", "rule": "must be application/json or text/plain"}],
        )


class BodyReader:
    """Collect a request body chunk by chunk, never holding more than limit bytes of decoded data.

    A gzip body is inflated as it arrives with an output cap of what is left under the limit plus one
    byte, so a small compressed bomb is refused after limit + 1 bytes rather than inflated in memory.
    """

    def __init__(self, *, limit: int, content_encoding: str | None) -> None:
        encoding = (content_encoding or "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            raise UnsupportedContentType(
                f"Content-Encoding {encoding} is not accepted; send gzip or no encoding",
                details=[{"field": "Content-Encoding", "rule": "must be gzip or absent"}],
            )
        self.limit = limit
        self._inflater = zlib.decompressobj(_GZIP_WBITS) if encoding == "gzip" else None
        self._received = 0
        self._size = 0
        self._parts: list[bytes] = []

    def _too_large(self) -> PayloadTooLarge:
        what = "a single message" if self.limit == EVENT_LIMIT else "a batch"
        return PayloadTooLarge(
            f"the body is larger than {_kb(self.limit)}, the most {what} may be",
            details=[{"field": "body", "rule": f"at most {_kb(self.limit)} after decompression"}],
        )

    def check_declared_length(self, content_length: str | None) -> None:
        """Refuse at once a body whose Content-Length already exceeds the limit."""
        if content_length and content_length.isdigit() and int(content_length) > self.limit:
            raise self._too_large()

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk of the body as it came over the wire."""
        self._received += len(chunk)
        # A compressed body bigger than the decoded limit cannot inflate to less than it in practice.
        if self._received > self.limit:
            raise self._too_large()
        if self._inflater is None:
            decoded = chunk
        else:
            try:
                decoded = self._inflater.decompress(chunk, self.limit - self._size + 1)
            except zlib.error as exc:
                raise _bad_gzip(str(exc)) from None
            if self._inflater.unconsumed_tail:
                raise self._too_large()
        self._size += len(decoded)
        if self._size > self.limit:
            raise self._too_large()
        self._parts.append(decoded)

    def finish(self) -> bytes:
        """The whole decoded body; a gzip stream must be complete."""
        if self._inflater is not None and self._received:
            if not self._inflater.eof:
                raise _bad_gzip("the gzip stream ends early")
            if self._inflater.unused_data:
                raise _bad_gzip("there is data after the end of the gzip stream")
        return b"".join(self._parts)


def _bad_gzip(reason: str) -> InvalidMessage:
    return InvalidMessage(
        f"the body is not valid gzip: {reason}",
        details=[{"field": "body", "rule": "must be gzip data when Content-Encoding is gzip"}],
    )


@dataclass(frozen=True)
class TrackingRequest:
    """The messages of one request, and the write key when it came in the body (analytics.js)."""

    messages: list[Any]
    write_key: str | None


def parse_request(body: bytes, *, message_type: str | None) -> TrackingRequest:
    """Decode a tracking body: one message of message_type, or a batch when message_type is None."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(
            f"the body is not valid JSON: {exc}", details=[{"field": "body", "rule": f"must be JSON ({exc})"}]
        ) from None
    if not isinstance(document, dict):
        raise InvalidMessage(
            "the body must be a JSON object", details=[{"field": "body", "rule": "must be a JSON object"}]
        )
    write_key = document.get("writeKey")
    if write_key is not None and not isinstance(write_key, str):
        raise InvalidMessage(
            "writeKey must be a string", details=[{"field": "writeKey", "rule": "must be a string"}]
        )
    if b"\\u0000" in body:
        _refuse_nul(document)
    if message_type is None:
        messages = _batch_messages(document)
    else:
        messages = [_single_message(document, message_type)]
    return TrackingRequest(messages=messages, write_key=write_key)


def _single_message(document: dict[str, Any], message_type: str) -> dict[str, Any]:
    given = document.get("type", message_type)
    if given != message_type:
        raise InvalidMessage(
            f"a message posted to /v1/{message_type} must be of type {message_type}, not {given!r}",
            details=[
                {"field": "type", "rule": f"must be {message_type} (or left out) on /v1/{message_type}"}
            ],
        )
    document["type"] = message_type
    return document


def _batch_messages(document: dict[str, Any]) -> list[Any]:
    batch = document.get("batch")
    if not isinstance(batch, list):
        raise InvalidMessage(
            "a batch request needs a batch list", details=[{"field": "batch", "rule": "must be a list"}]
        )
    if not batch:
        raise InvalidMessage(
            "the batch is empty", details=[{"field": "batch", "rule": "must hold at least one message"}]
        )
    oversized = [
        {
            "index": index,
            "field": "message",
            "rule": f"must be at most {_kb(EVENT_LIMIT)}; it is {size} bytes",
        }
        for index, message in enumerate(batch)
        if (size := len(orjson.dumps(message))) > EVENT_LIMIT
    ]
    if oversized:
        raise PayloadTooLarge(
            f"{len(oversized)} message(s) in the batch are larger than {_kb(EVENT_LIMIT)}", details=oversized
        )
    # Segment applies the batch's sentAt and context to every message that lacks its own.
    sent_at = document.get("sentAt")
    shared_context = document.get("context")
    if sent_at is None and not isinstance(shared_context, dict):
        return batch
    for message in batch:
        if not isinstance(message, dict):
            continue
        if sent_at is not None:
            message.setdefault("sentAt", sent_at)
        if isinstance(shared_context, dict):
            own = message.get("context")
            if isinstance(own, dict):
                message["context"] = {**shared_context, **own}
            elif own is None:
                message["context"] = shared_context
    return batch


def _refuse_nul(document: Any, path: str = "") -> None:
    # PostgreSQL's text and jsonb cannot hold U+0000; refusing it here keeps both engines alike.
    if isinstance(document, str):
        if "\x00" in document:
            _nul_error(path)
    elif isinstance(document, dict):
        for key, value in document.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                _nul_error(child)
            _refuse_nul(value, child)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            _refuse_nul(value, f"{path}.{index}" if path else str(index))


def _nul_error(path: str) -> None:
    raise InvalidMessage(
        f"{path} contains the NUL character (\\u0000)",
        details=[{"field": path, "rule": "must not contain the NUL character (\\u0000)"}],
    )
