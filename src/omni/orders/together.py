"""Frequently bought together: the products that most often share an order with given ones.

Counted straight from the order lines (one vote per order, so a basket of ten tees counts once), with no
model to train or refresh: the post-purchase message recommends what other customers put in the same
basket as what this customer just bought.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from omni.orders.models import OrderLine


@dataclass(frozen=True)
class BoughtTogether:
    product_id: str
    sku: str
    name: str
    category: str
    unit_price_minor: int
    orders: int


def bought_together(
    session: Session, product_ids: Sequence[str], *, limit: int = 3, min_orders: int = 1
) -> list[BoughtTogether]:
    """The products most often ordered with any of product_ids (those excluded), most orders first."""
    given = sorted(set(product_ids))
    if not given or limit <= 0:
        return []
    live = OrderLine.status != "cancelled"
    baskets = select(OrderLine.order_id).where(OrderLine.product_id.in_(given), live)
    together = func.count(distinct(OrderLine.order_id))
    rows = session.execute(
        select(
            OrderLine.product_id,
            func.min(OrderLine.sku),
            func.max(OrderLine.name),
            func.max(OrderLine.category),
            func.max(OrderLine.unit_price_minor),
            together,
        )
        .where(OrderLine.order_id.in_(baskets), OrderLine.product_id.not_in(given), live)
        .group_by(OrderLine.product_id)
        .having(together >= min_orders)
        # Ties go to the product id, so the same orders always give the same recommendations.
        .order_by(together.desc(), OrderLine.product_id)
        .limit(limit)
    ).all()
    return [BoughtTogether(*row) for row in rows]
