"""Orders on the dashboard: the filtered list, an order's page, each store's pickup queue and returns.

Store staff see their own store's orders in the list and only their store's pickup queue, and hand over
only their store's orders. Any staff member may open an order to take goods back: returns go anywhere.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from omni.accounts.roles import Role, Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep, SettingsDep
from omni.catalog import service as catalog_service
from omni.kit.errors import PermissionDenied, ValidationFailed
from omni.kit.time import utc_now
from omni.orders import returns as orders_returns
from omni.orders import service as orders_service
from omni.orders import transitions as orders_transitions
from omni.orders.models import Order
from omni.orders.schemas import OrderFilter, ReturnCreate
from omni.orders.states import Action, Fulfilment, OrderState
from omni.settings import Settings
from omni.web.rendering import render
from omni.web.security import CsrfChecked, require

router = APIRouter(include_in_schema=False)
Staff = Annotated[ActiveSession, require(Section.ORDERS)]
OrderRef = Annotated[str, Path(min_length=1, max_length=64)]
PAGE_SIZE = 50
STAFF_STEPS = (Action.PICK, Action.READY, Action.SHIP, Action.DELIVER, Action.COMPLETE, Action.CANCEL)
# Values the orders templates show through _(): states, ways of fulfilling, line statuses and steps.
LABELS = frozenset(
    {*OrderState, *Fulfilment, "open", "shipped", "handed_over", "cancelled", *(a.value for a in STAFF_STEPS)}
)


def _own_store(active: ActiveSession) -> str | None:
    return active.user.store_code if active.role is Role.STORE_STAFF else None


def _check_store(active: ActiveSession, order: Order) -> None:
    """Store staff act only on their store's orders: pickups there, or lines it sends."""
    store = _own_store(active)
    if store is None or order.store_code == store:
        return
    if store in {c.get("chosen") for c in order.sourcing.get("lines", [])}:
        return
    raise PermissionDenied(f"order {order.number} belongs to {order.store_code or 'another location'}")


def _local_day(day: date | None, settings: Settings, *, end: bool = False) -> datetime | None:
    if day is None:
        return None
    moment = datetime.combine(day + timedelta(days=1) if end else day, time(), ZoneInfo(settings.timezone))
    return moment.astimezone(ZoneInfo("UTC"))


@router.get("/orders")
def orders(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    active: Staff,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    store: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[str | None, Query(max_length=32)] = None,
    fulfilment: Annotated[str | None, Query(max_length=32)] = None,
    day_from: Annotated[date | None, Query(alias="from")] = None,
    day_until: Annotated[date | None, Query(alias="until")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Orders from every channel, newest first, filtered by channel, store, state, fulfilment and day."""
    own = _own_store(active)
    where = OrderFilter(
        channel=channel or None,
        store=own or store or None,
        state=state or None,
        fulfilment=fulfilment or None,
        placed_from=_local_day(day_from, settings),
        placed_until=_local_day(day_until, settings, end=True),
    )
    page = orders_service.list_orders(session, where, limit=PAGE_SIZE, offset=offset)
    return render(
        request,
        "orders.html",
        {
            "page": page,
            "filters": {"channel": channel or "", "store": own or store or "", "state": state or "",
                        "fulfilment": fulfilment or "", "from": day_from or "", "until": day_until or ""},
            "states": [s.value for s in OrderState],
            "fulfilments": [f.value for f in Fulfilment],
            "stores": [] if own else [loc.code for loc in catalog_service.list_locations(session)],
            "own_store": own,
        },
    )  # fmt: skip


@router.get("/orders/pickups")
def pickup_queue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    active: Staff,
    store: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """A store's pickup queue: being picked, ready, and overdue (ready longer than the hold)."""
    own = _own_store(active)
    if own and store and store != own:
        raise PermissionDenied(f"store staff of {own} see only {own}'s pickup queue")
    chosen = own or store
    stores = (
        [] if own else [loc.code for loc in catalog_service.list_locations(session) if loc.click_and_collect]
    )
    queue = orders_service.pickup_queue(session, chosen) if chosen else []
    overdue_before = utc_now() - timedelta(days=settings.pickup_hold_days)
    return render(
        request,
        "order_pickups.html",
        {
            "store": chosen,
            "stores": stores,
            "queue": [
                {"order": o, "overdue": bool(o.ready_at and o.ready_at < overdue_before)} for o in queue
            ],
            "hold_days": settings.pickup_hold_days,
        },
    )


@router.get("/orders/{ref}")
def order_page(request: Request, session: SessionDep, active: Staff, ref: OrderRef) -> HTMLResponse:
    """One order: lines, state history, the sourcing explanation, returns, and the next steps."""
    order = orders_service.order_read(session, orders_service.get_order(session, ref))
    own = _own_store(active)
    return render(
        request,
        "order.html",
        {
            "order": order,
            "steps": [a.value for a in order.allowed_actions if a in STAFF_STEPS],
            "may_hand_over": Action.PICKUP in order.allowed_actions and own in (None, order.store_code),
            "return_store": own,
            "stores": [] if own else [loc.code for loc in catalog_service.list_locations(session)],
            "return_key": str(uuid.uuid4()),
        },
    )


@router.post("/orders/{ref}/steps/{action}", dependencies=[CsrfChecked])
def take_step(
    session: SessionDep, active: Staff, ref: OrderRef, action: Annotated[Action, Path()]
) -> RedirectResponse:
    if action not in STAFF_STEPS:
        raise PermissionDenied(f"{action.value} is not taken from this form")
    order = orders_service.get_order(session, ref)
    _check_store(active, order)
    orders_transitions.take_step(session, order.id, action, by=active.user.email)
    return RedirectResponse(f"/orders/{order.id}", status_code=303)


@router.post("/orders/{ref}/pickup", dependencies=[CsrfChecked])
def hand_over(
    session: SessionDep, active: Staff, ref: OrderRef, code: Annotated[str, Form(min_length=1, max_length=16)]
) -> RedirectResponse:
    """Hand the order over when the customer's code matches; a wrong code answers 403 and hands nothing."""
    order = orders_service.get_order(session, ref)
    if _own_store(active) not in (None, order.store_code):
        raise PermissionDenied(f"order {order.number} is collected at {order.store_code}")
    orders_transitions.take_step(session, order.id, Action.PICKUP, by=active.user.email, code=code)
    return RedirectResponse(
        f"/orders/pickups?store={order.store_code}&handed={order.number}", status_code=303
    )


@router.post("/orders/{ref}/returns", dependencies=[CsrfChecked])
async def take_back(request: Request, session: SessionDep, active: Staff, ref: OrderRef) -> RedirectResponse:
    """Record the return form: a quantity and disposition per line, at the staff member's store."""
    form = await request.form()
    items = [
        {"line": key.removeprefix("qty-"), "quantity": value,
         "disposition": form.get(f"disposition-{key.removeprefix('qty-')}")}
        for key, value in form.multi_items()
        if key.startswith("qty-") and str(value).strip() not in ("", "0")
    ]  # fmt: skip
    own = _own_store(active)
    try:
        body = ReturnCreate.model_validate(
            {"store": own or form.get("store"), "items": items, "reason": form.get("reason") or "",
             "idempotency_key": form.get("key") or None}
        )  # fmt: skip
    except ValidationError as exc:
        raise ValidationFailed(
            "the return form is not complete",
            details=[{"field": ".".join(map(str, e["loc"])), "rule": e["msg"]} for e in exc.errors()],
        ) from None
    made, _ = await run_in_threadpool(
        orders_returns.record_return, session, ref, body, key=None, by=active.user.email
    )
    return RedirectResponse(f"/orders/{made.id}#returns", status_code=303)
