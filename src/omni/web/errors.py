"""Errors on pages: a login redirect when the session is missing, else a page saying what went wrong."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omni.api.errors import describe, request_id
from omni.web.rendering import render
from omni.web.security import SESSION_COOKIE, LoginRequired, login_redirect_target


def page_error(request: Request, exc: Exception) -> Response:
    """The HTML answer for exc on a dashboard page."""
    if isinstance(exc, LoginRequired):
        response = RedirectResponse(login_redirect_target(request), status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    status, code, message, _details = describe(exc)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message, "request_id": request_id(request)},
        status=status,
    )
