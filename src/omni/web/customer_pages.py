"""The Customers section: find a person by name, email, phone or member number, and see their profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from omni.accounts.roles import Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep
from omni.identity import service as identity_service
from omni.profiles import service as profiles_service
from omni.web.rendering import render
from omni.web.security import CsrfChecked, may_see, require

router = APIRouter(include_in_schema=False)
ProfileId = Annotated[int, Path(gt=0)]
TIMELINE_PAGE = 30
# Traits a result line shows to tell two people apart.
SUMMARY_TRAITS = ("name", "email", "phone", "member_id", "home_store")
# Symbols every tablet font has (emoji fonts are not a given on a shop-floor device or a kiosk build).
CHANNEL_ICONS = {
    "web": "◎",
    "app": "▣",
    "pos": "⌂",
    "marketplace": "⊕",
    "crm": "☰",
    "email": "✉",
    "sms": "✆",
    "push": "♪",
    "whatsapp": "✆",
    "line": "✎",
    "in_app": "▤",
}


@router.get("/customers")
def customers(
    request: Request,
    session: SessionDep,
    active: Annotated[ActiveSession, require(Section.CUSTOMERS)],
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Search customers; an exact identifier goes first, then people whose name contains the text."""
    results = []
    for profile_id in profiles_service.search(session, q):
        traits = profiles_service.traits_of(session, profile_id)
        results.append(
            {"id": profile_id, "traits": {k: traits[k].value for k in SUMMARY_TRAITS if k in traits}}
        )
    return render(request, "customers.html", {"q": q, "results": results})


@router.get("/customers/{profile_id}")
def profile_page(
    request: Request,
    session: SessionDep,
    profile_id: ProfileId,
    active: Annotated[ActiveSession, require(Section.CUSTOMERS)],
) -> HTMLResponse:
    """The 360° view of one customer: identity graph, traits, computed traits, consent, timeline."""
    view = profiles_service.profile_view(session, profile_id)
    return render(
        request,
        "profile.html",
        {
            "view": view,
            "identity": identity_service.explain(session, view.profile_id),
            "timeline": profiles_service.timeline(session, view.profile_id, limit=TIMELINE_PAGE),
            "icons": CHANNEL_ICONS,
            "may_unmerge": may_see(active, Section.SETTINGS),
        },
    )


@router.get("/customers/{profile_id}/timeline")
def timeline_partial(
    request: Request,
    session: SessionDep,
    profile_id: ProfileId,
    active: Annotated[ActiveSession, require(Section.CUSTOMERS)],
    before: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """Older timeline lines, appended by HTMX (or a page of their own without it)."""
    page = profiles_service.timeline(session, profile_id, limit=TIMELINE_PAGE, before=before)
    return render(request, "profile_timeline.html", {"timeline": page, "icons": CHANNEL_ICONS})


@router.post("/customers/{profile_id}/unmerge", dependencies=[CsrfChecked])
def unmerge(
    session: SessionDep,
    profile_id: ProfileId,
    active: Annotated[ActiveSession, require(Section.SETTINGS)],
    merge_id: Annotated[int, Form(gt=0)],
) -> RedirectResponse:
    """Undo one merge of the identity graph (head office only) and come back to the profile."""
    identity_service.unmerge(session, profile_id, merge_id, by=active.user.email)
    return RedirectResponse(f"/customers/{profile_id}?unmerged={merge_id}", status_code=303)
