"""The tracking wire format without a server: body limits, gzip, and messages out of the JSON."""

from __future__ import annotations

import gzip

import orjson
import pytest

from omni.events.errors import InvalidMessage, PayloadTooLarge, UnsupportedContentType
from omni.events.tracking import BATCH_LIMIT, EVENT_LIMIT, BodyReader, check_content_type, parse_request


def _read(body: bytes, *, limit: int = BATCH_LIMIT, encoding: str | None = None, chunk: int = 65536) -> bytes:
    reader = BodyReader(limit=limit, content_encoding=encoding)
    for start in range(0, len(body), chunk):
        reader.feed(body[start : start + chunk])
    return reader.finish()


@pytest.mark.parametrize("chunk", [1, 7, 65536], ids=["byte-by-byte", "odd-chunks", "one-chunk"])
def test_gzip_bodies_are_inflated_whatever_the_chunking(chunk: int) -> None:
    body = orjson.dumps({"batch": [{"type": "track", "event": "商品瀏覽", "userId": "u1"}] * 50})
    assert _read(gzip.compress(body), encoding="gzip", chunk=chunk) == body


def test_a_body_of_exactly_the_limit_passes_and_one_byte_more_does_not() -> None:
    assert len(_read(b"x" * EVENT_LIMIT, limit=EVENT_LIMIT)) == EVENT_LIMIT
    with pytest.raises(PayloadTooLarge) as caught:
        _read(b"x" * (EVENT_LIMIT + 1), limit=EVENT_LIMIT)
    assert (
        caught.value.message
        == "the body is larger than 32 KB (32768 bytes), the most a single message may be"
    )
    assert caught.value.details == [
        {"field": "body", "rule": "at most 32 KB (32768 bytes) after decompression"}
    ]


def test_a_gzip_bomb_is_refused_after_inflating_at_most_the_limit_plus_one_byte() -> None:
    # given 100 MB of zeros squeezed into ~100 KB
    bomb = gzip.compress(b"\0" * 100_000_000, compresslevel=9)
    assert len(bomb) < BATCH_LIMIT
    reader = BodyReader(limit=BATCH_LIMIT, content_encoding="gzip")

    def feed_all() -> None:
        for start in range(0, len(bomb), 65536):
            reader.feed(bomb[start : start + 65536])

    # when
    with pytest.raises(PayloadTooLarge):
        feed_all()
    # then no more than the limit + 1 bytes were ever inflated
    assert reader._size <= BATCH_LIMIT + 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"not gzip at all",
            "the body is not valid gzip: Error -3 while decompressing data: incorrect header check",
        ),
        (gzip.compress(b'{"a": 1}')[:-6], "the body is not valid gzip: the gzip stream ends early"),
        (
            gzip.compress(b'{"a": 1}') + b"junk",
            "the body is not valid gzip: there is data after the end of the gzip stream",
        ),
    ],
    ids=["not-gzip", "truncated", "trailing-junk"],
)
def test_broken_gzip_is_a_bad_request(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        _read(body, encoding="gzip")
    assert caught.value.message == reason


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    reader = BodyReader(limit=BATCH_LIMIT, content_encoding=None)
    reader.check_declared_length(str(BATCH_LIMIT))
    with pytest.raises(PayloadTooLarge):
        reader.check_declared_length(str(BATCH_LIMIT + 1))


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "text/plain", "text/plain;charset=UTF-8", None],
    ids=["json", "json-charset", "text", "text-charset", "missing"],
)
def test_json_and_text_plain_are_accepted(content_type: str | None) -> None:
    check_content_type(content_type)


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data"], ids=["xml", "form"])
def test_other_media_types_are_unsupported(content_type: str) -> None:
    with pytest.raises(UnsupportedContentType) as caught:
        check_content_type(content_type)
    assert caught.value.status_code == 415
    assert caught.value.details == [
        {"field": "Content-Type", "rule": "must be application/json or text/plain"}
    ]


@pytest.mark.parametrize("encoding", ["br", "deflate"], ids=["brotli", "deflate"])
def test_encodings_other_than_gzip_are_unsupported(encoding: str) -> None:
    with pytest.raises(UnsupportedContentType) as caught:
        BodyReader(limit=BATCH_LIMIT, content_encoding=encoding)
    assert caught.value.details == [{"field": "Content-Encoding", "rule": "must be gzip or absent"}]


def test_batch_level_sent_at_and_context_reach_every_message_without_their_own() -> None:
    body = orjson.dumps(
        {
            "batch": [
                {"type": "track", "event": "A", "userId": "u1", "context": {"ip": "203.0.113.9"}},
                {"type": "track", "event": "B", "userId": "u1", "sentAt": "2026-11-24T10:00:05Z"},
            ],
            "sentAt": "2026-11-24T10:00:00Z",
            "context": {"library": {"name": "analytics-python"}, "ip": "198.51.100.1"},
            "writeKey": "wk_x",
        }
    )
    parsed = parse_request(body, message_type=None)
    assert parsed.write_key == "wk_x"
    assert [(m["sentAt"], m["context"]) for m in parsed.messages] == [
        ("2026-11-24T10:00:00Z", {"library": {"name": "analytics-python"}, "ip": "203.0.113.9"}),
        ("2026-11-24T10:00:05Z", {"library": {"name": "analytics-python"}, "ip": "198.51.100.1"}),
    ]


def test_a_single_message_takes_the_type_of_its_path() -> None:
    parsed = parse_request(b'{"event": "A", "userId": "u1"}', message_type="track")
    assert parsed.messages == [{"type": "track", "event": "A", "userId": "u1"}]
    assert parsed.write_key is None


@pytest.mark.parametrize(
    ("body", "message_type", "field", "rule"),
    [
        (
            b"{bad",
            "track",
            "body",
            "must be JSON (unexpected character, expected a string key: line 1 column 2 (char 1))",
        ),
        (b"[1, 2]", "track", "body", "must be a JSON object"),
        (b'{"batch": {}}', None, "batch", "must be a list"),
        (b'{"batch": []}', None, "batch", "must hold at least one message"),
        (b'{"type": "page", "userId": "u"}', "track", "type", "must be track (or left out) on /v1/track"),
        (b'{"writeKey": 42, "userId": "u"}', "track", "writeKey", "must be a string"),
        (
            b'{"userId": "u", "properties": {"note": "a\\u0000b"}}',
            "track",
            "properties.note",
            "must not contain the NUL character (\\u0000)",
        ),
        (
            b'{"batch": [{"userId": "u", "traits": {"k\\u0000": 1}}]}',
            None,
            "batch.0.traits.k\x00",
            "must not contain the NUL character (\\u0000)",
        ),
    ],
    ids=[
        "malformed",
        "not-an-object",
        "batch-not-a-list",
        "empty-batch",
        "type-mismatch",
        "write-key-type",
        "nul-in-value",
        "nul-in-key",
    ],
)
def test_bad_bodies_name_the_field_and_rule(
    body: bytes, message_type: str | None, field: str, rule: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_request(body, message_type=message_type)
    assert caught.value.status_code == 400
    assert caught.value.details == [{"field": field, "rule": rule}]


def test_each_message_of_a_batch_must_fit_32_kb() -> None:
    small = {"type": "track", "event": "A", "userId": "u"}
    large = {**small, "properties": {"blob": "x" * EVENT_LIMIT}}
    with pytest.raises(PayloadTooLarge) as caught:
        parse_request(orjson.dumps({"batch": [small, large, small]}), message_type=None)
    assert caught.value.details == [
        {
            "index": 1,
            "field": "message",
            "rule": f"must be at most 32 KB (32768 bytes); it is {len(orjson.dumps(large))} bytes",
        }
    ]
