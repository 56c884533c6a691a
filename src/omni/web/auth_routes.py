"""Logging in and out, and choosing the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from omni.accounts import service as accounts_service
from omni.api.deps import SessionDep, SettingsDep
from omni.web.i18n import LOCALES
from omni.web.rendering import render
from omni.web.security import (
    LANGUAGE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CsrfFailed,
    new_login_csrf,
    safe_next,
    set_cookie,
    tokens_match,
)

router = APIRouter(include_in_schema=False)


def _login_form(
    request: Request, settings: SettingsDep, *, error: str | None, status: int = 200
) -> HTMLResponse:
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        {"login_csrf": token, "error": error, "next": safe_next(request.query_params.get("next"))},
        status=status,
    )
    set_cookie(response, settings, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _login_form(request, settings, error=None)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    # The login form has no session yet: its token is bound to a cookie instead (double submit).
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise CsrfFailed("the login form has expired; reload the page and try again")
    user = accounts_service.authenticate(session, email=email, password=password)
    if user is None:
        return _login_form(request, settings, error="Wrong email or password.", status=401)
    started = accounts_service.start_session(session, user, hours=settings.session_hours)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_cookie(response, settings, SESSION_COOKIE, started.token, max_age=settings.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts_service.end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{locale}")
def choose_language(locale: str, request: Request, settings: SettingsDep) -> Response:
    """Switch the dashboard's language; only a preference cookie changes, so a link suffices."""
    target = safe_next(request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303)
    if locale in LOCALES:
        set_cookie(response, settings, LANGUAGE_COOKIE, locale, max_age=365 * 24 * 3600)
    return response
