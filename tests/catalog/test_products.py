from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.errors import NoPrice, UnknownProduct
from omni.catalog.models import Price, Product, Variant
from omni.catalog.schemas import ChannelPrice, ProductCreate
from omni.kit.errors import ConflictError, ValidationFailed
from tests.catalog.builders import make_category, make_product, make_shop, product, variant


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Product)) or 0,
        session.scalar(select(func.count()).select_from(Variant)) or 0,
        session.scalar(select(func.count()).select_from(Price)) or 0,
    )


def test_a_saved_product_reads_back_with_its_variants_barcodes_and_prices_per_channel(
    session: Session,
) -> None:
    # given a shop with a web channel and a till
    make_shop(session)
    # when a product with two sizes is saved, priced differently on the web and at the till
    saved = make_product(
        session,
        product(
            variants=[
                variant("TOP-0001-BK-M", 1, size="M", web=49000, prices={"pos:TPE-XINYI": 59000}),
                variant("TOP-0001-BK-L", 2, size="L", web=49000),
            ]
        ),
    )
    # then it reads back exactly, variants in the order given and prices by channel code
    read = catalog_service.get_product(session, "TOP-0001")
    assert read == saved
    assert (read.code, read.name, read.category, read.active) == ("TOP-0001", "棉質T恤", "tops", True)
    assert [(v.sku, v.barcode, v.size) for v in read.variants] == [
        ("TOP-0001-BK-M", "4719876000019", "M"),
        ("TOP-0001-BK-L", "4719876000026", "L"),
    ]
    assert [(p.channel, p.amount_minor, p.currency) for p in read.variants[0].prices] == [
        ("pos:TPE-XINYI", 59000, "TWD"),
        ("web", 49000, "TWD"),
    ]
    assert catalog_service.price_for(session, "TOP-0001-BK-M", "pos:TPE-XINYI") == (59000, "TWD")
    with pytest.raises(NoPrice):
        catalog_service.price_for(session, "TOP-0001-BK-L", "pos:TPE-XINYI")


def test_saving_the_same_product_again_changes_nothing(session: Session) -> None:
    # given a saved product
    make_shop(session)
    first = make_product(session)
    # when it is saved again as it is
    summary = catalog_service.save_products(session, [product()])
    # then nothing is added or touched
    assert summary.model_dump() == {
        "products_created": 0,
        "products_updated": 0,
        "products_unchanged": 1,
        "variants_created": 0,
        "variants_updated": 0,
        "prices_written": 0,
        "prices_removed": 0,
    }
    assert _counts(session) == (1, 1, 1)
    assert catalog_service.get_product(session, "TOP-0001").updated_at == first.updated_at


def test_a_put_makes_the_product_exactly_as_given(session: Session) -> None:
    # given a product with two variants, one priced on two channels
    make_shop(session)
    make_product(
        session,
        product(
            variants=[
                variant("TOP-0001-BK-M", 1, web=49000, prices={"pos:TPE-XINYI": 49000}),
                variant("TOP-0001-BK-L", 2, web=49000),
            ]
        ),
    )
    # when it is saved with M only, renamed, its web price raised and its till price gone
    saved = catalog_service.save_product(
        session, product(name="棉質T恤 二代", variants=[variant("TOP-0001-BK-M", 1, web=59000)])
    )
    # then L is kept but inactive (order lines may name it), and M has the one new price
    assert saved.name == "棉質T恤 二代"
    assert [(v.sku, v.active) for v in saved.variants] == [("TOP-0001-BK-M", True), ("TOP-0001-BK-L", False)]
    assert saved.variants[0].prices == [ChannelPrice(channel="web", amount_minor=59000)]
    assert saved.variants[1].prices == [ChannelPrice(channel="web", amount_minor=49000)]
    assert saved.updated_at >= saved.created_at


def test_an_import_adds_and_updates_but_removes_nothing(session: Session) -> None:
    # given a product with two variants priced on two channels
    make_shop(session)
    make_product(
        session,
        product(
            variants=[
                variant("TOP-0001-BK-M", 1, web=49000, prices={"pos:TPE-XINYI": 49000}),
                variant("TOP-0001-BK-L", 2, web=49000),
            ]
        ),
    )
    # when a partial save (as from a CSV with a web price column only) names M and a new XL
    summary = catalog_service.save_products(
        session,
        [product(variants=[variant("TOP-0001-BK-M", 1, web=45000), variant("TOP-0001-BK-XL", 3, web=49000)])],
        complete=False,
    )
    # then M's web price changes, XL is added, L and M's till price stay
    read = catalog_service.get_product(session, "TOP-0001")
    assert [(v.sku, v.active, [(p.channel, p.amount_minor) for p in v.prices]) for v in read.variants] == [
        ("TOP-0001-BK-M", True, [("pos:TPE-XINYI", 49000), ("web", 45000)]),
        ("TOP-0001-BK-L", True, [("web", 49000)]),
        ("TOP-0001-BK-XL", True, [("web", 49000)]),
    ]
    assert (summary.products_updated, summary.variants_created, summary.prices_written) == (1, 1, 2)


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        (product(category="shoes"), "category", "no category has slug 'shoes'"),
        (
            product(variants=[variant("TOP-0001-BK-M", 1, web=1000, marketplace=1000)]),
            "variants.0.prices.1.channel",
            "no sales channel has code 'marketplace'",
        ),
    ],
    ids=["unknown-category", "price-on-unknown-channel"],
)
def test_a_product_that_refers_to_nothing_is_refused_naming_the_field(
    session: Session, data: ProductCreate, field: str, rule: str
) -> None:
    make_shop(session)
    with pytest.raises(ValidationFailed) as refused:
        catalog_service.save_product(session, data)
    assert refused.value.details == [{"field": field, "rule": rule}]
    assert _counts(session) == (0, 0, 0)


def test_a_sku_or_barcode_of_another_product_is_a_conflict(session: Session) -> None:
    # given a product whose variant has barcode 1
    make_shop(session)
    make_product(session)
    # when another product claims its SKU, or its barcode under another SKU
    with pytest.raises(ConflictError) as sku_taken:
        catalog_service.save_product(session, product("TOP-0002", variants=[variant("TOP-0001-BK-M", 9)]))
    with pytest.raises(ConflictError) as barcode_taken:
        catalog_service.save_product(session, product("TOP-0002", variants=[variant("TOP-0002-BK-M", 1)]))
    # then both are refused naming the owner, and nothing of TOP-0002 is stored
    assert sku_taken.value.details == [
        {"field": "variants.0.sku", "rule": "SKU TOP-0001-BK-M belongs to product TOP-0001"}
    ]
    assert barcode_taken.value.details == [
        {"field": "variants.0.barcode", "rule": "barcode 4719876000019 belongs to SKU TOP-0001-BK-M"}
    ]
    assert _counts(session) == (1, 1, 1)
    with pytest.raises(UnknownProduct):
        catalog_service.get_product(session, "TOP-0002")


def test_two_variants_may_swap_barcodes_in_one_save(session: Session) -> None:
    make_shop(session)
    make_product(session, product(variants=[variant("TOP-0001-BK-M", 1), variant("TOP-0001-BK-L", 2)]))
    saved = catalog_service.save_product(
        session, product(variants=[variant("TOP-0001-BK-M", 2), variant("TOP-0001-BK-L", 1)])
    )
    assert [(v.sku, v.barcode) for v in saved.variants] == [
        ("TOP-0001-BK-M", "4719876000026"),
        ("TOP-0001-BK-L", "4719876000019"),
    ]


def test_a_batch_with_one_bad_product_stores_none_of_them(session: Session) -> None:
    make_shop(session)
    batch = [
        product("TOP-0001"),
        product("TOP-0002", category="nope", variants=[variant("TOP-0002-BK-M", 2)]),
    ]
    with pytest.raises(ValidationFailed) as refused:
        catalog_service.save_products(session, batch)
    assert refused.value.details == [{"index": 1, "field": "category", "rule": "no category has slug 'nope'"}]
    assert _counts(session) == (0, 0, 0)


@pytest.mark.parametrize(
    ("q", "category", "codes"),
    [
        ("棉質", None, ["TOP-0001", "TOP-0002"]),
        ("LINEN", None, ["DRS-0001"]),
        ("top-0002-bk", None, ["TOP-0002"]),
        ("4719876000033", None, ["DRS-0001"]),
        ("471987600003", None, []),
        ("%", None, []),
        (None, "apparel", ["DRS-0001", "TOP-0001", "TOP-0002"]),
        (None, "dresses", ["DRS-0001"]),
        ("kiri", "tops", ["TOP-0002"]),
    ],
    ids=["name", "english-any-case", "sku-part", "barcode", "barcode-part", "percent-literal",
         "parent-category",
         "category", "brand-and-category"],
)  # fmt: skip
def test_search_finds_products_by_name_brand_sku_barcode_and_category(
    session: Session, q: str | None, category: str | None, codes: list[str]
) -> None:
    # given tops and dresses, both under apparel
    make_shop(session)
    make_category(session, "apparel")
    make_category(session, "tops", parent="apparel")
    make_category(session, "dresses", parent="apparel")
    make_product(session, product("TOP-0001"))
    make_product(session, product("TOP-0002", brand="Kiri", variants=[variant("TOP-0002-BK-M", 2)]))
    linen = product(
        "DRS-0001",
        name="亞麻洋裝",
        name_en="Linen dress",
        category="dresses",
        variants=[variant("DRS-0001-S", 3)],
    )
    make_product(session, linen)
    # when searched
    page = catalog_service.search_products(session, q=q, category=category)
    # then exactly the matching products come back, by code
    assert [item.code for item in page.items] == codes
    assert page.total == len(codes)


def test_search_pages_and_summarises_variants_and_prices(session: Session) -> None:
    make_shop(session)
    for number in range(1, 4):
        code = f"TOP-000{number}"
        sizes = [
            variant(f"{code}-M", number * 10, web=49000),
            variant(f"{code}-L", number * 10 + 1, web=59000),
        ]
        make_product(session, product(code, variants=sizes))
    page = catalog_service.search_products(session, limit=2, offset=1)
    assert (page.total, page.limit, page.offset) == (3, 2, 1)
    assert [
        (i.code, i.variant_count, i.lowest_price_minor, i.highest_price_minor, i.currency) for i in page.items
    ] == [
        ("TOP-0002", 2, 49000, 59000, "TWD"),
        ("TOP-0003", 2, 49000, 59000, "TWD"),
    ]


def test_a_variant_answers_with_its_product_and_price_on_each_channel(session: Session) -> None:
    make_shop(session)
    make_product(
        session, product(variants=[variant("TOP-0001-BK-M", 1, web=49000, prices={"pos:TPE-XINYI": 45000})])
    )
    detail = catalog_service.variant_view(session, "TOP-0001-BK-M")
    assert (detail.product.code, detail.product.category, detail.variant.colour_en) == (
        "TOP-0001",
        "tops",
        "Black",
    )
    assert {code: price.amount_minor for code, price in detail.prices_by_channel.items()} == {
        "pos:TPE-XINYI": 45000,
        "web": 49000,
    }
    scanned = catalog_service.find_variant_by_barcode(session, "4719876000019")
    assert scanned is not None
    assert scanned.sku == "TOP-0001-BK-M"


_examples = itertools.count(100)
versions = st.lists(
    st.tuples(
        st.sets(st.sampled_from(["S", "M", "L", "XL"]), min_size=1),
        st.dictionaries(st.sampled_from(["web", "pos:TPE-XINYI"]), st.integers(0, 10_000_000)),
        st.sampled_from(["tee", "shirt"]),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(versions)
def test_after_any_sequence_of_saves_the_product_reads_as_the_last_one_saved(
    session: Session, history: list[tuple[set[str], dict[str, int], str]]
) -> None:
    # given a shop (made once: hypothesis runs every example in the same transaction)
    if catalog_service.find_channel(session, "web") is None:
        make_shop(session)
    number = next(_examples)
    code, references = f"TOP-{number}", {"S": 1, "M": 2, "L": 3, "XL": 4}
    ever: list[str] = []
    # when it is saved version after version
    for sizes, prices, name in history:
        ordered = sorted(sizes, key=list(references).index)
        last = product(
            code,
            name_en=name,
            variants=[
                variant(f"{code}-{size}", number * 10 + references[size], size=size, prices=prices)
                for size in ordered
            ],
        )
        catalog_service.save_product(session, last)
        ever += [f"{code}-{size}" for size in ordered if f"{code}-{size}" not in ever]
    read = catalog_service.get_product(session, code)
    # then the given variants are active with exactly the last prices; every other one ever saved is inactive
    assert read.name_en == last.name_en
    active = {v.sku: v.prices for v in read.variants if v.active}
    assert active == {v.sku: sorted(v.prices, key=lambda p: p.channel) for v in last.variants}
    assert sorted(v.sku for v in read.variants) == sorted(ever)
    assert catalog_service.save_products(session, [last]).products_unchanged == 1
