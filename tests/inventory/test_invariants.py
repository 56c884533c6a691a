"""Random sequences of stock operations keep the books straight, checked against a model after every step."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.orm import Session

from omni.catalog.schemas import LocationKind
from omni.inventory import returns, service
from omni.inventory.errors import NotEnoughStock
from omni.kit.time import utc_now
from tests.inventory.builders import make_skus, make_store

SKUS = ("TEE-S", "TEE-M")
LOCATIONS = ("XINYI", "WH")
WAREHOUSE = "WH"
STORE_SAFETY = 1  # the store keeps one of everything back
Key = tuple[str, str]


@dataclass
class Hold:
    key: Key
    quantity: int
    expires_at: datetime


class StockBooks(RuleBasedStateMachine):
    """The service against a plain model of on-hand, holds and order lines."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.savepoint = session.begin_nested()
        self.start = utc_now()
        self.on_hand: dict[Key, int] = {}
        self.holds: dict[str, Hold] = {}
        self.lines: dict[str, tuple[Key, int]] = {}
        self.numbers = itertools.count(1)

    def teardown(self) -> None:
        self.savepoint.rollback()

    def _free(self, key: Key) -> int:
        held = sum(hold.quantity for hold in self.holds.values() if hold.key == key)
        taken = sum(quantity for line_key, quantity in self.lines.values() if line_key == key)
        safety = STORE_SAFETY if key[1] == "XINYI" else 0
        return max(0, self.on_hand.get(key, 0) - held - taken - safety)

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), quantity=st.integers(1, 5))
    def receive(self, sku: str, location: str, quantity: int) -> None:
        service.receive_stock(self.session, sku=sku, location=location, quantity=quantity)
        self.on_hand[(sku, location)] = self.on_hand.get((sku, location), 0) + quantity

    @rule(
        sku=st.sampled_from(SKUS),
        location=st.sampled_from(LOCATIONS),
        quantity=st.integers(1, 4),
        minutes=st.integers(1, 60),
    )
    def reserve(self, sku: str, location: str, quantity: int, minutes: int) -> None:
        key = (sku, location)
        reference = f"cart:{next(self.numbers)}"
        expires_at = self.start + timedelta(days=1, minutes=minutes)
        free = self._free(key)
        if quantity <= free:
            service.reserve(
                self.session,
                sku=sku,
                location=location,
                quantity=quantity,
                expires_at=expires_at,
                reference=reference,
            )
            self.holds[reference] = Hold(key, quantity, expires_at)
        else:
            with pytest.raises(NotEnoughStock) as short:
                service.reserve(
                    self.session,
                    sku=sku,
                    location=location,
                    quantity=quantity,
                    expires_at=expires_at,
                    reference=reference,
                )
            assert short.value.available == free

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        reference = data.draw(st.sampled_from(sorted(self.holds)))
        assert (
            service.release_reservation(self.session, reference=reference)
            == self.holds.pop(reference).quantity
        )

    @rule(minutes=st.integers(0, 60))
    def expire(self, minutes: int) -> None:
        now = self.start + timedelta(days=1, minutes=minutes)
        due = [reference for reference, hold in self.holds.items() if hold.expires_at <= now]
        assert service.expire_reservations(self.session, now=now) == len(due)
        for reference in due:
            del self.holds[reference]

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), quantity=st.integers(1, 4))
    def allocate(self, sku: str, location: str, quantity: int) -> None:
        key = (sku, location)
        reference = f"order:{next(self.numbers)}:line:1"
        if quantity <= self._free(key):
            service.allocate(self.session, sku=sku, location=location, quantity=quantity, reference=reference)
            self.lines[reference] = (key, quantity)
        else:
            with pytest.raises(NotEnoughStock):
                service.allocate(
                    self.session, sku=sku, location=location, quantity=quantity, reference=reference
                )

    @precondition(lambda self: bool(self.lines))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        reference = data.draw(st.sampled_from(sorted(self.lines)))
        assert service.release_allocation(self.session, reference=reference) == self.lines.pop(reference)[1]

    @precondition(lambda self: bool(self.lines))
    @rule(data=st.data())
    def fulfil(self, data: st.DataObject) -> None:
        reference = data.draw(st.sampled_from(sorted(self.lines)))
        key, quantity = self.lines.pop(reference)
        service.fulfil_allocation(self.session, reference=reference)
        self.on_hand[key] -= quantity

    @rule(
        sku=st.sampled_from(SKUS),
        quantity=st.integers(1, 3),
        disposition=st.sampled_from(["restock", "damaged", "to_warehouse"]),
    )
    def take_back(self, sku: str, quantity: int, disposition: str) -> None:
        reference = f"return:{next(self.numbers)}"
        returns.accept_return(
            self.session,
            sku=sku,
            location="XINYI",
            quantity=quantity,
            disposition=disposition,
            reference=reference,
        )
        target = {"restock": "XINYI", "to_warehouse": WAREHOUSE}.get(disposition)
        if target is not None:
            self.on_hand[(sku, target)] = self.on_hand.get((sku, target), 0) + quantity

    @invariant()
    def books_agree_with_the_model(self) -> None:
        for level in service.level_rows(self.session):
            key = (level.sku, level.location_code)
            held = sum(hold.quantity for hold in self.holds.values() if hold.key == key)
            taken = sum(quantity for line_key, quantity in self.lines.values() if line_key == key)
            assert (level.on_hand, level.reserved, level.allocated) == (self.on_hand.get(key, 0), held, taken)
            assert level.reserved + level.allocated <= level.on_hand
        for sku in SKUS:
            free = service.available_at(self.session, sku=sku, locations=list(LOCATIONS))
            assert free == {location: self._free((sku, location)) for location in LOCATIONS}
        assert service.reconcile(self.session) == []


def test_random_stock_operations_keep_every_invariant(session: Session) -> None:
    # given a store keeping one back, a warehouse, and two SKUs
    make_store(session, "XINYI", safety_stock=STORE_SAFETY)
    make_store(session, WAREHOUSE, kind=LocationKind.WAREHOUSE)
    make_skus(session, *SKUS)

    # when / then: the invariants are checked after every step
    class OnThisSession(StockBooks):
        def __init__(self) -> None:
            super().__init__(session)

    run_state_machine_as_test(
        OnThisSession,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
