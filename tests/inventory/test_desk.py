"""Group commit of cart holds (holds.reserve_many and the reservation desk), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from omni.catalog.errors import UnknownLocation, UnknownSku
from omni.db.engine import Database
from omni.inventory import service
from omni.inventory.desk import ReservationDesk
from omni.inventory.errors import InventoryError, NotEnoughStock
from omni.inventory.holds import HoldRequest, reserve_many
from omni.kit.time import utc_now
from tests.inventory.builders import make_skus, make_store


def _hold(sku: str, quantity: int, reference: str, location: str = "XINYI") -> HoldRequest:
    return HoldRequest(sku, location, quantity, utc_now() + timedelta(minutes=15), reference)


def test_a_batch_serves_holds_in_the_order_they_came_while_units_last(session: Session) -> None:
    # given 5 units of one SKU and 2 of another
    make_store(session, "XINYI")
    make_skus(session, "TEE-M", "TEE-L")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=5)
    service.receive_stock(session, sku="TEE-L", location="XINYI", quantity=2)
    # when
    outcomes = reserve_many(
        session,
        [
            _hold("TEE-M", 3, "a"),
            _hold("TEE-L", 2, "b"),
            _hold("TEE-M", 3, "c"),
            _hold("TEE-M", 2, "d"),
            _hold("TEE-L", 1, "e"),
        ],
    )
    # then a, b and d hold; c was told 2 were left, e that none were
    assert [isinstance(outcome, int) for outcome in outcomes] == [True, True, False, True, False]
    assert isinstance(outcomes[2], NotEnoughStock)
    assert outcomes[2].available == 2
    assert isinstance(outcomes[4], NotEnoughStock)
    assert outcomes[4].available == 0
    levels = {level.sku: (level.on_hand, level.reserved) for level in service.level_rows(session)}
    assert levels == {"TEE-L": (2, 2), "TEE-M": (5, 5)}
    assert service.reconcile(session) == []


def test_a_batch_refuses_bad_holds_alone(session: Session) -> None:
    # given one hold already made
    make_store(session, "XINYI")
    make_skus(session, "TEE-M", "TEE-NEVER")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=5)
    service.reserve(
        session,
        sku="TEE-M",
        location="XINYI",
        quantity=1,
        expires_at=utc_now() + timedelta(minutes=5),
        reference="old",
    )
    # when
    outcomes = reserve_many(
        session,
        [
            _hold("TEE-M", 1, "old"),
            _hold("TEE-M", 1, "new"),
            _hold("TEE-M", 1, "new"),
            _hold("NOPE", 1, "x"),
            _hold("TEE-M", 1, "y", location="MARS"),
            _hold("TEE-NEVER", 1, "z"),
            _hold("TEE-M", 0, "zero"),
        ],
    )
    # then only "new" holds, once
    kinds = [type(outcome).__name__ for outcome in outcomes]
    assert kinds == [
        "InventoryError",
        "int",
        "InventoryError",
        "UnknownSku",
        "UnknownLocation",
        "NotEnoughStock",
        "InventoryError",
    ]
    assert isinstance(outcomes[0], InventoryError)
    assert outcomes[0].details == [{"field": "reference", "rule": "must be unique"}]
    assert isinstance(outcomes[3], UnknownSku)
    assert isinstance(outcomes[4], UnknownLocation)
    (level,) = service.level_rows(session, sku="TEE-M")
    assert level.reserved == 2
    assert service.reconcile(session) == []


def test_a_batch_releases_expired_holds_before_telling_a_buyer_no(session: Session) -> None:
    # given the only unit held by a cart whose time is up
    make_store(session, "XINYI")
    make_skus(session, "TEE-M")
    service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=1)
    soon = utc_now() + timedelta(milliseconds=50)
    service.reserve(session, sku="TEE-M", location="XINYI", quantity=1, expires_at=soon, reference="old")
    time.sleep(0.1)
    # when
    (outcome,) = reserve_many(session, [_hold("TEE-M", 1, "new")])
    # then
    assert isinstance(outcome, int)
    (level,) = service.level_rows(session, sku="TEE-M")
    assert level.reserved == 1
    assert service.reconcile(session) == []


def test_buyers_racing_through_the_desk_never_get_more_than_there_are(committed: Database) -> None:
    # given 5 units
    with committed.unit_of_work() as session:
        make_store(session, "XINYI")
        make_skus(session, "TEE-M")
        service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=5)
    barrier = threading.Barrier(16)
    won: list[int] = []
    lost: list[int] = []

    def buyer(desk: ReservationDesk, n: int) -> None:
        barrier.wait()
        for attempt in range(2):
            try:
                won.append(
                    desk.reserve(
                        sku="TEE-M",
                        location="XINYI",
                        quantity=1,
                        expires_at=utc_now() + timedelta(minutes=15),
                        reference=f"cart:{n}:{attempt}",
                    )
                )
            except NotEnoughStock as short:
                lost.append(short.available)

    # when 16 buyers each try twice, through the desk
    with ReservationDesk(committed.sessions, lanes=2) as desk:
        threads = [threading.Thread(target=buyer, args=(desk, n)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    # then exactly 5 holds were made, 27 told none are left, and the books agree
    assert len(won) == len(set(won)) == 5
    assert lost == [0] * 27
    with committed.unit_of_work() as session:
        (level,) = service.level_rows(session, sku="TEE-M")
        assert (level.on_hand, level.reserved) == (5, 5)
        assert service.reconcile(session) == []


@pytest.mark.parametrize("lanes", [1, 3], ids=["one-lane", "three-lanes"])
def test_the_desk_answers_each_buyer_with_their_own_outcome(committed: Database, lanes: int) -> None:
    with committed.unit_of_work() as session:
        make_store(session, "XINYI")
        make_skus(session, "TEE-M")
        service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=2)
    with ReservationDesk(committed.sessions, lanes=lanes) as desk:
        first = desk.reserve(
            sku="TEE-M",
            location="XINYI",
            quantity=2,
            expires_at=utc_now() + timedelta(minutes=1),
            reference="a",
        )
        with pytest.raises(UnknownSku):
            desk.reserve(
                sku="NOPE",
                location="XINYI",
                quantity=1,
                expires_at=utc_now() + timedelta(minutes=1),
                reference="b",
            )
    assert first > 0
