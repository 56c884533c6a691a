"""What the segment builder's selects offer: names known to the store, labelled in the page's language.

Every list comes from the services that check a definition (segments' vocabulary), so the builder offers
exactly the names a save accepts, plus the channels, stores, tags and categories seen on this store.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationKind
from omni.events import service as events_service
from omni.segments import definitions
from omni.segments import service as segments_service
from omni.web.pages import CHANNELS

# Property names of the Segment e-commerce spec that filters on product events use most.
PROPERTIES = ("category", "brand", "product_id", "sku", "name", "variant", "price", "coupon", "query")


def _options(values: list[str], label: Any = str) -> list[dict[str, str]]:
    return [{"value": value, "label": label(value)} for value in values]


def builder_vocabulary(session: Session, *, locale: str, gettext: Any, currency: str) -> dict[str, Any]:
    """The options of every select in the segment builder, and the limits it respects."""
    ctx = segments_service.context(session)
    known = segments_service.vocabulary(session, ctx)
    channels = sorted(set(CHANNELS) | set(events_service.totals_by_channel(session)))
    stores = catalog_service.list_locations(session, kind=LocationKind.STORE)
    categories = catalog_service.list_categories(session)
    category_names = {c.name for c in categories} | {c.name_en for c in categories if c.name_en}
    return {
        "traits": _options(sorted(known.traits)),
        "computed_traits": _options(sorted(known.computed_traits)),
        "events": _options(sorted(known.events)),
        "segments": [{"value": s.key, "label": gettext(s.name)} for s in segments_service.list_all(session)],
        "tags": segments_service.tag_names(session),
        "channels": _options(channels, gettext),
        "stores": [
            {"value": s.code, "label": s.name if locale == "zh_TW" else (s.name_en or s.name)} for s in stores
        ],
        "categories": sorted(category_names),
        "properties": list(PROPERTIES),
        # Labelled by the page's own words: these are the grammar's, not the store's.
        "consent_channels": list(definitions.CONSENT_CHANNELS),
        "reachable_channels": list(definitions.REACHABLE_CHANNELS),
        "max_depth": definitions.MAX_DEPTH,
        "max_window_days": definitions.MAX_WINDOW_DAYS,
        "currency": currency,
        "currency_digits": get_currency_precision(currency),
    }
