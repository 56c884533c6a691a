"""Inventory service on SQLite and PostgreSQL: movements, holds, order lines, returns and availability."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.catalog.errors import UnknownLocation, UnknownSku
from omni.catalog.schemas import ChannelKind, LocationKind
from omni.events.models import LoggedEvent
from omni.inventory import ledger, returns, service
from omni.inventory.errors import AllocationClosed, InventoryError, NotEnoughStock, UnknownAllocation
from omni.inventory.models import Reservation, StockMovement
from omni.kit.time import utc_now
from tests.inventory.builders import make_channel, make_skus, make_store


def _later(minutes: int = 15) -> datetime:
    return utc_now() + timedelta(minutes=minutes)


def _level(session: Session, sku: str, location: str) -> tuple[int, int, int]:
    (level,) = service.level_rows(session, sku=sku, location=location)
    return level.on_hand, level.reserved, level.allocated


def _events(session: Session, name: str) -> list[dict[str, object]]:
    rows = session.scalars(
        select(LoggedEvent).where(LoggedEvent.event == name).order_by(LoggedEvent.position)
    )
    return [row.properties for row in rows]


def test_a_receipt_adds_on_hand_as_one_movement_and_an_event(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    # when
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=5, note="PO 17")
    # then
    assert _level(session, "TEE-M", "XINYI") == (5, 0, 0)
    (movement,) = service.movements(session, sku="TEE-M")
    assert (movement.quantity, movement.reason, movement.note) == (5, "receipt", "PO 17")
    (event,) = _events(session, "Inventory Updated")
    assert event == {
        "sku": "TEE-M",
        "location": "XINYI",
        "on_hand": 5,
        "available": 5,
        "reason": "receipt",
        "quantity": 5,
    }


def test_a_reservation_takes_free_units_and_a_short_one_says_how_many_are_free(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=3)
    # when
    first = service.reserve(
        session, sku="TEE-M", location="XINYI", quantity=2, expires_at=_later(), reference="cart:1"
    )
    with pytest.raises(NotEnoughStock) as short:
        service.reserve(
            session, sku="TEE-M", location="XINYI", quantity=2, expires_at=_later(), reference="cart:2"
        )
    # then
    assert first > 0
    assert short.value.available == 1
    assert short.value.status_code == 409
    assert short.value.details[0]["available"] == 1
    assert _level(session, "TEE-M", "XINYI") == (3, 2, 0)
    assert session.scalar(select(func.count()).select_from(Reservation)) == 1


def test_releasing_a_reservation_gives_its_units_back_once(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=3)
    service.reserve(
        session, sku="TEE-M", location="XINYI", quantity=2, expires_at=_later(), reference="cart:1"
    )
    # when
    released = service.release_reservation(session, reference="cart:1")
    again = service.release_reservation(session, reference="cart:1")
    # then
    assert (released, again) == (2, 0)
    assert _level(session, "TEE-M", "XINYI") == (3, 0, 0)


def test_the_expiry_job_releases_only_holds_whose_time_is_up(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=5)
    service.reserve(
        session, sku="TEE-M", location="XINYI", quantity=1, expires_at=_later(5), reference="cart:soon"
    )
    service.reserve(
        session, sku="TEE-M", location="XINYI", quantity=2, expires_at=_later(60), reference="cart:late"
    )
    # when
    expired = service.expire_reservations(session, now=_later(10))
    # then
    assert expired == 1
    assert _level(session, "TEE-M", "XINYI") == (5, 2, 0)
    statuses = dict(session.execute(select(Reservation.reference, Reservation.status)).all())
    assert statuses == {"cart:soon": "expired", "cart:late": "held"}


def test_an_expired_hold_is_released_lazily_when_a_buyer_needs_its_units(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=1)
    soon = utc_now() + timedelta(milliseconds=50)
    service.reserve(session, sku="TEE-M", location="XINYI", quantity=1, expires_at=soon, reference="cart:old")
    time.sleep(0.1)
    # when
    service.reserve(
        session, sku="TEE-M", location="XINYI", quantity=1, expires_at=_later(), reference="cart:new"
    )
    # then
    assert _level(session, "TEE-M", "XINYI") == (1, 1, 0)
    statuses = dict(session.execute(select(Reservation.reference, Reservation.status)).all())
    assert statuses == {"cart:old": "expired", "cart:new": "held"}


def test_allocating_the_same_line_twice_takes_stock_once(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=4)
    # when
    service.allocate(session, sku="TEE-M", location="XINYI", quantity=3, reference="order:1:line:1")
    service.allocate(session, sku="TEE-M", location="XINYI", quantity=3, reference="order:1:line:1")
    # then
    assert _level(session, "TEE-M", "XINYI") == (4, 0, 3)


def test_a_short_allocation_writes_nothing(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=2)
    # when
    with pytest.raises(NotEnoughStock) as short:
        service.allocate(session, sku="TEE-M", location="XINYI", quantity=3, reference="order:1:line:1")
    # then the same line can still be allocated elsewhere or later
    assert short.value.available == 2
    service.allocate(session, sku="TEE-M", location="XINYI", quantity=2, reference="order:1:line:1")
    assert _level(session, "TEE-M", "XINYI") == (2, 0, 2)


def test_fulfilling_a_line_takes_on_hand_and_allocation_down_together_as_a_sale(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=4)
    service.allocate(session, sku="TEE-M", location="XINYI", quantity=3, reference="order:1:line:1")
    # when
    service.fulfil_allocation(session, reference="order:1:line:1")
    service.fulfil_allocation(session, reference="order:1:line:1")
    # then
    assert _level(session, "TEE-M", "XINYI") == (1, 0, 0)
    sale = service.movements(session, sku="TEE-M")[0]
    assert (sale.quantity, sale.reason, sale.reference) == (-3, "sale", "order:1:line:1")
    assert service.reconcile(session) == []


def test_a_cancelled_line_returns_its_units_and_cannot_be_fulfilled(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=4)
    service.allocate(session, sku="TEE-M", location="XINYI", quantity=3, reference="order:1:line:1")
    # when
    released = service.release_allocation(session, reference="order:1:line:1")
    # then
    assert released == 3
    assert service.release_allocation(session, reference="order:1:line:1") == 0
    assert _level(session, "TEE-M", "XINYI") == (4, 0, 0)
    with pytest.raises(AllocationClosed):
        service.fulfil_allocation(session, reference="order:1:line:1")
    with pytest.raises(UnknownAllocation):
        service.fulfil_allocation(session, reference="order:404:line:1")


@pytest.mark.parametrize(
    ("disposition", "store_on_hand", "warehouse_on_hand", "reasons"),
    [
        pytest.param("restock", 1, 0, ["return"], id="restock"),
        pytest.param("damaged", 0, 0, ["return", "write_off"], id="damaged"),
        pytest.param("to_warehouse", 0, 1, ["return", "transfer_out", "transfer_in"], id="to-warehouse"),
    ],
)
def test_a_return_is_restocked_written_off_or_sent_to_the_warehouse_once(
    session: Session, disposition: str, store_on_hand: int, warehouse_on_hand: int, reasons: list[str]
) -> None:
    # given
    make_store(session, "XINYI")
    make_store(session, "WH-TAOYUAN", kind=LocationKind.WAREHOUSE)
    make_skus(session, "TEE-M")
    # when
    for _ in range(2):
        returns.accept_return(
            session,
            sku="TEE-M",
            location="XINYI",
            quantity=1,
            disposition=disposition,
            reference="return:9:1",
        )
    # then
    assert service.available_at(session, sku="TEE-M", locations=["XINYI", "WH-TAOYUAN"]) == {
        "XINYI": store_on_hand,
        "WH-TAOYUAN": warehouse_on_hand,
    }
    moved = session.scalars(select(StockMovement.reason).order_by(StockMovement.id)).all()
    assert list(moved) == reasons
    assert service.reconcile(session) == []


def test_available_to_promise_subtracts_safety_stock_and_the_channel_buffer(session: Session) -> None:
    # given a store keeping 1 of everything back, a row keeping 1 more, and a marketplace buffer of 2
    make_store(session, "XINYI", safety_stock=1)
    make_store(session, "WH", kind=LocationKind.WAREHOUSE)
    make_skus(session, "TEE-M")
    make_channel(session, "web", locations=["XINYI", "WH"])
    make_channel(session, "shopee", locations=["WH"], stock_buffer=2, kind=ChannelKind.MARKETPLACE)
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=5)
    service.receive_stock(session, sku="TEE-M", location="WH", quantity=3)
    service.set_safety_stock(session, sku="TEE-M", location="XINYI", quantity=1)
    service.reserve(session, sku="TEE-M", location="WH", quantity=2, expires_at=_later(), reference="cart:1")
    # when
    per_location = service.available_at(session, sku="TEE-M", locations=["XINYI", "WH"])
    web = service.available_to_promise(session, sku="TEE-M", channel="web")
    shopee = service.available_to_promise(session, sku="TEE-M", channel="shopee")
    # then
    assert per_location == {"XINYI": 3, "WH": 1}
    assert (web, shopee) == (4, 0)


def test_back_in_stock_is_told_when_a_channel_goes_from_nothing_to_something(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    make_channel(session, "web", locations=["XINYI"])
    make_channel(session, "shopee", locations=["XINYI"], stock_buffer=2, kind=ChannelKind.MARKETPLACE)
    # when
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=2)
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=1)
    # then web came back with the first receipt, the marketplace (buffer 2) only with the second
    assert _events(session, "Back In Stock") == [
        {"sku": "TEE-M", "channel": "web", "available": 2},
        {"sku": "TEE-M", "channel": "shopee", "available": 1},
    ]


def test_stock_cannot_go_below_what_carts_and_lines_hold(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=3)
    service.allocate(session, sku="TEE-M", location="XINYI", quantity=2, reference="order:1:line:1")
    # when / then
    with pytest.raises(NotEnoughStock) as short:
        service.write_off(session, sku="TEE-M", location="XINYI", quantity=2)
    assert short.value.available == 1
    with pytest.raises(NotEnoughStock):
        service.count_stock(session, sku="TEE-M", location="XINYI", counted=1)
    assert _level(session, "TEE-M", "XINYI") == (3, 0, 2)


def test_a_count_and_a_transfer_are_movements_the_level_reconciles_with(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_store(session, "DAAN")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=10)
    # when
    difference = service.count_stock(session, sku="TEE-M", location="XINYI", counted=8)
    service.transfer_stock(session, sku="TEE-M", from_location="XINYI", to_location="DAAN", quantity=3)
    service.adjust_stock(session, sku="TEE-M", location="DAAN", delta=-1, note="display piece")
    # then
    assert difference == -2
    assert service.available_at(session, sku="TEE-M", locations=["XINYI", "DAAN"]) == {"XINYI": 5, "DAAN": 2}
    assert service.reconcile(session) == []


def test_reconcile_finds_a_level_that_disagrees_with_its_movements(session: Session) -> None:
    # given a level changed behind the ledger's back
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=4)
    (level,) = service.level_rows(session, sku="TEE-M")
    level.on_hand = 6
    session.flush()
    # when
    found = service.reconcile(session)
    # then
    assert found == [ledger.Discrepancy("TEE-M", "XINYI", "on_hand", 6, 4)]


@pytest.mark.parametrize("quantity", [0, -1], ids=["zero", "negative"])
def test_a_quantity_must_be_above_zero(session: Session, quantity: int) -> None:
    with pytest.raises(InventoryError) as bad:
        service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=quantity)
    assert bad.value.details == [{"field": "quantity", "rule": "must be greater than 0"}]


def test_unknown_sku_and_location_are_named(session: Session) -> None:
    # given
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    # when / then
    with pytest.raises(UnknownSku) as sku:
        service.receive_stock(session, sku="NOPE", location="XINYI", quantity=1)
    with pytest.raises(UnknownLocation) as location:
        service.reserve(
            session, sku="TEE-M", location="NOWHERE", quantity=1, expires_at=_later(), reference="c"
        )
    assert sku.value.details[0]["field"] == "sku"
    assert location.value.details[0]["field"] == "location"
    with pytest.raises(UnknownSku):
        service.reserve(session, sku="NOPE", location="XINYI", quantity=1, expires_at=_later(), reference="c")


def test_back_in_stock_is_told_when_a_released_hold_frees_the_last_unit(session: Session) -> None:
    # given the only unit held by a cart
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    make_channel(session, "web", locations=["XINYI"])
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=1)
    service.reserve(
        session, sku="TEE-M", location="XINYI", quantity=1, expires_at=_later(), reference="cart:1"
    )
    # when
    service.release_reservation(session, reference="cart:1")
    # then: once for the receipt, once for the release
    assert _events(session, "Back In Stock") == [
        {"sku": "TEE-M", "channel": "web", "available": 1},
        {"sku": "TEE-M", "channel": "web", "available": 1},
    ]
