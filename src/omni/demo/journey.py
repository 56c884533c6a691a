"""One person's year, told as the events each touchpoint records: sessions, orders and their aftermath."""

from __future__ import annotations

import heapq
import random
from typing import Any

from omni.demo.people import (
    JUNK_EMAILS,
    Person,
    scramble,
    written_email,
    written_phone,
)
from omni.demo.retail_calendar import DAY_MS, MINUTE_MS, Calendar, Campaign
from omni.demo.touchpoints import (
    ANALYTICS_JS,
    APP,
    POS_LIBRARY,
    AppInstall,
    Browser,
    Catalogue,
    EventType,
    SimulatedEvent,
    message_id,
    new_app_install,
    new_browser,
    random_uuid,
)
from omni.demo.world import WEEKDAYS, World

SECOND_MS = 1000
PAYMENTS = ("credit_card", "line_pay", "jko_pay", "apple_pay", "cash_on_delivery")
STORE_PAYMENTS = ("credit_card", "cash", "line_pay", "easycard", "jko_pay")
FREE_SHIPPING_FROM_MINOR = 99_000
SHIPPING_MINOR = 8_000
MARKETPLACE_SHIPPING_MINOR = 6_000


def opening_minutes(world: World) -> dict[str, list[tuple[int, int]]]:
    """Each store's first opening and last closing minute, by weekday (Monday first)."""

    def minute(text: str) -> int:
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)

    return {
        store.code: [
            (minute(store.opening_hours[day][0][0]), minute(store.opening_hours[day][-1][1]))
            for day in WEEKDAYS
        ]
        for store in world.stores
    }


class Journey:
    """The state of one person's identifiers across touchpoints, and the events they leave behind."""

    def __init__(
        self,
        person: Person,
        rng: random.Random,
        *,
        seed: int,
        calendar: Calendar,
        catalogue: Catalogue,
        hours: dict[str, list[tuple[int, int]]],
    ) -> None:
        self.person = person
        self.rng = rng
        self.seed = seed
        self.calendar = calendar
        self.catalogue = catalogue
        self.hours = hours
        self.events: list[tuple[int, int, SimulatedEvent]] = []
        self.pending: list[tuple[int, int, str, dict[str, Any]]] = []
        self.end_ms = calendar.days * DAY_MS
        self.browsers = [new_browser(rng)]
        if rng.random() < 0.35:
            self.browsers.append(new_browser(rng))
        self.app: AppInstall | None = None
        start = calendar.start
        self.account_open = person.account_since is not None and person.account_since < start
        self.member_joined = person.member_since is not None and person.member_since < start
        self.crm_email = written_email(rng, person.email)
        self.crm_phone = written_phone(rng, person.phone, formal=True)
        self.orders = 0
        self._sequence = 0
        self.spend = person.persona.spend * rng.lognormvariate(0, 0.25)

    def emit(
        self,
        at: int,
        kind: EventType,
        context: dict[str, Any],
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        event: str | None = None,
        name: str | None = None,
        properties: dict[str, Any] | None = None,
        traits: dict[str, Any] | None = None,
        previous_id: str | None = None,
    ) -> None:
        """Record one message at a local time, unless it falls after the simulated months.

        The touchpoint (`channel`, `source`) is the context's.
        """
        if at >= self.end_ms:
            return
        counter = len(self.events)
        utc = self.calendar.utc_ms(at, self.person.utc_offset_hours)
        payload: SimulatedEvent = {
            "type": kind,
            "messageId": message_id(self.seed, self.person.index, counter),
            "timestamp": self.calendar.iso(utc),
            "channel": context["channel"],
            "source": context["source"],
            "context": context,
            "truth_person_id": self.person.person_id,
        }
        if user_id:
            payload["userId"] = user_id
        if anonymous_id:
            payload["anonymousId"] = anonymous_id
        if previous_id:
            payload["previousId"] = previous_id
        if event:
            payload["event"] = event
        if name:
            payload["name"] = name
        if properties is not None:
            payload["properties"] = properties
        if traits is not None:
            payload["traits"] = traits
        self.events.append((utc, counter, payload))

    def later(self, at: int, kind: str, details: dict[str, Any]) -> None:
        """Schedule a follow-up (pickup, refund) at a local time."""
        self._sequence += 1
        heapq.heappush(self.pending, (at, self._sequence, kind, details))

    def step(self, at: int, low: int = 4, high: int = 75) -> int:
        """A moment a few seconds later."""
        return at + self.rng.randint(low, high) * SECOND_MS

    def store_time(self, code: str, day: int) -> int:
        """A local time within the store's opening hours, busier towards the evening."""
        opens, closes = self.hours[code][self.calendar.dates[day].weekday()]
        minute = opens + int((closes - opens - 15) * self.rng.random() ** 0.8)
        return day * DAY_MS + minute * MINUTE_MS + self.rng.randrange(60) * SECOND_MS

    def order_id(self, prefix: str, at: int) -> str:
        """A shop-style order number, unique across people: prefix, local date, person code, sequence."""
        self.orders += 1
        day = self.calendar.dates[min(at // DAY_MS, self.calendar.days - 1)]
        return (
            f"{prefix}{day:%y%m%d}{scramble(self.person.index, self.seed, 7, 1_000_000):06d}{self.orders:02d}"
        )

    def basket_size(self) -> int:
        """How many different products go into one order: more for big spenders."""
        count = 1
        while count < 6 and self.rng.random() < 0.36 * self.spend:
            count += 1
        return count

    def basket(self) -> list[dict[str, Any]]:
        """Products[] lines of an order in a store or on the marketplace."""
        rng = self.rng
        return [
            self.catalogue.line(
                self.catalogue.pick(rng, self.person.taste)[1], 2 if rng.random() < 0.08 else 1
            )
            for _ in range(self.basket_size())
        ]

    def amounts(self, lines: list[dict[str, Any]], at: int, shipping_minor: int) -> dict[str, Any]:
        """Subtotal, discount, shipping, total and revenue, in TWD and in minor units."""
        subtotal = sum(line["price_minor"] * line["quantity"] for line in lines)
        sale = self.calendar.sales.get(at // DAY_MS)
        discount = subtotal * sale[1] // 10_000 * 100 if sale else 0
        revenue = subtotal - discount
        total = revenue + shipping_minor
        amounts: dict[str, Any] = {
            "subtotal": subtotal / 100,
            "discount": discount / 100,
            "shipping": shipping_minor / 100,
            "tax": 0,
            "total": total / 100,
            "revenue": revenue / 100,
            "currency": "TWD",
            "total_minor": total,
            "revenue_minor": revenue,
            "discount_minor": discount,
        }
        if sale:
            amounts["coupon"] = sale[0]
        return amounts

    def typed_email(self) -> str:
        """The email as typed into a form; a few people type junk."""
        if self.person.writes_junk_email and self.rng.random() < 0.5:
            return self.rng.choice(JUNK_EMAILS)
        return written_email(self.rng, self.person.email)

    def online_identity(self, device: Browser | AppInstall) -> tuple[str | None, str]:
        """(userId, anonymousId) an SDK sends from this browser or app."""
        user_id = self.person.account_id if device.logged_in else None
        return user_id, device.anonymous_id

    def register_account(self, at: int, device: Browser | AppInstall, context: dict[str, Any]) -> int:
        """Create the online account from this browser or app: Signed Up, alias and identify."""
        account_id = self.person.account_id
        assert account_id is not None
        email = self.typed_email()
        if not self.member_joined:
            self.crm_email = email
        self.account_open = device.logged_in = True
        anonymous_id = device.anonymous_id
        properties = {"type": "account", "method": "email"}
        self.emit(at, "track", context, user_id=account_id, anonymous_id=anonymous_id, event="Signed Up",
                  properties=properties)  # fmt: skip
        at = self.step(at, 1, 3)
        self.emit(at, "alias", context, user_id=account_id, previous_id=anonymous_id)
        traits = {
            "email": email,
            "name": self.person.name,
            "phone": written_phone(self.rng, self.person.phone),
        }
        if self.member_joined and self.person.member_id:
            traits["member_id"] = self.person.member_id
        at = self.step(at, 1, 3)
        self.emit(at, "identify", context, user_id=account_id, anonymous_id=anonymous_id, traits=traits)
        return at

    def log_in(self, at: int, device: Browser | AppInstall, context: dict[str, Any]) -> int:
        """Log in on this browser or app (creating the account on first use): Signed In and identify."""
        if not self.account_open:
            return self.register_account(at, device, context)
        device.logged_in = True
        user_id, anonymous_id = self.online_identity(device)
        self.emit(at, "track", context, user_id=user_id, anonymous_id=anonymous_id, event="Signed In",
                  properties={"method": "email"})  # fmt: skip
        traits: dict[str, Any] = {"email": written_email(self.rng, self.person.email)}
        if self.member_joined and self.person.member_id:
            traits["member_id"] = self.person.member_id
        at = self.step(at, 1, 3)
        self.emit(at, "identify", context, user_id=user_id, anonymous_id=anonymous_id, traits=traits)
        return at

    def pick_browser(self, at: int, *, mobile: bool = False) -> Browser:
        """The browser used now; Safari drops a cookie unused for 7 days, others are cleared now and then."""
        browser = self.browsers[0] if mobile or self.rng.random() < 0.7 else self.browsers[-1]
        stale = browser.capped_cookies and at - browser.last_visit_ms > 7 * DAY_MS
        if stale or self.rng.random() < 0.03:
            browser.anonymous_id, browser.logged_in, browser.cart = random_uuid(self.rng), False, None
        browser.last_visit_ms = at
        return browser

    def app_install(self, at: int) -> tuple[AppInstall, bool]:
        """The person's app install; a new phone or a reinstall brings new device and anonymous ids."""
        if self.app is None or self.rng.random() < 0.01:
            self.app = new_app_install(self.rng, at)
            return self.app, True
        return self.app, False

    def store_context(self, store: str) -> dict[str, Any]:
        """Context of an event from a store's till."""
        return {"channel": "pos", "source": f"pos:{store}", "store_code": store, "library": POS_LIBRARY}

    def app_screen(self, at: int, name: str, properties: dict[str, Any] | None = None) -> None:
        """A screen view in the app, if the person has it."""
        if self.app is None:
            return
        user_id, anonymous_id = self.online_identity(self.app)
        properties = properties or {"name": name}
        context = self.app_context(self.app)
        self.emit(
            at,
            "screen",
            context,
            user_id=user_id,
            anonymous_id=anonymous_id,
            name=name,
            properties=properties,
        )

    def app_context(
        self, app: AppInstall, campaign: Campaign | None = None, channel: str = "app"
    ) -> dict[str, Any]:
        """Context a mobile SDK sends: device, app, OS."""
        context = {
            "channel": channel,
            "source": "app",
            "device": dict(app.device),
            "app": APP,
            "os": app.os,
            "locale": "zh-TW",
            "library": {
                "name": "analytics-swift" if app.os["name"] == "iOS" else "analytics-kotlin",
                "version": "1.5.11",
            },
        }
        if campaign:
            context["campaign"] = {"name": campaign.campaign_id, "source": campaign.channel, "medium": "push"}
        return context

    def web_context(
        self, browser: Browser, page: dict[str, Any], campaign: Campaign | None
    ) -> dict[str, Any]:
        """Context analytics.js sends: the page, user agent and campaign."""
        context = {
            "channel": "web",
            "source": "web",
            "page": page,
            "userAgent": browser.user_agent,
            "locale": "zh-TW",
            "library": ANALYTICS_JS,
        }
        if campaign:
            context["campaign"] = {
                "name": campaign.campaign_id,
                "source": campaign.channel,
                "medium": campaign.channel,
            }
        return context
