"""Languages of the dashboard: gettext catalogues from .po files, and the locale's formats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import Translations

LOCALES = ("zh_TW", "en")
LOCALE_NAMES = {"zh_TW": "繁體中文", "en": "English"}
LOCALES_DIR = Path(__file__).parent / "locales"
# Prices in these currencies are shown without decimals even where ISO 4217 gives them two.
WHOLE_UNIT_CURRENCIES = frozenset({"TWD", "JPY", "KRW"})
# CLDR writes TWD as a bare "$" in zh_TW; next to US$ and HK$ prices it must read NT$ in every language.
CURRENCY_SYMBOLS = {"TWD": "NT$"}


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    """The compiled catalogue of locale; English is the source language and needs none."""
    path = LOCALES_DIR / f"{locale}.po"
    if not path.exists():
        return Translations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The locale to show: the chosen one, else the browser's preference, else the default."""
    if cookie in LOCALES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_").lower()
        if tag.startswith("zh"):
            return "zh_TW"
        if tag.startswith("en"):
            return "en"
    return default


class Formats:
    """Numbers, money and times as people of locale write them."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale
        self.zone = ZoneInfo(timezone)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, minor: int, currency: str) -> str:
        amount = Decimal(minor).scaleb(-get_currency_precision(currency))
        if currency in WHOLE_UNIT_CURRENCIES:
            symbol = CURRENCY_SYMBOLS.get(currency)
            pattern = f"'{symbol}'#,##0" if symbol else "¤#,##0"
            return format_currency(
                amount, currency, format=pattern, locale=self.locale, currency_digits=False
            )
        return format_currency(amount, currency, locale=self.locale)

    def amount(self, value: float | int | Decimal | None, currency: str) -> str:
        """A spec event's decimal amount (Segment sends revenue in major units)."""
        if value is None:
            return "–"
        minor = int(Decimal(str(value)).scaleb(get_currency_precision(currency)))
        return self.money(minor, currency)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return format_datetime(value.astimezone(self.zone), format="short", locale=self.locale)
