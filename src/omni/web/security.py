"""Who is asking: the session cookie, CSRF checks on every form, and section permissions."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role, Section, may_use
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep
from omni.kit.errors import OmniError, PermissionDenied
from omni.settings import Settings

SESSION_COOKIE = "omni_session"
LOGIN_CSRF_COOKIE = "omni_login_csrf"
LANGUAGE_COOKIE = "omni_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(OmniError):
    """The page needs a logged-in user; pages answer with a redirect to the login form."""

    status_code = 401
    code = "not_authenticated"


class CsrfFailed(OmniError):
    status_code = 403
    code = "csrf_failed"


def set_cookie(response: Response, settings: Settings, name: str, value: str, *, max_age: int) -> None:
    """Set an HttpOnly, SameSite=Lax cookie (Secure when the deployment says it runs on HTTPS)."""
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    return bool(expected and given and hmac.compare_digest(expected, given))


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token sent with a form field or, for HTMX requests, a header."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def optional_session(request: Request, session: SessionDep) -> ActiveSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    return accounts_service.resolve_session(session, token) if token else None


def current_session(
    request: Request, active: Annotated[ActiveSession | None, Depends(optional_session)]
) -> ActiveSession:
    if active is None:
        raise LoginRequired("log in to continue")
    request.state.active_session = active
    return active


CurrentSession = Annotated[ActiveSession, Depends(current_session)]


async def verify_csrf(request: Request, active: CurrentSession) -> None:
    """Reject a state-changing request whose CSRF token is not the session's."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if not tokens_match(active.csrf_token, await submitted_csrf(request)):
        raise CsrfFailed("the form has expired or did not come from Omni; reload the page and try again")


CsrfChecked = Depends(verify_csrf)


def require(section: Section) -> Any:
    """A dependency that admits only roles allowed to use section."""

    def check(active: CurrentSession) -> ActiveSession:
        if not may_use(active.role, section):
            raise PermissionDenied(f"the {active.role.value} role may not use {section.value}")
        return active

    return Depends(check)


def login_redirect_target(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return "/login?next=" + quote(path, safe="")


def safe_next(target: str | None) -> str:
    """Follow only same-site paths after login, never another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def may_see(active: ActiveSession, section: Section) -> bool:
    return may_use(active.role, section)


def roles_for_forms() -> list[str]:
    return [role.value for role in Role]


def session_from(request: Request) -> ActiveSession | None:
    active = getattr(request.state, "active_session", None)
    return active if isinstance(active, ActiveSession) else None
