from __future__ import annotations

from pathlib import Path

import pytest

from omni.catalog import service as catalog_service
from omni.catalog.importer import (
    ProductImportRequest,
    ProductImportSummary,
    prepare_product_import,
    run_product_import,
)
from omni.catalog.schemas import CategoryCreate
from omni.db.engine import Database
from omni.events.import_mapping import ImportInvalid
from omni.events.importer import Rejection, SkippedBatch
from tests.catalog.builders import make_product, make_shop, product, variant
from tests.cli.test_commands import omni

HEADER = "product_code,name,name_en,brand,category,sku,barcode,size,colour,price:web,price:pos:TPE-XINYI\n"
GOOD = (
    HEADER
    + "TOP-0001,棉質T恤,Cotton tee,Omni Basics,tops,TOP-0001-BK-M,4719876000019,M,黑色,490,450\n"
    + 'TOP-0001,棉質T恤,Cotton tee,Omni Basics,上衣,TOP-0001-BK-L,4719876000026,L,黑色,"NT$490",\n'
    + "TOP-0002,亞麻襯衫,Linen shirt,Lumi,Tops,TOP-0002-WH-M,4719876000033,M,白色,1290,1290\n"
)


def _shop(database: Database) -> None:
    with database.unit_of_work() as session:
        make_shop(session)
        catalog_service.save_category(session, CategoryCreate(slug="tops", name="上衣", name_en="Tops"))


def _import(database: Database, path: Path, **options: object) -> ProductImportSummary:
    request = ProductImportRequest(path=path, **options)  # type: ignore[arg-type]
    with database.unit_of_work() as session:
        prepared = prepare_product_import(request, session)
    return run_product_import(prepared, database)


def _write(tmp_path: Path, content: str, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_a_product_export_is_imported_once_however_often_it_is_run(
    committed: Database, tmp_path: Path
) -> None:
    # given a shop and an export whose category is written as a slug, a name and an English name
    _shop(committed)
    path = _write(tmp_path, GOOD)
    # when it is imported twice
    first = _import(committed, path)
    second = _import(committed, path)
    # then the products are there once, each price in minor units, and the second run changed nothing
    assert (first.rows, first.imported_rows, first.products_created, first.variants_created) == (3, 3, 2, 3)
    assert first.prices_written == 5
    assert (second.products_created, second.products_unchanged, second.variants_created) == (0, 2, 0)
    assert (second.prices_written, second.rejections) == (0, [])
    with committed.unit_of_work() as session:
        tee = catalog_service.get_product(session, "TOP-0001")
        assert catalog_service.search_products(session).total == 2
    assert [(v.sku, v.barcode, [(p.channel, p.amount_minor) for p in v.prices]) for v in tee.variants] == [
        ("TOP-0001-BK-M", "4719876000019", [("pos:TPE-XINYI", 45000), ("web", 49000)]),
        ("TOP-0001-BK-L", "4719876000026", [("web", 49000)]),
    ]
    assert (tee.name_en, tee.brand, tee.category) == ("Cotton tee", "Omni Basics", "tops")


def test_rejected_rows_are_reported_and_their_batch_stores_nothing(
    committed: Database, tmp_path: Path
) -> None:
    # given an export with a bad price, an unknown category and a product whose rows disagree
    _shop(committed)
    with committed.unit_of_work() as session:
        make_product(session, product("OLD-0001", variants=[variant("OLD-0001-M", 90)]))
    content = (
        HEADER
        + "TOP-0001,棉質T恤,Cotton tee,Omni Basics,tops,TOP-0001-BK-M,4719876000019,M,黑色,490,450\n"
        + "TOP-0001,棉T,Cotton tee,Omni Basics,tops,TOP-0001-BK-L,4719876000026,L,黑色,490,\n"
        + "TOP-0002,亞麻襯衫,Linen shirt,Lumi,tops,TOP-0002-WH-M,4719876000033,M,白色,1290.555,\n"
        + "SHO-0001,球鞋,Sneakers,Lumi,shoes,SHO-0001-42,4719876000040,42,白色,2490,\n"
        + "TOP-0003,背心,Tank top,Lumi,tops,OLD-0001-M,4719876000057,M,白色,390,\n"
        + "TOP-0004,帽T,Hoodie,Lumi,tops,TOP-0004-GY-M,4.71988E+12,M,灰色,990,\n"
        + "TOP-0005,POLO衫,Polo,Lumi,tops,TOP-0005-NV-M,4719876000071,M,藏青,690,\n"
    )
    # when imported in batches of two rows (a product's rows stay together)
    summary = _import(committed, _write(tmp_path, content), batch_size=2)
    # then each rejected row is named with its reason, and only the clean batch is stored
    assert summary.rejections == [
        Rejection(3, "name: '棉T' differs from '棉質T恤' on row 2 of the same product"),
        Rejection(4, "price:web: 1290.555 has more decimals than TWD allows (2)"),
        Rejection(5, "category: no category is called 'shoes'; categories are tops"),
        Rejection(6, "sku: SKU OLD-0001-M belongs to product OLD-0001"),
        Rejection(
            7,
            "barcode: 4.71988E+12 is a barcode that a spreadsheet turned into a number; "
            "format the column as text",
        ),
    ]
    assert summary.skipped == [SkippedBatch(1, 2, 3, 2), SkippedBatch(2, 4, 5, 2), SkippedBatch(3, 6, 7, 2)]
    assert (summary.imported_rows, summary.products_created) == (1, 1)
    with committed.unit_of_work() as session:
        assert [item.code for item in catalog_service.search_products(session).items] == [
            "OLD-0001",
            "TOP-0005",
        ]


def test_price_columns_must_name_known_channels(committed: Database, tmp_path: Path) -> None:
    _shop(committed)
    path = _write(tmp_path, "product_code,name,category,sku,price:shopee\nA,a,tops,A-1,100\n")
    with pytest.raises(
        ImportInvalid,
        match="column price:shopee: no sales channel is named 'shopee'; channels are web, pos:TPE-XINYI",
    ):
        _import(committed, path)


def test_chinese_headers_and_a_mapped_price_column(committed: Database, tmp_path: Path) -> None:
    # given an export with Chinese headers and the web price in a column of its own name
    _shop(committed)
    content = (
        "\ufeff商品編號,品名,品牌,類別,貨號,條碼,尺寸,顏色,網路售價\n"
        'TOP-0009,棉質T恤,Kiri,上衣,TOP-0009-M,,M,黑色,"1,290"\n'
    )
    # when imported with that column mapped
    summary = _import(committed, _write(tmp_path, content), mapping={"price:web": "網路售價"})
    # then the product is there; without an English name it takes the Chinese one
    assert summary.rejections == []
    with committed.unit_of_work() as session:
        read = catalog_service.get_product(session, "TOP-0009")
    assert (read.name, read.name_en, read.brand, read.category) == ("棉質T恤", "棉質T恤", "Kiri", "tops")
    assert read.variants[0].prices[0].amount_minor == 129000
    assert read.variants[0].barcode is None


def test_omni_import_products_reports_and_exits_1_on_rejections(committed: Database, tmp_path: Path) -> None:
    # given a shop, and an export with one bad row
    _shop(committed)
    bad = GOOD + "TOP-0003,背心,Tank top,Lumi,tops,TOP-0003-M,4719876000057,M,白色,-390,\n"
    path = _write(tmp_path, bad)
    rejects = tmp_path / "rejects.csv"
    env = {"OMNI_DATABASE_URL": committed.url}
    # when imported from the command line
    result = omni(
        "import", "products", str(path), "--batch-size", "3", "--rejects", str(rejects), env=env, tmp=tmp_path
    )
    # then the good batch is in, the bad row is reported with its number, and the exit code says so
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "products.csv: 4 rows read in 2 batches",
        "imported 3 rows: 2 new products, 0 updated, 0 unchanged; 3 new variants, 0 updated; "
        "5 prices written",
        "rejected 1 row; skipped 1 batch (1 row)",
    ]
    assert "row 5: price:web: '-390' is negative; an amount must be 0 or more" in result.stderr
    assert rejects.read_text(encoding="utf-8-sig").splitlines()[1].startswith("5,")


def test_a_dry_run_checks_everything_and_stores_nothing(committed: Database, tmp_path: Path) -> None:
    _shop(committed)
    request = ProductImportRequest(path=_write(tmp_path, GOOD))
    with committed.unit_of_work() as session:
        prepared = prepare_product_import(request, session)
    summary = run_product_import(prepared, committed, dry_run=True)
    assert (summary.dry_run, summary.imported_rows, summary.products_created, summary.rejections) == (
        True,
        3,
        2,
        [],
    )
    with committed.unit_of_work() as session:
        assert catalog_service.search_products(session).total == 0


def test_after_a_fix_the_same_file_imports_the_rest_and_nothing_twice(
    committed: Database, tmp_path: Path
) -> None:
    # given an import whose second batch was rejected for a bad price
    _shop(committed)
    bad = GOOD.replace(
        "Lumi,Tops,TOP-0002-WH-M,4719876000033,M,白色,1290,",
        "Lumi,Tops,TOP-0002-WH-M,4719876000033,M,白色,abc,",
    )
    first = _import(committed, _write(tmp_path, bad), batch_size=2)
    # when the row is fixed and the same file imported again
    second = _import(committed, _write(tmp_path, GOOD), batch_size=2)
    # then the first batch is left as it was and the second is added
    assert [r.row for r in first.rejections] == [4]
    assert (second.products_unchanged, second.products_created, second.rejections) == (1, 1, [])
    with committed.unit_of_work() as session:
        assert catalog_service.search_products(session).total == 2
