from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from omni.catalog import service as catalog_service
from omni.catalog.models import Price, Product, Variant
from omni.db.engine import Database
from tests.catalog.builders import make_shop, product, variant

SAVERS = 4


def test_concurrent_saves_of_one_new_product_all_succeed_and_store_it_once(committed: Database) -> None:
    # given a shop, and four admins (or import batches) about to save the same new product at once
    with committed.unit_of_work() as session:
        make_shop(session)
    start = threading.Barrier(SAVERS)

    def save(amount: int) -> int:
        start.wait()
        with committed.unit_of_work() as session:
            catalog_service.save_products(
                session, [product(variants=[variant("TOP-0001-BK-M", 1, web=amount)])]
            )
        return amount

    # when they save it, each with its own connection
    with ThreadPoolExecutor(SAVERS) as pool:
        saved = list(pool.map(save, [49000 + 1000 * n for n in range(SAVERS)]))
    # then every save succeeded, one after the other, and the product is there once with one of their prices
    assert len(saved) == SAVERS
    with committed.unit_of_work() as session:
        counts = [session.scalar(select(func.count()).select_from(t)) for t in (Product, Variant, Price)]
        price = catalog_service.price_for(session, "TOP-0001-BK-M", "web")
    assert counts == [1, 1, 1]
    assert price[0] in saved
