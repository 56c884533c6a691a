"""The shapes events take at each touchpoint: Segment payloads, product lines, browsers and app installs."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

from omni.demo.world import ITEMS, Product, Variant, World

EventType = Literal["identify", "track", "page", "screen", "alias"]
# Fixed so that message ids stay the same across releases: re-running a seed deduplicates in the log.
MESSAGE_NAMESPACE = uuid.UUID("0d5c8a3e-4f57-5b6c-9e61-7a0e3c2b9d14")
SHOP = "https://shop.omni.demo"
APP = {"name": "Omni 購物", "version": "4.12.0", "build": "41200", "namespace": "tw.omni.shop"}
ANALYTICS_JS = {"name": "analytics.js", "version": "next-1.70.0"}
POS_LIBRARY = {"name": "omni-pos", "version": "3.2.0"}
MARKETPLACE_INTEGRATION = {"name": "shopee-open-platform", "version": "2.0"}


class SimulatedEvent(TypedDict):
    """One message as a Segment SDK would POST it, plus the ground truth (ignored by ingestion).

    `channel` and `source` name the touchpoint; `truth_person_id` is the person behind the event and
    `truth_person` (on each person's first event only) their true facts, for the ground-truth writer.
    """

    type: EventType
    messageId: str
    timestamp: str
    channel: str
    source: str
    context: dict[str, Any]
    truth_person_id: str
    userId: NotRequired[str]
    anonymousId: NotRequired[str]
    previousId: NotRequired[str]
    event: NotRequired[str]
    name: NotRequired[str]
    properties: NotRequired[dict[str, Any]]
    traits: NotRequired[dict[str, Any]]
    truth_person: NotRequired[dict[str, Any]]


def message_id(seed: int, index: int, counter: int) -> str:
    """uuid5 of seed/person/counter, computed without building UUID objects (it is on the hot path)."""
    digest = hashlib.sha1(MESSAGE_NAMESPACE.bytes + f"{seed}/{index}/{counter}".encode()).hexdigest()
    variant = "89ab"[int(digest[16], 16) & 3]
    return f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-{variant}{digest[17:20]}-{digest[20:32]}"


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from the simulation's random stream."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(slots=True)
class Cart:
    cart_id: str
    lines: list[dict[str, Any]] = field(default_factory=list)


BROWSERS = (
    # (user agent, cookies capped at seven days by Safari's tracking prevention, weight)
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", True, 38),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
     "Mobile Safari/537.36", False, 27),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
     "Safari/537.36", False, 22),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Safari/605.1.15", True, 8),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36", False, 5),
)  # fmt: skip
DEVICES = (
    # (manufacturer, model, os name, os version, weight)
    ("Apple", "iPhone15,2", "iOS", "17.5", 45), ("Apple", "iPhone14,5", "iOS", "17.4", 15),
    ("Samsung", "SM-S918B", "Android", "14", 16), ("ASUS", "ASUS_AI2302", "Android", "14", 8),
    ("Google", "Pixel 8", "Android", "14", 6), ("OPPO", "CPH2581", "Android", "14", 10),
)  # fmt: skip


@dataclass(slots=True)
class Browser:
    """One browser of a person: its cookie (anonymous id), whether someone logged in, and its cart."""

    user_agent: str
    capped_cookies: bool
    anonymous_id: str
    last_visit_ms: int = -(10**15)
    logged_in: bool = False
    cart: Cart | None = None


@dataclass(slots=True)
class AppInstall:
    """The app on one phone: its device id and the SDK's anonymous id, both new after a reinstall."""

    device: dict[str, str]
    os: dict[str, str]
    anonymous_id: str
    installed_ms: int
    logged_in: bool = False
    cart: Cart | None = None


def new_browser(rng: random.Random) -> Browser:
    """A browser drawn by Taiwan's market shares, with a fresh cookie."""
    point = rng.random() * sum(weight for *_, weight in BROWSERS)
    for user_agent, capped, weight in BROWSERS:
        point -= weight
        if point < 0:
            return Browser(user_agent, capped, random_uuid(rng))
    return Browser(BROWSERS[0][0], BROWSERS[0][1], random_uuid(rng))


def new_app_install(rng: random.Random, installed_ms: int) -> AppInstall:
    """A fresh install of the app on a phone drawn by Taiwan's market shares."""
    point = rng.random() * sum(device[-1] for device in DEVICES)
    chosen = DEVICES[-1]
    for device in DEVICES:
        point -= device[-1]
        if point < 0:
            chosen = device
            break
    manufacturer, model, os_name, os_version, _ = chosen
    # iOS reports the vendor id (an upper-case UUID), Android the 64-bit ANDROID_ID in hex.
    device_id = random_uuid(rng).upper() if os_name == "iOS" else f"{rng.getrandbits(64):016x}"
    return AppInstall(
        device={"id": device_id, "manufacturer": manufacturer, "model": model, "type": os_name.lower()},
        os={"name": os_name, "version": os_version},
        anonymous_id=random_uuid(rng),
        installed_ms=installed_ms,
    )


class Catalogue:
    """The catalogue as event properties, precomputed once: products are drawn per event."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_category: list[list[Product]] = [
            [p for p in world.products if p.category == c.slug] for c in world.categories
        ]
        self.category_names = {c.slug: c.name for c in world.categories}
        self.searches = [[item[0] for item in ITEMS[c.slug]] for c in world.categories]
        self._viewed: dict[str, dict[str, Any]] = {}
        self._lines: dict[str, dict[str, Any]] = {}
        for product in world.products:
            for variant in product.variants:
                line = self._line(product, variant)
                self._lines[variant.sku] = line
                self._viewed[variant.sku] = {**line, "currency": product.currency, "url": self.url(product)}

    def _line(self, product: Product, variant: Variant) -> dict[str, Any]:
        return {
            "product_id": product.product_id,
            "sku": variant.sku,
            "name": product.name,
            "category": self.category_names[product.category],
            "brand": product.brand,
            "variant": variant.colour,
            "size": variant.size,
            "price": product.price_minor / 100,
            "price_minor": product.price_minor,
        }

    @staticmethod
    def url(product: Product) -> str:
        """The product page's address in the web shop."""
        return f"{SHOP}/products/{product.product_id.lower()}"

    def pick(self, rng: random.Random, taste: tuple[float, ...]) -> tuple[Product, Variant]:
        """A product a person with this taste looks at: popular products far more often."""
        point = rng.random() * taste[-1]
        category = 0
        while taste[category] <= point:
            category += 1
        products = self.by_category[category]
        product = products[int(len(products) * rng.random() ** 2.2)]
        return product, product.variants[rng.randrange(len(product.variants))]

    def search(self, rng: random.Random, taste: tuple[float, ...]) -> str:
        """What a person types into the search box."""
        point = rng.random() * taste[-1]
        category = 0
        while taste[category] <= point:
            category += 1
        return rng.choice(self.searches[category])

    def viewed(self, variant: Variant) -> dict[str, Any]:
        """Properties of Product Viewed / Product Added for the variant (a fresh dict)."""
        return dict(self._viewed[variant.sku])

    def line(self, variant: Variant, quantity: int) -> dict[str, Any]:
        """One entry of an order's products[]."""
        return {**self._lines[variant.sku], "quantity": quantity}
