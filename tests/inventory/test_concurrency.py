"""Never oversold: buyers on their own connections race for the last units, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from omni.db.engine import Database
from omni.inventory import service
from omni.inventory.errors import NotEnoughStock
from omni.kit.time import utc_now
from tests.inventory.builders import make_skus, make_store

BUYERS = 16


def _race(database: Database, buy: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    """Each (kind, n) buyer takes one unit at once; the winners' references and the losers' answers."""
    barrier = threading.Barrier(len(buy))
    lock = threading.Lock()
    winners: list[str] = []
    losers: list[int] = []
    failures: list[BaseException] = []

    def attempt(kind: str, n: int) -> None:
        barrier.wait()
        try:
            with database.unit_of_work() as session:
                if kind == "cart":
                    service.reserve(
                        session,
                        sku="TEE-M",
                        location="XINYI",
                        quantity=1,
                        expires_at=utc_now() + timedelta(minutes=15),
                        reference=f"cart:{n}",
                    )
                else:
                    service.allocate(
                        session, sku="TEE-M", location="XINYI", quantity=1, reference=f"order:{n}:1"
                    )
            with lock:
                winners.append(f"{kind}:{n}")
        except NotEnoughStock as short:
            with lock:
                losers.append(short.available)
        except BaseException as exc:  # a crash in a thread must fail the test, not vanish
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=attempt, args=pair) for pair in buy]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return winners, losers


def test_buyers_racing_for_the_last_units_never_get_more_than_there_are(committed: Database) -> None:
    # given 3 free units: 5 on hand, 2 already held by an earlier cart
    with committed.unit_of_work() as session:
        make_store(session, "XINYI")
        make_skus(session, "TEE-M")
        service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=5)
        service.reserve(
            session,
            sku="TEE-M",
            location="XINYI",
            quantity=2,
            expires_at=utc_now() + timedelta(minutes=15),
            reference="cart:early",
        )
    # when 16 carts and order lines, each on its own connection, try to take one unit at the same moment
    buyers = [("cart" if n % 2 else "order", n) for n in range(BUYERS)]
    winners, losers = _race(committed, buyers)
    # then exactly 3 win, every loser was told 0 are left, and the level still holds together
    assert len(winners) == 3
    assert losers == [0] * (BUYERS - 3)
    with committed.unit_of_work() as session:
        (level,) = service.level_rows(session, sku="TEE-M", location="XINYI")
        assert level.on_hand == 5
        assert level.reserved + level.allocated == 5
        assert service.available_at(session, sku="TEE-M", locations=["XINYI"]) == {"XINYI": 0}
        assert service.reconcile(session) == []


def test_cancelling_and_buying_at_once_keeps_the_books_straight(committed: Database) -> None:
    # given 4 order lines holding all 4 units
    with committed.unit_of_work() as session:
        make_store(session, "XINYI")
        make_skus(session, "TEE-M")
        service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=4)
        for n in range(4):
            service.allocate(session, sku="TEE-M", location="XINYI", quantity=1, reference=f"old:{n}")
    release_barrier = threading.Barrier(2)

    def cancel_two() -> None:
        release_barrier.wait()
        for n in range(2):
            with committed.unit_of_work() as session:
                service.release_allocation(session, reference=f"old:{n}")

    canceller = threading.Thread(target=cancel_two)
    canceller.start()
    release_barrier.wait()
    # when 8 buyers race while two lines are cancelled
    winners, _ = _race(committed, [("cart", n) for n in range(8)])
    canceller.join(timeout=60)
    # then never more taken than on hand, and the ledger agrees
    with committed.unit_of_work() as session:
        (level,) = service.level_rows(session, sku="TEE-M", location="XINYI")
        assert level.reserved + level.allocated <= level.on_hand == 4
        assert level.reserved == len(winners) <= 2
        assert service.reconcile(session) == []
