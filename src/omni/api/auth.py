"""Who calls the management API (/v1): a logged-in staff member, by the dashboard's session cookie.

The cookie is SameSite=Lax and HttpOnly; state-changing calls must also echo the session's CSRF token in
the X-CSRF-Token header, as the dashboard's HTMX requests do, so no other site can make them.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role, Section, may_use
from omni.accounts.service import ActiveSession
from omni.api.deps import ReadSessionDep
from omni.kit.errors import NotAuthenticated, PermissionDenied

# The same cookie and header the dashboard (web.security) sets and sends.
SESSION_COOKIE = "omni_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(PermissionDenied):
    code = "csrf_failed"


def staff_session(request: Request, session: ReadSessionDep) -> ActiveSession:
    """The caller's live staff session; 401 without one, 403 for a write without its CSRF token."""
    token = request.cookies.get(SESSION_COOKIE)
    active = accounts_service.resolve_session(session, token) if token else None
    if active is None:
        raise NotAuthenticated("log in to Omni to use this API")
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER, "")
        if not (given and hmac.compare_digest(given, active.csrf_token)):
            raise CsrfRejected(f"send the session's CSRF token in the {CSRF_HEADER} header")
    # Domain routers below this layer cannot depend on this function; they read who acts from here.
    request.state.actor = active.user.email
    # Store staff act for their own store only; domain routers check it against what a request touches.
    request.state.staff_store = active.user.store_code if active.role is Role.STORE_STAFF else None
    return active


StaffSession = Annotated[ActiveSession, Depends(staff_session)]


def staff_for(section: Section) -> Any:
    """A dependency admitting staff whose role may use section."""

    def check(active: StaffSession) -> ActiveSession:
        if not may_use(active.role, section):
            raise PermissionDenied(f"the {active.role.value} role may not use {section.value}")
        return active

    return Depends(check)


# What domain routers are included behind (app.py): reading customers, and head-office administration.
CUSTOMERS_STAFF = staff_for(Section.CUSTOMERS)
ADMIN_STAFF = staff_for(Section.SETTINGS)
