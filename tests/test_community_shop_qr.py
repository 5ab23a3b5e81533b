"""A QR on every shop front: a stable public code per establishment (backfilled by migration), the
printable Arabic sticker (PDF rendered with pdftoppm, its QR decoded with zxing-cpp), and the public
page the QR opens, in headless Chromium in Arabic and English, with its "report a problem" form."""

import importlib
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps

from analytics.selectors import hijri_label
from community.models import Case, ShopCode
from community.services.shops import shop_code_ensure
from tests.browser_support import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, single_threaded_live_server_on_sqlite
from tests.factories import EstablishmentFactory, VisitFactory

RIYADH = ZoneInfo("Asia/Riyadh")
PDFTOPPM = shutil.which("pdftoppm")
single_threaded_live_server_on_sqlite()


def _decode_sticker(pdf: bytes, tmp_path: Path) -> list[str]:
    import zxingcpp
    from PIL import Image

    (tmp_path / "sticker.pdf").write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-r", "150", "-png", str(tmp_path / "sticker.pdf"), str(tmp_path / "page")], check=True)
    (page,) = sorted(tmp_path.glob("page*.png"))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(page, ARTIFACTS / "community-sticker.png")
    return [result.text for result in zxingcpp.read_barcodes(Image.open(page))]


@pytest.mark.django_db
def test_the_migration_backfills_a_stable_unique_code_for_every_establishment(dammam):
    shops = [EstablishmentFactory(municipality=dammam) for _ in range(5)]
    ShopCode.objects.filter(establishment=shops[0]).delete()
    kept = {code.establishment_id: code.code for code in ShopCode.objects.all()}
    seed = importlib.import_module("community.migrations.0002_service_types_and_shop_codes").seed
    seed(django_apps, None)
    seed(django_apps, None)  # idempotent
    codes = dict(ShopCode.objects.values_list("establishment_id", "code"))
    assert set(codes) == {shop.pk for shop in shops}
    assert len(set(codes.values())) == 5 and all(len(code) == 10 for code in codes.values())
    assert all(codes[pk] == code for pk, code in kept.items())  # existing codes never change
    assert shop_code_ensure(establishment=shops[0]).code == codes[shops[0].pk]


@pytest.mark.django_db
@pytest.mark.skipif(PDFTOPPM is None, reason="needs poppler-utils (apt-get install -y poppler-utils)")
def test_the_sticker_pdf_renders_and_its_qr_decodes_to_the_public_page(api, dammam, supervisor, tmp_path, settings):
    settings.PUBLIC_BASE_URL = "https://jawla.example.sa"
    store = EstablishmentFactory(municipality=dammam, name_ar="بقالة النخيل")
    response = api.as_user(supervisor).get(f"community/establishments/{store.pk}/sticker.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    code = shop_code_ensure(establishment=store).code
    assert _decode_sticker(response.content, tmp_path) == [f"https://jawla.example.sa/shops/{code}/"]
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "sticker.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert code in text and store.licence_no in text


@pytest.mark.django_db
def test_shop_page_unknown_code_and_bad_report(client, dammam):
    assert client.get("/shops/NOPE/").status_code == 404
    store = EstablishmentFactory(municipality=dammam)
    code = shop_code_ensure(establishment=store).code
    page = client.get(f"/shops/{code.lower()}/")
    assert page.status_code == 200 and page.context["code"] == code
    response = client.post(f"/shops/{code}/", {"service_code": "food-hygiene", "description": ""})
    assert response.status_code == 400 and Case.objects.count() == 0
    response = client.post(f"/shops/{code}/", {"service_code": "nope", "description": "x"})
    assert response.status_code == 400 and Case.objects.count() == 0


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
@pytest.mark.skipif(PDFTOPPM is None, reason="needs poppler-utils")
@pytest.mark.django_db(transaction=True)
def test_the_qr_opens_the_public_page_in_arabic_and_english(live_server, dammam, settings, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    settings.PUBLIC_BASE_URL = live_server.url
    # A transactional test before this one flushed the report types that a data migration made.
    importlib.import_module("community.migrations.0002_service_types_and_shop_codes").seed(django_apps, None)
    store = EstablishmentFactory(municipality=dammam, name_ar="بقالة النخيل", name_en="Palm Grocery")
    finished = datetime(2026, 11, 24, 10, 30, tzinfo=RIYADH)
    VisitFactory(establishment=store, finished_at=finished, outcome="violations", violation_count=2)
    from community.services.shops import shop_sticker_pdf

    (url,) = _decode_sticker(shop_sticker_pdf(establishment=store), tmp_path)
    hijri_ar = hijri_label(finished.date(), english=False)
    hijri_en = hijri_label(finished.date(), english=True)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, locale="ar-SA")
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
            assert page.inner_text("h1") == "بقالة النخيل"
            assert page.inner_text("#licence") == "سارٍ"
            assert page.inner_text("#last") == f"{hijri_ar} — 2026-11-24"
            assert page.inner_text("#result") == "رُصدت مخالفات"
            assert page.input_value("input[name=address_id]") == url.rstrip("/").rsplit("/", 1)[-1]
            page.screenshot(path=str(ARTIFACTS / "community-shop-ar-phone.png"), full_page=True)

            page.click("#switch")
            page.wait_for_selector("html[dir=ltr]")
            assert page.inner_text("h1") == "Palm Grocery" and page.inner_text("#licence") == "Valid"
            assert page.inner_text("#last") == f"{hijri_en} — 2026-11-24"
            page.set_viewport_size({"width": 1440, "height": 900})
            page.screenshot(path=str(ARTIFACTS / "community-shop-en-desktop.png"), full_page=True)

            page.select_option("#service_code", "expired-products")
            page.fill("#description", "Expired yoghurt in the fridge")
            page.fill("#contact", "citizen@example.com")
            page.click("button[type=submit]")
            page.wait_for_selector("#thanks")
            assert "Report number" in page.inner_text("#thanks")
            assert "citizen@example.com" not in page.content()
            page.screenshot(path=str(ARTIFACTS / "community-shop-en-reported.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    case = Case.objects.get()
    assert case.establishment == store and case.service_type.code == "expired-products"
    assert case.reports.get().email == "citizen@example.com"


# --- the field app's lookup by code (GET community/shops/{shop_code}) ---------------------------------


@pytest.mark.django_db
def test_an_inspector_finds_a_shop_of_their_municipality_by_its_code_in_any_case(api, dammam, inspector):
    store = EstablishmentFactory(municipality=dammam, name_ar="بقالة النخيل", name_en="Al Nakheel Grocery")
    code = shop_code_ensure(establishment=store).code
    for asked in (code, code.lower()):
        response = api.as_user(inspector).get(f"community/shops/{asked}")
        assert response.status_code == 200, response.content
        assert response.json() == {
            "code": code,
            "establishment_id": store.pk,
            "name_ar": "بقالة النخيل",
            "name_en": "Al Nakheel Grocery",
        }


@pytest.mark.django_db
def test_another_municipalitys_shop_and_an_unknown_code_are_the_same_404(api, dammam, khobar, inspector):
    elsewhere = shop_code_ensure(establishment=EstablishmentFactory(municipality=khobar)).code
    for code in (elsewhere, "ZZZZZZZZZZ"):
        response = api.as_user(inspector).get(f"community/shops/{code}")
        assert response.status_code == 404 and response.json()["code"] == "not_found", response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code, error",
    [
        ("abc", "invalid_shop_code"),
        ("A" * 17, "invalid_shop_code"),
        ("ABC-DEF-12", "invalid_shop_code"),
        ("ABC%20DEF12", "invalid_shop_code"),
        ("بقالة1234", "invalid_shop_code"),
        ("%00ABCDEF", "nul_character"),  # refused by the middleware before any view
    ],
)
def test_a_malformed_code_is_a_clear_422(api, dammam, inspector, code, error):
    codes_before = ShopCode.objects.count()
    response = api.as_user(inspector).get(f"community/shops/{code}")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == error
    assert ShopCode.objects.count() == codes_before
