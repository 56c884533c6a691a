"""Visits to the web shop and the app, joining the membership, and answering marketing messages."""

from __future__ import annotations

from typing import Any, Literal

from omni.demo.journey import SECOND_MS, Journey
from omni.demo.people import JUNK_EMAILS, Person, typed_name, written_phone
from omni.demo.purchases import after_order, store_order
from omni.demo.retail_calendar import DAY_MS, HOUR_MS, MINUTE_MS, Campaign
from omni.demo.touchpoints import APP, SHOP, AppInstall, Browser, Cart, EventType
from omni.demo.world import Product

Channel = Literal["web", "app"]
PAYMENTS = ("credit_card", "line_pay", "jko_pay", "apple_pay", "cash_on_delivery")
FREE_SHIPPING_FROM_MINOR = 99_000
SHIPPING_MINOR = 8_000
REFERRERS = (
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "https://line.me/",
    "",
    "",
)


def _page(path: str, title: str, referrer: str = "") -> dict[str, Any]:
    return {"path": path, "url": SHOP + path, "title": f"{title}｜Omni", "referrer": referrer}


class Visit:
    """One session on the web shop or in the app: its device, identity and clock."""

    def __init__(self, journey: Journey, at: int, channel: Channel, campaign: Campaign | None) -> None:
        self.journey = journey
        self.at = at
        self.channel = channel
        self.campaign = campaign
        self.page: dict[str, Any] = {}
        self.device: Browser | AppInstall
        if channel == "web":
            self.device = journey.pick_browser(at, mobile=campaign is not None)
            self.context = journey.web_context(self.device, self.page, campaign)
        else:
            app, installed = journey.app_install(at)
            self.device = app
            self.context = journey.app_context(app, campaign)
            if installed:
                self.track("Application Installed", {"version": APP["version"], "build": APP["build"]})
            if installed or journey.rng.random() < 0.5:
                self.track("Application Opened", {"from_background": not installed})

    def tick(self, low: int = 4, high: int = 75) -> None:
        """Let a few seconds pass, as between clicks."""
        self.at += self.journey.rng.randint(low, high) * SECOND_MS

    def _send(self, kind: EventType, **fields: Any) -> None:
        user_id, anonymous_id = self.journey.online_identity(self.device)
        self.journey.emit(self.at, kind, self.context, user_id=user_id, anonymous_id=anonymous_id, **fields)

    def view(self, name: str, path: str, title: str, referrer: str = "", **extra: Any) -> None:
        """A page view on the web, a screen view in the app."""
        if isinstance(self.device, Browser):
            self.page = _page(path, title, referrer)
            self.context = self.journey.web_context(self.device, self.page, self.campaign)
            self._send("page", name=name, properties={**self.page, **extra})
        else:
            self._send("screen", name=name, properties={"name": name, **extra})
        self.tick()

    def track(self, event: str, properties: dict[str, Any]) -> None:
        """A track call from this session."""
        self._send("track", event=event, properties=properties)
        self.tick()

    def identify(self, traits: dict[str, Any]) -> None:
        """An identify call from this session."""
        self._send("identify", traits=traits)
        self.tick(1, 3)

    def log_in(self) -> None:
        """Log in (registering on first use)."""
        self.at = self.journey.log_in(self.at, self.device, self.context) + SECOND_MS

    def view_product(self, product: Product, properties: dict[str, Any]) -> None:
        """Open a product page and the Product Viewed that comes with it."""
        self.view("Product", f"/products/{product.product_id.lower()}", product.name)
        self.track("Product Viewed", properties)


def shop(journey: Journey, at: int, channel: Channel, *, buy: bool, campaign: Campaign | None = None) -> None:
    """A visit: land, maybe log in and search, view products, fill the cart, and check out or walk away."""
    rng, person, catalogue = journey.rng, journey.person, journey.catalogue
    visit = Visit(journey, at, channel, campaign)
    landing = rng.random()
    if campaign:
        visit.view("Campaign", campaign.url[len(SHOP) :], campaign.name, campaign=campaign.campaign_id)
    elif landing < 0.45:
        visit.view("Home", "/", "Omni 官方網路商店", rng.choice(REFERRERS))
    else:
        category = catalogue.pick(rng, person.taste)[0].category
        name = catalogue.category_names[category]
        visit.view("Category", f"/categories/{category}", name, rng.choice(REFERRERS), category=name)
    if person.account_id and not visit.device.logged_in:
        if buy:
            chance = 0.95 if channel == "app" else 0.85 if journey.account_open else 0.25
        else:
            chance = 0.08 if journey.account_open else 0.0
        if rng.random() < chance:
            visit.log_in()
    if rng.random() < 0.25:
        query = catalogue.search(rng, person.taste)
        visit.track("Products Searched", {"query": query})
        visit.view("Search Results", f"/search?q={query}", f"搜尋：{query}")
    views = 1 if buy else 1 + sum(1 for _ in range(4) if rng.random() < 0.35)
    picked = [catalogue.pick(rng, person.taste) for _ in range(views)]
    for product, variant in picked:
        visit.view_product(product, catalogue.viewed(variant))
    if not buy and rng.random() >= 0.15:
        return
    cart = visit.device.cart
    if cart is None:
        cart = visit.device.cart = Cart(f"{rng.getrandbits(64):016x}")
    chosen = picked if buy else picked[:1]
    if buy:
        chosen += [catalogue.pick(rng, person.taste) for _ in range(journey.basket_size() - 1)]
    for _, variant in chosen:
        quantity = 2 if rng.random() < 0.08 else 1
        visit.track(
            "Product Added", {**catalogue.viewed(variant), "cart_id": cart.cart_id, "quantity": quantity}
        )
        cart.lines.append(catalogue.line(variant, quantity))
    if not buy and rng.random() >= 0.3:
        return
    checkout(journey, visit, cart, complete=buy)


def checkout(journey: Journey, visit: Visit, cart: Cart, *, complete: bool) -> None:
    """Check out the cart; a completed order empties it, an abandoned one keeps it for next time."""
    rng, person = journey.rng, journey.person
    visit.view("Checkout", "/checkout", "結帳")
    prefix = "W" if visit.channel == "web" else "A"
    order_id = journey.order_id(prefix, visit.at)
    lines = list(cart.lines)
    subtotal = sum(line["price_minor"] * line["quantity"] for line in lines)
    collect = complete and rng.random() < person.persona.click_and_collect
    shipping = 0 if collect or subtotal >= FREE_SHIPPING_FROM_MINOR else SHIPPING_MINOR
    amounts = journey.amounts(lines, visit.at, shipping)
    visit.track(
        "Checkout Started",
        {
            "order_id": order_id,
            "cart_id": cart.cart_id,
            "value": amounts["subtotal"],
            **amounts,
            "products": lines,
        },
    )
    if not complete:
        return
    if not visit.device.logged_in:
        traits = {
            "email": journey.typed_email(),
            "phone": written_phone(rng, person.phone),
            "name": person.name if rng.random() < 0.97 else typed_name(rng, person),
        }
        visit.identify(traits)
    fulfilment = "click_and_collect" if collect else "ship"
    properties = {
        "order_id": order_id,
        "cart_id": cart.cart_id,
        "affiliation": visit.channel,
        "fulfilment": fulfilment,
        "payment_method": rng.choice(PAYMENTS),
        **amounts,
        "products": lines,
    }
    if collect:
        properties["pickup_store"] = person.pickup_store
    ordered_at = visit.at
    visit.track("Order Completed", properties)
    visit.device.cart = None
    visit.view("Order Confirmation", f"/orders/{order_id}", "訂單完成")
    user_id, anonymous_id = journey.online_identity(visit.device)
    details = {
        "order_id": order_id,
        "fulfilment": fulfilment,
        "channel": visit.channel,
        "source": visit.channel,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "products": lines,
        "total_minor": amounts["total_minor"],
        "store": person.pickup_store if collect else None,
    }
    after_order(journey, ordered_at, details, return_rate=0.12)


def open_account(journey: Journey, at: int, channel: Channel) -> None:
    """Register an online account in a visit of its own."""
    if journey.account_open or journey.person.account_id is None:
        return
    visit = Visit(journey, at, channel, None)
    visit.view("Register", "/account/register", "加入會員", journey.rng.choice(REFERRERS))
    visit.log_in()


def join_membership(journey: Journey, at: int, where: Literal["store", "web", "app"]) -> None:
    """Join the membership at a till (staff type the details) or online (the person does)."""
    person, rng = journey.person, journey.rng
    member_id = person.member_id
    if journey.member_joined or member_id is None:
        return
    journey.member_joined = True
    crm = {"channel": "crm", "source": "crm"}
    birthday = person.birthday.isoformat()
    if where == "store" or person.account_id is None:
        store = person.home_store
        properties = {"type": "membership", "method": "store", "member_id": member_id, "store_code": store}
        context = journey.store_context(store)
        journey.emit(at, "track", context, user_id=member_id, event="Signed Up", properties=properties)
        journey.crm_email = journey.typed_email()
        journey.crm_phone = written_phone(rng, person.phone)
        traits = {"name": typed_name(rng, person), "email": journey.crm_email, "phone": journey.crm_phone,
                  "birthday": birthday, "member_id": member_id, "home_store": store,
                  **_opt_ins(person)}  # fmt: skip
        journey.emit(at + 90 * SECOND_MS, "identify", crm, user_id=member_id, traits=traits)
        if rng.random() < 0.8:
            store_order(journey, at + 4 * MINUTE_MS, store)
        return
    visit = Visit(journey, at, where, None)
    visit.view("Membership", "/member/join", "加入會員", rng.choice(REFERRERS))
    if not visit.device.logged_in:
        visit.log_in()
    visit.identify({"member_id": member_id, "phone": written_phone(rng, person.phone), "birthday": birthday})
    visit.track("Signed Up", {"type": "membership", "method": where, "member_id": member_id})
    traits = {"name": person.name, "email": journey.crm_email, "phone": journey.crm_phone,
              "birthday": birthday, "member_id": member_id, **_opt_ins(person)}  # fmt: skip
    journey.emit(visit.at, "identify", crm, user_id=member_id, traits=traits)


def _opt_ins(person: Person) -> dict[str, bool]:
    # The membership form asks for marketing by email and by SMS; the CRM passes the answers on as traits.
    return {"email_opt_in": person.email_opt_in, "sms_opt_in": person.sms_opt_in}


def receive(journey: Journey, campaign: Campaign) -> None:
    """A campaign message reaches the person if they can be reached; they may open it, click, and visit."""
    person, rng = journey.person, journey.rng
    at = campaign.day * DAY_MS + campaign.minute * MINUTE_MS + (person.utc_offset_hours - 8) * HOUR_MS
    at += rng.randint(1, 900) * SECOND_MS
    interest = person.engagement * (1.3 if campaign.sale else 1.0)
    buys_online = person.persona.web_orders + person.persona.app_orders >= 0.5
    properties: dict[str, Any] = {"campaign_id": campaign.campaign_id, "campaign_name": campaign.name}
    if campaign.channel == "push":
        app = journey.app
        if app is None or not person.push_opt_in or app.installed_ms > at or rng.random() >= interest * 0.5:
            return
        user_id, anonymous_id = journey.online_identity(app)
        properties["campaign"] = {"name": campaign.name, "source": "crm", "medium": "push"}
        context = journey.app_context(app, campaign, channel="push")
        journey.emit(at, "track", context, user_id=user_id, anonymous_id=anonymous_id,
                     event="Push Notification Opened", properties=properties)  # fmt: skip
        shop(journey, at + 2 * SECOND_MS, "app", buy=buys_online and rng.random() < 0.1, campaign=campaign)
        return
    user_id = person.member_id if journey.member_joined else None
    if user_id is None and journey.account_open:
        user_id = person.account_id
    if user_id is None:
        return
    if campaign.channel == "email":
        if not person.email_opt_in or journey.crm_email.strip().lower() in JUNK_EMAILS:
            return
        context = {"channel": "email", "source": "crm", "traits": {"email": journey.crm_email}}
        properties["email_id"] = f"{campaign.campaign_id}-{rng.getrandbits(40):010x}"
        properties["email_subject"] = campaign.name
        journey.emit(at, "track", context, user_id=user_id, event="Email Delivered", properties=properties)
        if rng.random() >= interest:
            return
        at += min(int(rng.expovariate(1 / (3 * HOUR_MS))), 3 * DAY_MS)
        journey.emit(at, "track", context, user_id=user_id, event="Email Opened", properties=properties)
        clicked, event = rng.random() < 0.2, "Email Link Clicked"
    else:
        if not (person.sms_opt_in and journey.member_joined):
            return
        context = {"channel": "sms", "source": "crm", "traits": {"phone": journey.crm_phone}}
        journey.emit(at, "track", context, user_id=user_id, event="SMS Delivered", properties=properties)
        clicked, event = rng.random() < interest * 0.25, "SMS Link Clicked"
    if not clicked:
        return
    at += rng.randint(5, 120) * SECOND_MS
    clicked_properties = {**properties, "link_url": campaign.url}
    journey.emit(at, "track", context, user_id=user_id, event=event, properties=clicked_properties)
    shop(journey, at + 3 * SECOND_MS, "web", buy=buys_online and rng.random() < 0.12, campaign=campaign)
