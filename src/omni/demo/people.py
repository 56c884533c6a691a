"""Simulated customers: who they truly are, and the messy ways their identity is written down."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from omni.demo.world import CATEGORIES

# (character, romanisation as Taiwanese passports spell it, share of the population in %).
FAMILY_NAMES = (
    ("陳", "Chen", 11.1), ("林", "Lin", 8.3), ("黃", "Huang", 6.0), ("張", "Chang", 5.3), ("李", "Lee", 5.1),
    ("王", "Wang", 4.1), ("吳", "Wu", 4.0), ("劉", "Liu", 3.2), ("蔡", "Tsai", 2.9), ("楊", "Yang", 2.7),
    ("許", "Hsu", 2.3), ("鄭", "Cheng", 1.9), ("謝", "Hsieh", 1.9), ("洪", "Hung", 1.5), ("郭", "Kuo", 1.5),
    ("邱", "Chiu", 1.4), ("曾", "Tseng", 1.4), ("廖", "Liao", 1.3), ("賴", "Lai", 1.3), ("徐", "Hsu", 1.2),
    ("周", "Chou", 1.2), ("葉", "Yeh", 1.1), ("蘇", "Su", 1.1), ("莊", "Chuang", 0.9), ("呂", "Lu", 0.8),
    ("江", "Chiang", 0.8), ("何", "Ho", 0.8), ("蕭", "Hsiao", 0.7), ("羅", "Lo", 0.7), ("高", "Kao", 0.7),
)  # fmt: skip
GIVEN_FIRST = {
    "f": "怡雅佳欣詩宜思婉家郁筱品心惠美佩靜子語玉",
    "m": "冠家志俊建承宇柏彥宗哲品信育文明家子偉政",
}
GIVEN_SECOND = {
    "f": "君婷穎怡涵蓁妤瑜妍筑雯玲珊晴萱庭潔慧琪蓉",
    "m": "宇豪明傑宏恩翔翰廷瑋睿誠銘軒安霖凱平賢勳",
}
ENGLISH_NAMES = {
    "f": ("Amy", "Vivian", "Grace", "Irene", "Joyce", "Tiffany", "Cindy", "Wendy", "Peggy", "Sandy",
          "Ivy", "Jenny", "Claire", "Emily", "Zoe", "Chloe", "Annie", "Yvonne", "Winnie", "Sharon", "Fiona",
          "Jessica", "Vicky", "Iris", "Ruby", "Tina", "Michelle", "Christine", "Angela", "Sophia"),
    "m": ("Kevin", "Jason", "Eric", "Allen", "Jack", "Leo", "Ryan", "Alex", "Andy", "Vincent", "Jerry",
          "Tony", "Frank", "Sam", "Ben", "Howard", "Peter", "Steven", "Henry", "Max", "Ian", "Victor",
          "Oscar", "Wayne", "Daniel", "Chris", "Brian", "Johnny", "Kenny", "Ray"),
}  # fmt: skip
HANDLE_WORDS = ("sunny", "cat", "mochi", "bubble", "tea", "panda", "happy", "star", "moon", "candy", "lucky",
                "kiwi", "coffee", "peach", "rain", "blue", "jelly", "tofu", "ocean", "maple")  # fmt: skip
# Characters a cashier confuses: same sound on a Zhuyin keyboard, or similar shape.
LOOKALIKE_PAIRS = (
    "怡宜", "婷庭", "雅亞", "佳嘉", "家佳", "欣馨", "君筠", "瑜渝", "涵含", "萱宣", "豪浩", "宇羽",
    "翔祥", "傑杰", "宏弘", "志智", "明銘", "廷庭", "哲喆", "俊峻", "黃王", "張章", "徐許", "林材",
    "玲鈴", "珊姍", "晴情", "琪祺", "偉瑋", "凱愷", "軒萱", "睿叡", "蓉榕", "陳陣",
)  # fmt: skip
LOOKALIKES = {pair[1]: pair[0] for pair in LOOKALIKE_PAIRS} | {pair[0]: pair[1] for pair in LOOKALIKE_PAIRS}
EMAIL_DOMAINS = (("gmail.com", 55), ("yahoo.com.tw", 18), ("hotmail.com", 8), ("outlook.com", 6),
                 ("icloud.com", 6), ("msa.hinet.net", 4), ("pchome.com.tw", 3))  # fmt: skip
JUNK_EMAILS = ("test@test.com", "123@gmail.com", "aaa@aaa.com", "no@email.com")
JUNK_PHONE = "0900-000-000"
# City, share of customers in %, nearest store, nearest click & collect store.
CITIES = (
    ("台北市", 24, "TPE-XINYI", "TPE-XINYI"), ("新北市", 14, "TPE-XINYI", "TPE-XINYI"),
    ("台中市", 13, "TXG-XITUN", "TXG-XITUN"), ("高雄市", 11, "KHH-QIANZHEN", "KHH-QIANZHEN"),
    ("桃園市", 10, "TYN-ZHONGLI", "TYN-ZHONGLI"), ("台南市", 8, "TNN-ZHONGXI", "KHH-QIANZHEN"),
    ("新竹市", 6, "HSZ-EAST", "HSZ-EAST"), ("基隆市", 2, "TPE-XINYI", "TPE-XINYI"),
    ("彰化縣", 3, "TXG-XITUN", "TXG-XITUN"), ("嘉義市", 2, "TNN-ZHONGXI", "KHH-QIANZHEN"),
    ("屏東縣", 2, "KHH-QIANZHEN", "KHH-QIANZHEN"), ("宜蘭縣", 2, "TPE-XINYI", "TPE-XINYI"),
    ("花蓮縣", 1, "TPE-XINYI", "TPE-XINYI"), ("苗栗縣", 2, "HSZ-EAST", "HSZ-EAST"),
)  # fmt: skip
# Taiwanese abroad keep shopping online; these zones have no daylight saving time.
ABROAD = (("Asia/Hong_Kong", 8), ("Asia/Singapore", 8), ("Asia/Tokyo", 9))
T = TypeVar("T")
TASTE = {
    "f": (20, 12, 14, 8, 10, 10, 10, 6, 10),
    "m": (28, 20, 0, 14, 16, 8, 8, 5, 1),
}


@dataclass(frozen=True, slots=True)
class Persona:
    """A channel mix: browsing sessions a month, orders a year per channel, and propensities."""

    key: str
    weight: float
    web_sessions: float
    app_sessions: float
    web_orders: float
    app_orders: float
    marketplace_orders: float
    store_orders: float
    click_and_collect: float
    member: float
    account: float
    spend: float


PERSONAS = (
    Persona("web_browser", 28, 0.27, 0.0, 0.2, 0.0, 0.0, 0.15, 0.1, 0.05, 0.25, 0.9),
    Persona("web_buyer", 12, 0.45, 0.05, 2.0, 0.1, 0.2, 0.4, 0.15, 0.3, 0.9, 1.0),
    Persona("app_user", 11, 0.1, 0.6, 0.3, 2.5, 0.0, 0.8, 0.2, 0.7, 1.0, 1.0),
    Persona("store_only", 25, 0.0, 0.0, 0.0, 0.0, 0.0, 2.6, 0.0, 0.45, 0.0, 1.0),
    Persona("marketplace", 9, 0.08, 0.0, 0.05, 0.0, 3.0, 0.1, 0.0, 0.03, 0.1, 0.8),
    Persona("omnichannel", 15, 0.35, 0.45, 1.5, 1.8, 0.3, 3.0, 0.35, 0.9, 1.0, 1.3),
)
ONLINE_PERSONAS = tuple(p for p in PERSONAS if p.store_orders < 1)


@dataclass(frozen=True, slots=True)
class Person:
    """One real customer, whatever identifiers the retailer's systems see."""

    index: int
    person_id: str
    family_name: str
    given_name: str
    english_name: str
    gender: str
    birthday: date
    home_city: str
    home_store: str
    pickup_store: str
    email: str
    phone: str
    persona: Persona
    timezone: str
    utc_offset_hours: int
    member_id: str | None
    member_since: date | None
    account_id: str | None
    account_since: date | None
    active_from: date
    active_until: date
    email_opt_in: bool
    sms_opt_in: bool
    push_opt_in: bool
    engagement: float
    writes_junk_email: bool
    marketplace_handle: str | None
    taste: tuple[float, ...]

    @property
    def name(self) -> str:
        """The full name as on an ID card: family name first, no space."""
        return self.family_name + self.given_name

    @property
    def member(self) -> bool:
        """Whether the person is or becomes a member within the simulated months."""
        return self.member_id is not None


def person_id(index: int) -> str:
    """The ground-truth id of the person at this index."""
    return f"P{index + 1:07d}"


@functools.cache
def _offset(seed: int, salt: int, modulus: int) -> int:
    return random.Random(f"omni-demo-scramble:{seed}:{salt}").randrange(modulus)


def scramble(index: int, seed: int, salt: int, modulus: int) -> int:
    """A bijection of [0, modulus) that looks random, so identifiers are unique without shared state."""
    # The multiplier is prime to 2 and 5, hence to every modulus used here (powers of 10 and 16).
    return (index * 7_654_321 + _offset(seed, salt, modulus)) % modulus


def _weighted(rng: random.Random, options: tuple[tuple[T, float], ...]) -> T:
    total = sum(weight for _, weight in options)
    point = rng.random() * total
    for option, weight in options:
        point -= weight
        if point < 0:
            return option
    return options[-1][0]


def _family(rng: random.Random) -> tuple[str, str]:
    character, romanised, _ = FAMILY_NAMES[
        _weighted(rng, tuple((i, share) for i, (_, _, share) in enumerate(FAMILY_NAMES)))
    ]
    return character, romanised


def _email(rng: random.Random, english: str, romanised: str, unique: int) -> str:
    domain = _weighted(rng, EMAIL_DOMAINS)
    style = rng.randrange(4)
    if style == 0:
        local = f"{english}.{romanised}{unique}"
    elif style == 1:
        local = f"{english}{romanised}{unique}"
    elif style == 2:
        local = f"{romanised}.{english[0]}{unique}"
    else:
        local = f"{rng.choice(HANDLE_WORDS)}_{rng.choice(HANDLE_WORDS)}{unique}"
    return f"{local}@{domain}".lower()


def _date_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange(max((last - first).days, 1)))


def _joined(
    rng: random.Random, chance: float, start: date, active_from: date, active_until: date
) -> date | None:
    if rng.random() >= chance:
        return None
    if active_from == start and rng.random() < 0.6:
        return start - timedelta(days=rng.randrange(30, 1800))
    return _date_between(rng, active_from, active_until)


def make_person(rng: random.Random, *, seed: int, index: int, start: date, end: date) -> Person:
    """Draw the person at index from their own random stream."""
    household = random.Random(f"omni-demo-household:{seed}:{index // 4}")
    family_email = household.random() < 0.03
    family_name, romanised = _family(household if family_email else rng)
    gender = "f" if rng.random() < 0.62 else "m"
    given = rng.choice(GIVEN_FIRST[gender]) + rng.choice(GIVEN_SECOND[gender])
    english = rng.choice(ENGLISH_NAMES[gender])
    if family_email and rng.random() < 0.6:
        email = f"{romanised}.family{scramble(index // 4, seed, 1, 1_000_000)}@gmail.com".lower()
    else:
        email = _email(rng, english, romanised, scramble(index, seed, 2, 1_000_000))
    abroad = rng.random() < 0.02
    timezone, offset = rng.choice(ABROAD) if abroad else ("Asia/Taipei", 8)
    personas = ONLINE_PERSONAS if abroad else PERSONAS
    persona = _weighted(rng, tuple((p, p.weight) for p in personas))
    city, _, home_store, pickup_store = _weighted(rng, tuple((c, float(c[1])) for c in CITIES))
    active_from = start if rng.random() < 0.55 else _date_between(rng, start, end - timedelta(days=14))
    active_until = end
    if rng.random() < 0.2:
        active_until = min(_date_between(rng, min(active_from + timedelta(days=30), end), end), end)
    member_since = _joined(rng, persona.member, start, active_from, active_until)
    account_since = _joined(rng, persona.account, start, active_from, active_until)
    age_days = int((18 + rng.betavariate(2.2, 4.0) * 55) * 365.25)
    taste = [weight * (0.3 + rng.random()) for weight in TASTE[gender]]
    cumulative = [sum(taste[: i + 1]) for i in range(len(CATEGORIES))]
    return Person(
        index=index,
        person_id=person_id(index),
        family_name=family_name,
        given_name=given,
        english_name=english,
        gender=gender,
        birthday=end - timedelta(days=age_days),
        home_city=city,
        home_store=home_store,
        pickup_store=pickup_store,
        email=email,
        phone=f"+8869{scramble(index, seed, 3, 100_000_000):08d}",
        persona=persona,
        timezone=timezone,
        utc_offset_hours=offset,
        member_id=f"M{scramble(index, seed, 4, 100_000_000):08d}" if member_since else None,
        member_since=member_since,
        account_id=f"c_{scramble(index, seed, 5, 16**10):010x}" if account_since else None,
        account_since=account_since,
        active_from=active_from,
        active_until=active_until,
        email_opt_in=rng.random() < 0.7,
        sms_opt_in=rng.random() < 0.45,
        push_opt_in=rng.random() < 0.6,
        engagement=0.05 + rng.betavariate(1.5, 3.5) * 0.6,
        writes_junk_email=rng.random() < 0.015,
        marketplace_handle=(
            f"{english.lower()}{rng.choice(HANDLE_WORDS)}{scramble(index, seed, 6, 1_000_000)}"
            if persona.marketplace_orders
            else None
        ),
        taste=tuple(cumulative),
    )


def national_phone(e164: str) -> str:
    """The Taiwanese national form of an E.164 mobile: +886912345678 -> 0912345678."""
    return "0" + e164[4:]


def written_phone(rng: random.Random, e164: str, *, formal: bool = False) -> str:
    """The phone number as a person or a cashier writes it."""
    n = national_phone(e164)
    choice = rng.random()
    if formal:
        choice = 0.2 + choice * 0.45
    if choice < 0.2:
        return n
    if choice < 0.45:
        return f"{n[:4]}-{n[4:7]}-{n[7:]}"
    if choice < 0.65:
        return e164
    if choice < 0.8:
        return f"886 {n[1:4]} {n[4:7]} {n[7:]}"
    if choice < 0.92:
        return f"{n[:4]} {n[4:7]} {n[7:]}"
    return f"+886 {n[1:4]}-{n[4:7]}-{n[7:]}"


def written_email(rng: random.Random, email: str) -> str:
    """The email as typed into a form: sometimes capitalised, shouted or padded with spaces."""
    choice = rng.random()
    if choice < 0.7:
        return email
    local, _, domain = email.partition("@")
    if choice < 0.85:
        capitalised = ".".join(part.capitalize() for part in local.split("."))
        return f" {capitalised}@{domain.capitalize()} "
    if choice < 0.93:
        return email.upper()
    return email + " "


def typed_name(rng: random.Random, person: Person) -> str:
    """The name as a cashier types it: now and then a swapped, missing or look-alike character."""
    choice = rng.random()
    family, given = person.family_name, person.given_name
    if choice < 0.7:
        return family + given
    if choice < 0.8:
        position = rng.randrange(len(given))
        character = given[position]
        given = given[:position] + LOOKALIKES.get(character, character) + given[position + 1 :]
        return family + given
    if choice < 0.85:
        return LOOKALIKES.get(family, family) + given
    if choice < 0.9:
        return family + given[::-1]
    if choice < 0.94:
        return family + given[rng.randrange(len(given))]
    if choice < 0.97:
        return family + ("小姐" if person.gender == "f" else "先生")
    return f"{family} {given}"
