"""The orders API: place orders from any channel, take their steps, take goods back, list and read them.

Orders sit below the API layer, so the staff check is chosen where the application includes this router.
Each request is one transaction: a refusal anywhere leaves nothing written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from omni.db.requests import SessionDep
from omni.kit.errors import PermissionDenied
from omni.orders import returns, service, transitions
from omni.orders.schemas import (
    LineSelection,
    OrderCreate,
    OrderFilter,
    OrderPage,
    OrderRead,
    PickupHandover,
    ReturnCreate,
    Transition,
)
from omni.orders.states import Action

router = APIRouter(prefix="/v1", tags=["orders"])
OrderRef = Annotated[str, Path(min_length=1, max_length=64, description="The order's id or number.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat it on a retry; the retry changes nothing.",
    ),
]


def _actor(request: Request) -> str:
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, str) else "api"


def _check_own_store(request: Request, store: str | None) -> None:
    """Store staff hand over, queue and take back for their own store only (403 otherwise)."""
    own = getattr(request.state, "staff_store", None)
    if isinstance(own, str) and store != own:
        raise PermissionDenied(f"staff of {own} act for {own} only, not for {store or 'another location'}")


@router.post(
    "/orders",
    response_model=OrderRead,
    status_code=201,
    summary="Place an order",
    responses={200: {"description": "A retry of an order already placed with this key"}},
)
def place_order(
    body: OrderCreate, session: SessionDep, request: Request, response: Response, key: IdempotencyKey = None
) -> OrderRead:
    """Source every line in real time, allocate the stock and log `Order Completed`.

    409 when a line's stock is short (with the quantity available) or the key was used for another order;
    422 for a store without click & collect or without pickup capacity today.
    """
    order, created = service.place_order(session, body, key=key, by=_actor(request))
    if not created:
        response.status_code = 200
    return order


@router.get("/orders", response_model=OrderPage, summary="Orders, newest first")
def list_orders(
    session: SessionDep,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    store: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[str | None, Query(max_length=32)] = None,
    fulfilment: Annotated[str | None, Query(max_length=32)] = None,
    placed_from: datetime | None = None,
    placed_until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OrderPage:
    where = OrderFilter(
        channel=channel,
        store=store,
        state=state,
        fulfilment=fulfilment,
        placed_from=placed_from,
        placed_until=placed_until,
    )
    return service.list_orders(session, where, limit=limit, offset=offset)


@router.get("/orders/{ref}", response_model=OrderRead, summary="An order")
def read_order(ref: OrderRef, session: SessionDep) -> OrderRead:
    """Lines, state history, returns and the sourcing explanation (candidates, scores, why chosen)."""
    return service.order_read(session, service.get_order(session, ref))


@router.post("/orders/{ref}/transitions", response_model=OrderRead, summary="Take a step of the order")
def take_step(ref: OrderRef, body: Transition, session: SessionDep, request: Request) -> OrderRead:
    """409 naming the current state when the step does not follow from it."""
    return transitions.take_step(
        session, ref, body.action, by=_actor(request), lines=body.lines, code=body.code, note=body.note
    )


def _verb(action: Action) -> None:
    @router.post(
        f"/orders/{{ref}}/{action.value}",
        response_model=OrderRead,
        summary=f"{action.value.capitalize()} the order",
        name=f"order_{action.value}",
    )
    def step(
        ref: OrderRef, session: SessionDep, request: Request, body: LineSelection | None = None
    ) -> OrderRead:
        selection = body or LineSelection()
        return transitions.take_step(
            session, ref, action, by=_actor(request), lines=selection.lines, note=selection.note
        )


for _action in (Action.PICK, Action.READY, Action.SHIP, Action.DELIVER, Action.COMPLETE, Action.CANCEL):
    _verb(_action)


@router.post("/orders/{ref}/pickup", response_model=OrderRead, summary="Hand a pickup order over")
def hand_over(ref: OrderRef, body: PickupHandover, session: SessionDep, request: Request) -> OrderRead:
    """Only with the customer's pickup code; a wrong code hands nothing over (403)."""
    _check_own_store(request, service.get_order(session, ref).store_code)
    return transitions.take_step(session, ref, Action.PICKUP, by=_actor(request), code=body.code)


@router.post(
    "/orders/{ref}/returns",
    response_model=OrderRead,
    status_code=201,
    summary="Take goods of the order back at a store",
    responses={200: {"description": "A retry of a return already recorded with this key"}},
)
def take_back(
    ref: OrderRef,
    body: ReturnCreate,
    session: SessionDep,
    request: Request,
    response: Response,
    key: IdempotencyKey = None,
) -> OrderRead:
    """Restock, write off or send each item on, refund from the order's prices and log `Order Refunded`."""
    _check_own_store(request, body.store)
    order, created = returns.record_return(session, ref, body, key=key, by=_actor(request))
    if not created:
        response.status_code = 200
    return order


@router.get("/stores/{code}/pickups", response_model=list[OrderRead], summary="A store's pickup queue")
def store_pickups(
    code: Annotated[str, Path(min_length=1, max_length=64)], session: SessionDep, request: Request
) -> list[OrderRead]:
    """Pickup orders of the store not yet handed over, those ready longest first."""
    _check_own_store(request, code)
    return [service.order_read(session, order) for order in service.pickup_queue(session, code)]
