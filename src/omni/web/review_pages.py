"""Possible duplicates: pairs of customers the matcher is unsure of, to merge or to keep apart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from omni.accounts.roles import Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep
from omni.identity import review as identity_review
from omni.profiles import service as profiles_service
from omni.web.rendering import render
from omni.web.security import CsrfChecked, may_see, require

router = APIRouter(include_in_schema=False)
CandidateId = Annotated[int, Path(gt=0, le=2**63 - 1)]
# Deciding merges customers' histories: campaigns' owners (marketers) and admins, not shop-floor staff.
DECIDERS = Section.SEGMENTS
SHOWN_TRAITS = ("name", "email", "phone", "birthday", "member_id", "home_store")
PAGE_SIZE = 50


@router.get("/customers/duplicates")
def duplicates(
    request: Request,
    session: SessionDep,
    active: Annotated[ActiveSession, require(Section.CUSTOMERS)],
) -> HTMLResponse:
    """Pairs waiting for a decision, most likely first, with the traits that tell them apart."""
    pairs = []
    for candidate in identity_review.pending_candidates(session, limit=PAGE_SIZE):
        sides = []
        for profile_id in (candidate.profile_a, candidate.profile_b):
            traits = profiles_service.traits_of(session, profile_id)
            sides.append(
                {"id": profile_id, "traits": {k: traits[k].value for k in SHOWN_TRAITS if k in traits}}
            )
        pairs.append({"candidate": candidate, "sides": sides})
    return render(
        request,
        "duplicates.html",
        {"pairs": pairs, "shown": SHOWN_TRAITS, "may_decide": may_see(active, DECIDERS)},
    )


@router.post("/customers/duplicates/{candidate_id}/confirm", dependencies=[CsrfChecked])
def confirm(
    session: SessionDep, candidate_id: CandidateId, active: Annotated[ActiveSession, require(DECIDERS)]
) -> RedirectResponse:
    """Merge the pair (undoable from the profile page) and come back to the queue."""
    merge = identity_review.confirm_candidate(session, candidate_id, by=active.user.email)
    return RedirectResponse(f"/customers/duplicates?merged={merge.survivor_id}", status_code=303)


@router.post("/customers/duplicates/{candidate_id}/reject", dependencies=[CsrfChecked])
def reject(
    session: SessionDep, candidate_id: CandidateId, active: Annotated[ActiveSession, require(DECIDERS)]
) -> RedirectResponse:
    """Keep the pair apart for good and come back to the queue."""
    identity_review.reject_candidate(session, candidate_id, by=active.user.email)
    return RedirectResponse("/customers/duplicates?rejected=1", status_code=303)
