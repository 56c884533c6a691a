from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from omni.accounts.roles import Role
from omni.catalog.schemas import WEEKDAYS, LocationKind
from omni.events.schemas import SourceKind
from omni.segments.predefined import LABELS as SEGMENT_LABELS
from omni.web import analytics_pages, i18n, journey_builder, journey_pages, order_pages
from omni.web.pages import CHANNELS
from omni.web.rendering import NAVIGATION, TEMPLATES_DIR

ZH_TW_PO = i18n.LOCALES_DIR / "zh_TW.po"
# Values the templates pass to _() as variables, which extraction cannot see.
DYNAMIC_MSGIDS = {
    *(label for _, _, label in NAVIGATION),
    *(role.value for role in Role),
    *CHANNELS,
    *(kind.value for kind in LocationKind),
    *(kind.value for kind in SourceKind),
    *WEEKDAYS,
    "Wrong email or password.",
    *order_pages.LABELS,
    *journey_pages.LABELS.values(),
    *SEGMENT_LABELS,
    *analytics_pages.CHART_WORDS,
    *journey_builder.BUILDER_WORDS,
    *(title for _, title, _, _ in analytics_pages.CHARTS),
}
NOON_UTC = datetime(2026, 11, 20, 12, 5, tzinfo=UTC)
ONE_AM_UTC = datetime(2026, 11, 20, 1, 5, tzinfo=UTC)


def _template_msgids() -> set[str]:
    extracted = extract_from_dir(
        str(TEMPLATES_DIR),
        method_map=[("**.html", "jinja2.ext.babel_extract")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {message for _file, _line, message, _comments, _context in extracted if isinstance(message, str)}


def _zh_tw_catalog() -> dict[str, str]:
    with ZH_TW_PO.open("rb") as po:
        catalog = read_po(po, locale="zh_TW")
    return {str(message.id): str(message.string) for message in catalog if message.id}


def test_templates_are_extracted() -> None:
    # guards the extraction itself: an empty set would make the completeness test pass vacuously
    msgids = _template_msgids()
    assert {"Omni", "Sections", "Log in to Omni", "Request id", "No segments yet."} <= msgids


def test_every_msgid_has_a_zh_tw_translation() -> None:
    # given every message the dashboard may translate
    wanted = _template_msgids() | DYNAMIC_MSGIDS
    # when
    catalog = _zh_tw_catalog()
    # then
    assert sorted(msgid for msgid in wanted if not catalog.get(msgid, "").strip()) == []


def test_zh_tw_catalogue_has_no_unused_entries() -> None:
    assert sorted(set(_zh_tw_catalog()) - _template_msgids() - DYNAMIC_MSGIDS) == []


def test_zh_tw_catalogue_header() -> None:
    with ZH_TW_PO.open("rb") as po:
        catalog = read_po(po, locale="zh_TW")
    assert (str(catalog.locale), catalog.plural_forms, catalog.charset) == (
        "zh_Hant_TW",
        "nplurals=1; plural=0;",
        "utf-8",
    )


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        pytest.param("Overview", "總覽", id="overview"),
        pytest.param("Catalog & Stock", "商品與庫存", id="catalog"),
        pytest.param("Loyalty", "會員與點數", id="loyalty"),
        pytest.param("store", "門市", id="location-kind"),
        pytest.param("Log out", "登出", id="log-out"),
        pytest.param("Wrong email or password.", "電子郵件或密碼錯誤。", id="login-error"),
    ],
)
def test_compiled_zh_tw_translations(msgid: str, expected: str) -> None:
    assert i18n.translations("zh_TW").gettext(msgid) == expected


def test_english_is_the_source_language() -> None:
    assert i18n.translations("en").gettext("Overview") == "Overview"


@pytest.mark.parametrize(
    ("cookie", "accept_language", "expected"),
    [
        pytest.param("en", "zh-TW,zh;q=0.9", "en", id="cookie-wins"),
        pytest.param("zh_TW", "en-US", "zh_TW", id="cookie-zh-wins"),
        pytest.param("fr", "en-US,en;q=0.9", "en", id="unknown-cookie-ignored"),
        pytest.param(None, "zh-TW,zh;q=0.9,en;q=0.8", "zh_TW", id="browser-zh-tw"),
        pytest.param(None, "zh-Hant", "zh_TW", id="browser-zh-hant"),
        pytest.param(None, "EN-gb", "en", id="browser-en-any-case"),
        pytest.param(None, "fr-FR, en;q=0.5", "en", id="first-supported-browser-language"),
        pytest.param(None, "fr-FR,de", "zh_TW", id="nothing-supported-default"),
        pytest.param(None, None, "zh_TW", id="no-header-default"),
    ],
)
def test_negotiate(cookie: str | None, accept_language: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, accept_language, "zh_TW") == expected


def test_negotiate_falls_back_to_the_given_default() -> None:
    assert i18n.negotiate(None, "ja-JP", "en") == "en"


@pytest.mark.parametrize(
    ("locale", "minor", "currency", "expected"),
    [
        pytest.param("en", 129000, "TWD", "NT$1,290", id="en-twd-whole"),
        pytest.param("zh_TW", 129000, "TWD", "NT$1,290", id="zh-twd-whole"),
        pytest.param("zh_TW", -129000, "TWD", "-NT$1,290", id="zh-twd-refund"),
        pytest.param("zh_TW", 0, "TWD", "NT$0", id="zh-twd-zero"),
        pytest.param("en", 1290, "JPY", "¥1,290", id="en-jpy"),
        pytest.param("en", 129050, "USD", "$1,290.50", id="en-usd-cents"),
        pytest.param("zh_TW", 129050, "USD", "US$1,290.50", id="zh-usd-cents"),
    ],
)
def test_money(locale: str, minor: int, currency: str, expected: str) -> None:
    assert i18n.Formats(locale, "Asia/Taipei").money(minor, currency) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1290, "NT$1,290", id="int-major-units"),
        pytest.param(1290.0, "NT$1,290", id="float-major-units"),
        pytest.param(Decimal("99.5"), "NT$100", id="rounded-to-whole-dollars"),
        pytest.param(None, "–", id="missing"),
    ],
)
def test_amount_of_spec_event_revenue(value: float | int | Decimal | None, expected: str) -> None:
    assert i18n.Formats("zh_TW", "Asia/Taipei").amount(value, "TWD") == expected


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        pytest.param("en", 1234567.5, "1,234,567.5", id="en-float"),
        pytest.param("zh_TW", 1234567, "1,234,567", id="zh-int"),
        pytest.param("zh_TW", Decimal("0.25"), "0.25", id="zh-decimal"),
    ],
)
def test_number(locale: str, value: float | int | Decimal, expected: str) -> None:
    assert i18n.Formats(locale, "Asia/Taipei").number(value) == expected


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        pytest.param("en", NOON_UTC, "11/20/26, 8:05\u202fPM", id="en-evening-in-taipei"),
        pytest.param("zh_TW", NOON_UTC, "2026/11/20 晚上8:05", id="zh-evening-in-taipei"),
        pytest.param("zh_TW", ONE_AM_UTC, "2026/11/20 上午9:05", id="zh-morning-in-taipei"),
        pytest.param("zh_TW", None, "–", id="missing"),
    ],
)
def test_datetime_in_asia_taipei(locale: str, value: datetime | None, expected: str) -> None:
    assert i18n.Formats(locale, "Asia/Taipei").datetime(value) == expected


def test_datetime_follows_the_configured_zone() -> None:
    assert i18n.Formats("en", "Europe/London").datetime(NOON_UTC) == "11/20/26, 12:05\u202fPM"
