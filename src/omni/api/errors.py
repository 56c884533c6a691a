"""One JSON error shape for every failure: {"error": {"code", "message", "details", "request_id"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from omni.kit.errors import OmniError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


def request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def error_body(request: Request, *, code: str, message: str, details: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": details, "request_id": request_id(request)}
    }


def describe(exc: Exception) -> tuple[int, str, str, list[dict[str, Any]]]:
    """Status, code, message and details for any exception, the same for the API and the pages."""
    if isinstance(exc, OmniError):
        return exc.status_code, exc.code, exc.message, exc.details
    if isinstance(exc, RequestValidationError):
        details = [
            {"field": ".".join(str(part) for part in error["loc"]), "rule": error["msg"]}
            for error in exc.errors()
        ]
        return 422, "invalid", "the request is not valid", details
    if isinstance(exc, StarletteHTTPException):
        code = _CODES.get(exc.status_code, "http_error")
        return exc.status_code, code, str(exc.detail), []
    return 500, "internal", "an unexpected error occurred; the request id locates it in the logs", []


def json_error(request: Request, exc: Exception) -> JSONResponse:
    """The JSON answer for exc."""
    status, code, message, details = describe(exc)
    if status >= 500:
        log.error("request failed", exc_info=exc)
    headers = getattr(exc, "headers", None)
    return JSONResponse(
        error_body(request, code=code, message=message, details=details), status_code=status, headers=headers
    )
