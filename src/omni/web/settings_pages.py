"""Settings: staff accounts, tracking sources and the health of the log's consumers (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role, Section
from omni.accounts.schemas import UserCreate
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep
from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationKind
from omni.channels import providers as channel_providers
from omni.consumers import ALL_CONSUMERS
from omni.events import sources as events_sources
from omni.events.consumers import lags
from omni.events.schemas import SourceCreate, SourceKind
from omni.kit.errors import OmniError
from omni.web.rendering import render
from omni.web.security import CsrfChecked, require

router = APIRouter(include_in_schema=False)


def _settings_page(
    request: Request,
    session: SessionDep,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
    source_errors: list[str] | None = None,
    new_key: tuple[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "settings.html",
        {
            "users": accounts_service.list_users(session),
            "roles": [role.value for role in Role],
            "stores": catalog_service.list_locations(session, kind=LocationKind.STORE),
            "lags": lags(session, ALL_CONSUMERS),
            "errors": errors or [],
            "form": form or {},
            "sources": events_sources.list_sources(session),
            "source_kinds": [kind.value for kind in SourceKind],
            "source_errors": source_errors or [],
            "new_key": new_key,
            "channel_providers": channel_providers.configured(request.app.state.settings),
        },
        status=422 if errors or source_errors else 200,
    )


@router.get("/settings")
def settings_page(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.SETTINGS)]
) -> HTMLResponse:
    return _settings_page(request, session)


@router.post("/settings/users", dependencies=[CsrfChecked])
def create_user(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()],
    active: Annotated[ActiveSession, require(Section.SETTINGS)],
    store_code: Annotated[str, Form()] = "",
) -> Response:
    form = {"email": email, "display_name": display_name, "role": role, "store_code": store_code}
    try:
        data = UserCreate(
            email=email,
            display_name=display_name,
            password=password,
            role=role,
            store_code=store_code or None,
        )
        accounts_service.create_user(session, data)
    except ValidationError as exc:
        return _settings_page(request, session, errors=_problems(exc), form=form)
    except OmniError as exc:
        return _settings_page(request, session, errors=[exc.message], form=form)
    return RedirectResponse("/settings", status_code=303)


def _problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors()]


@router.post("/settings/sources", dependencies=[CsrfChecked])
def create_source(
    request: Request,
    session: SessionDep,
    kind: Annotated[str, Form()],
    active: Annotated[ActiveSession, require(Section.SETTINGS)],
    name: Annotated[str, Form()] = "",
    store_code: Annotated[str, Form()] = "",
) -> Response:
    """Create a tracking source; its write key is shown on this one answer and never again."""
    try:
        data = SourceCreate(kind=kind, name=name or None, store_code=store_code or None)
        created = events_sources.create_source(session, data)
    except ValidationError as exc:
        return _settings_page(request, session, source_errors=_problems(exc))
    except OmniError as exc:
        return _settings_page(request, session, source_errors=[exc.message])
    return _settings_page(request, session, new_key=(created.source.name, created.write_key))


@router.post("/settings/sources/{name}/revoke", dependencies=[CsrfChecked])
def revoke_source(
    name: str, session: SessionDep, active: Annotated[ActiveSession, require(Section.SETTINGS)]
) -> Response:
    """Revoke a source's write key: its events are refused from now on."""
    events_sources.revoke_source(session, name)
    return RedirectResponse("/settings#sources", status_code=303)
