"""The simulated retailer's fixed world: stores, warehouse, sales channels and catalogue."""

from __future__ import annotations

import random
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

TIMEZONE = "Asia/Taipei"
CURRENCY = "TWD"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# GS1 Taiwan's prefix is 471; the company number is made up.
GS1_COMPANY_PREFIX = "4719876"

Span = tuple[str, str]
ChannelKind = Literal["web", "app", "marketplace", "pos"]


@dataclass(frozen=True, slots=True)
class Store:
    code: str
    name: str
    name_en: str
    city: str
    address: str
    latitude: float
    longitude: float
    opening_hours: MappingProxyType[str, tuple[Span, ...]]
    click_and_collect: bool
    daily_pickup_capacity: int
    timezone: str = TIMEZONE


@dataclass(frozen=True, slots=True)
class Warehouse:
    code: str
    name: str
    name_en: str
    city: str
    address: str
    latitude: float
    longitude: float
    timezone: str = TIMEZONE


@dataclass(frozen=True, slots=True)
class SalesChannel:
    """Where an order is taken; `source` is the touchpoint name events carry."""

    code: str
    kind: ChannelKind
    name: str
    name_en: str
    source: str
    store_code: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    name: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Variant:
    sku: str
    barcode: str
    size: str
    colour: str
    colour_en: str


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str
    name_en: str
    category: str
    brand: str
    price_minor: int
    variants: tuple[Variant, ...]
    currency: str = CURRENCY


@dataclass(frozen=True)
class World:
    seed: int
    stores: tuple[Store, ...]
    warehouse: Warehouse
    channels: tuple[SalesChannel, ...]
    categories: tuple[Category, ...]
    products: tuple[Product, ...]

    def store(self, code: str) -> Store:
        """The store with this code."""
        return next(store for store in self.stores if store.code == code)

    def category(self, slug: str) -> Category:
        """The category with this slug."""
        return next(category for category in self.categories if category.slug == slug)


def _hours(
    weekday: Span, friday_saturday: Span, sunday: Span | None = None
) -> MappingProxyType[str, tuple[Span, ...]]:
    hours = dict.fromkeys(WEEKDAYS[:4], (weekday,))
    hours |= {"fri": (friday_saturday,), "sat": (friday_saturday,), "sun": (sunday or weekday,)}
    return MappingProxyType(hours)


# Coordinates are those of each city's main shopping district; the addresses are plausible, not real shops.
STORES = (
    Store("TPE-XINYI", "台北信義店", "Taipei Xinyi", "台北市", "台北市信義區松高路 19 號",
          25.0396, 121.5674, _hours(("11:00", "21:30"), ("11:00", "22:00")), True, 120),
    Store("TYN-ZHONGLI", "桃園中壢店", "Taoyuan Zhongli", "桃園市", "桃園市中壢區中正路 89 號",
          24.9537, 121.2256, _hours(("11:00", "21:30"), ("11:00", "22:00")), True, 60),
    Store("HSZ-EAST", "新竹東區店", "Hsinchu East", "新竹市", "新竹市東區中央路 229 號",
          24.8093, 120.9750, _hours(("11:00", "21:30"), ("10:30", "22:00"), ("10:30", "21:30")), True, 50),
    Store("TXG-XITUN", "台中西屯店", "Taichung Xitun", "台中市", "台中市西屯區台灣大道三段 251 號",
          24.1650, 120.6440, _hours(("11:00", "22:00"), ("11:00", "22:30")), True, 90),
    Store("TNN-ZHONGXI", "台南中西店", "Tainan West Central", "台南市", "台南市中西區西門路一段 658 號",
          22.9870, 120.1976, _hours(("11:00", "21:30"), ("11:00", "22:00")), False, 0),
    Store("KHH-QIANZHEN", "高雄前鎮店", "Kaohsiung Qianzhen", "高雄市", "高雄市前鎮區中華五路 789 號",
          22.5953, 120.3069, _hours(("11:00", "22:00"), ("10:30", "22:30"), ("10:30", "22:00")), True, 80),
)  # fmt: skip

WAREHOUSE = Warehouse(
    "WH-TAOYUAN",
    "桃園物流中心",
    "Taoyuan distribution centre",
    "桃園市",
    "桃園市觀音區工業五路 8 號",
    25.0352,
    121.1297,
)

CATEGORIES = (
    Category("tops", "上衣", "Tops"),
    Category("bottoms", "褲裝", "Bottoms"),
    Category("dresses", "洋裝", "Dresses"),
    Category("outerwear", "外套", "Outerwear"),
    Category("shoes", "鞋", "Shoes"),
    Category("bags", "包包", "Bags"),
    Category("accessories", "配件", "Accessories"),
    Category("home", "居家", "Home"),
    Category("beauty", "美妝", "Beauty"),
)

# (zh-TW, English, lowest price, highest price) in whole NT$.
ITEMS: dict[str, tuple[tuple[str, str, int, int], ...]] = {
    "tops": (("T恤", "tee", 390, 790), ("襯衫", "shirt", 790, 1490), ("針織衫", "knit top", 890, 1690),
             ("背心", "tank top", 390, 590), ("帽T", "hoodie", 990, 1590),
             ("POLO衫", "polo shirt", 690, 1190)),
    "bottoms": (("牛仔褲", "jeans", 1290, 2490), ("寬褲", "wide-leg trousers", 990, 1790),
                ("短褲", "shorts", 590, 990), ("西裝褲", "tailored trousers", 1290, 2290),
                ("運動褲", "joggers", 790, 1290), ("半身裙", "skirt", 790, 1490)),
    "dresses": (("洋裝", "dress", 1290, 2990), ("連身褲", "jumpsuit", 1490, 2490),
                ("襯衫洋裝", "shirt dress", 1190, 2290), ("針織洋裝", "knit dress", 1490, 2690)),
    "outerwear": (("羽絨外套", "down jacket", 2990, 4990), ("風衣", "trench coat", 2490, 4590),
                  ("牛仔外套", "denim jacket", 1690, 2690), ("西裝外套", "blazer", 1990, 3490),
                  ("針織外套", "cardigan", 1190, 1990)),
    "shoes": (("運動鞋", "sneakers", 1690, 3490), ("樂福鞋", "loafers", 1990, 3290),
              ("涼鞋", "sandals", 890, 1690), ("短靴", "ankle boots", 2490, 4290),
              ("拖鞋", "slides", 390, 890)),
    "bags": (("托特包", "tote bag", 990, 2490), ("後背包", "backpack", 1290, 2990),
             ("斜背包", "crossbody bag", 1190, 2690), ("帆布袋", "canvas bag", 490, 990),
             ("手拿包", "clutch", 890, 1790)),
    "accessories": (("棒球帽", "cap", 390, 890), ("圍巾", "scarf", 490, 1290),
                    ("襪子三入組", "socks 3-pack", 390, 490), ("皮帶", "belt", 590, 1290),
                    ("耳環", "earrings", 390, 990), ("太陽眼鏡", "sunglasses", 790, 1690)),
    "home": (("香氛蠟燭", "scented candle", 490, 1290), ("馬克杯", "mug", 390, 690),
             ("抱枕", "cushion", 590, 1190), ("毛巾組", "towel set", 390, 890),
             ("擴香瓶", "reed diffuser", 690, 1490), ("毯子", "throw", 990, 1990)),
    "beauty": (("護唇膏", "lip balm", 390, 490), ("護手霜", "hand cream", 390, 690),
               ("精華液", "serum", 990, 2490), ("面膜組", "sheet mask set", 390, 690),
               ("淡香精", "eau de parfum", 1490, 3990), ("身體乳", "body lotion", 490, 990)),
}  # fmt: skip

STYLES: dict[str, tuple[tuple[str, str], ...]] = {
    "apparel": (("棉質", "Cotton"), ("亞麻", "Linen"), ("寬鬆", "Relaxed"), ("修身", "Slim"),
                ("條紋", "Striped"), ("格紋", "Checked"), ("印花", "Printed"), ("基本款", "Essential"),
                ("復古", "Vintage"), ("機能", "Tech"), ("羊毛", "Wool"), ("涼感", "Cool-touch"),
                ("燈芯絨", "Corduroy"), ("緞面", "Satin"), ("城市", "City")),
    "goods": (("經典", "Classic"), ("輕量", "Lightweight"), ("皮革", "Leather"), ("極簡", "Minimal"),
              ("旅行", "Travel"), ("復古", "Vintage"), ("日常", "Everyday"), ("手工", "Handmade"),
              ("季節限定", "Seasonal"), ("山嵐", "Mountain mist")),
    "care": (("玫瑰", "Rose"), ("白茶", "White tea"), ("檜木", "Hinoki"), ("柚子", "Yuzu"),
             ("薰衣草", "Lavender"), ("經典", "Classic"), ("茉莉", "Jasmine"), ("烏龍", "Oolong"),
             ("海鹽", "Sea salt"), ("雪松", "Cedar")),
}  # fmt: skip
STYLE_OF = {"tops": "apparel", "bottoms": "apparel", "dresses": "apparel", "outerwear": "apparel",
            "shoes": "goods", "bags": "goods", "accessories": "goods", "home": "care",
            "beauty": "care"}  # fmt: skip
PRODUCTS_PER_CATEGORY = {"tops": 90, "bottoms": 70, "dresses": 45, "outerwear": 50, "shoes": 55, "bags": 45,
                         "accessories": 55, "home": 45, "beauty": 45}  # fmt: skip
BRANDS = {
    "apparel": ("Omni Basics", "Lumi", "山嵐 Sanlan", "Urban Trail"),
    "goods": ("Omni Basics", "Urban Trail", "Kiri", "山嵐 Sanlan"),
    "care": ("Kiri Home", "Hana Beauty", "山嵐 Sanlan"),
}
COLOURS = (("黑色", "Black", "BK"), ("白色", "White", "WH"), ("米白", "Ivory", "IV"),
           ("灰色", "Grey", "GY"), ("藏青", "Navy", "NV"), ("卡其", "Khaki", "KH"),
           ("燕麥", "Oatmeal", "OT"), ("橄欖綠", "Olive", "OL"), ("酒紅", "Burgundy", "BG"),
           ("淺藍", "Light blue", "LB"), ("粉紅", "Pink", "PK"), ("焦糖", "Caramel", "CM"))  # fmt: skip
NO_COLOUR = ("標準", "Standard", "ST")
APPAREL_SIZES = ("XS", "S", "M", "L", "XL")
SHOE_SIZES = ("22.5", "23", "23.5", "24", "24.5", "25", "25.5", "26", "26.5", "27", "27.5", "28")


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of the first twelve digits."""
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first12))
    return (10 - total % 10) % 10


def ean13(item_reference: int) -> str:
    """A valid EAN-13 under the retailer's GS1 company prefix."""
    first12 = f"{GS1_COMPANY_PREFIX}{item_reference:05d}"
    return first12 + str(ean13_check_digit(first12))


def _sizes(rng: random.Random, category: str, item_en: str) -> tuple[str, ...]:
    if category == "shoes" and item_en != "slides":
        low = rng.randrange(0, 5)
        return SHOE_SIZES[low : low + rng.randrange(5, 8)]
    if category in ("tops", "bottoms", "dresses", "outerwear"):
        return APPAREL_SIZES[rng.randrange(0, 2) : 5 - rng.randrange(0, 2)]
    if item_en in ("serum", "eau de parfum"):
        return ("30ml", "50ml")
    if item_en == "slides":
        return ("S", "M", "L")
    return ("F",)


def _price(rng: random.Random, low: int, high: int) -> int:
    # Taiwanese shelf prices end in 90: NT$390, NT$1,290.
    steps = (high - low) // 100
    return (low + 100 * rng.randint(0, steps)) * 100


def _catalogue(rng: random.Random) -> tuple[Product, ...]:
    products: list[Product] = []
    item_reference = 0
    for category in CATEGORIES:
        style = STYLE_OF[category.slug]
        combos = [(item, adj) for item in ITEMS[category.slug] for adj in STYLES[style]]
        rng.shuffle(combos)
        prefix = category.slug[:3].upper()
        for number in range(PRODUCTS_PER_CATEGORY[category.slug]):
            (item_zh, item_en, low, high), (adj_zh, adj_en) = combos[number % len(combos)]
            generation = number // len(combos)
            suffix_zh, suffix_en = (" 二代", " II") if generation else ("", "")
            product_id = f"{prefix}-{number + 1:04d}"
            colours = [NO_COLOUR] if style == "care" else rng.sample(COLOURS, rng.randint(1, 4))
            variants = []
            for colour, colour_en, colour_code in colours:
                for size in _sizes(rng, category.slug, item_en):
                    item_reference += 1
                    sku = f"{product_id}-{colour_code}-{size.upper().replace('.', '')}"
                    variants.append(Variant(sku, ean13(item_reference), size, colour, colour_en))
            products.append(
                Product(
                    product_id=product_id,
                    name=f"{adj_zh}{item_zh}{suffix_zh}",
                    name_en=f"{adj_en} {item_en}{suffix_en}",
                    category=category.slug,
                    brand=rng.choice(BRANDS[style]),
                    price_minor=_price(rng, low, high),
                    variants=tuple(variants),
                )
            )
    return tuple(products)


def _channels() -> tuple[SalesChannel, ...]:
    online = (
        SalesChannel("web", "web", "官方網路商店", "Web shop", "web"),
        SalesChannel("app", "app", "官方 App", "App", "app"),
        SalesChannel("marketplace", "marketplace", "蝦皮商城", "Shopee mall", "marketplace:shopee"),
    )
    tills = tuple(
        SalesChannel(f"pos:{s.code}", "pos", f"{s.name} POS", f"{s.name_en} POS", f"pos:{s.code}", s.code)
        for s in STORES
    )
    return online + tills


def build_world(seed: int) -> World:
    """Build the retailer's world; the catalogue depends only on the seed."""
    rng = random.Random(f"omni-demo-world:{seed}")
    return World(
        seed=seed,
        stores=STORES,
        warehouse=WAREHOUSE,
        channels=_channels(),
        categories=CATEGORIES,
        products=_catalogue(rng),
    )
