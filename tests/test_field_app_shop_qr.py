"""The field app scans the QR on a shop-front sticker and opens that shop's card (issue 15, item 6),
in real headless Chromium at a phone's size. Chromium's fake camera plays a Y4M video made here from
the sticker's own QR (rendered with segno, as the sticker is), so the app's getUserMedia + QR decoder
path runs for real. Also: a QR that is not a shop's, an unknown code and another municipality's code
each say so clearly; a typed code, a pasted link and an opened #/shops/<code> link open the card.
Screenshots (Arabic and English, 390 px) go to var/screenshots/."""

import io
from pathlib import Path

import pytest
import segno
from PIL import Image

from community.services.shops import shop_code_ensure, shop_public_url
from inspections.demo import checklists as demo_checklists
from inspections.models import Checklist
from tests.browser_support import CHROMIUM, LAUNCH_ARGS, single_threaded_live_server_on_sqlite
from tests.factories import CategoryFactory, EstablishmentFactory
from tests.field_app_support import ensure_field_app_built

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()
ensure_field_app_built()  # before the session's live server starts, so whitenoise sees the build

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
WIDTH, HEIGHT = 640, 480


def _y4m_of_qr(text: str, path: Path, frames: int = 4) -> Path:
    """A short greyscale 4:2:0 Y4M video of `text` as a QR on white, as a camera would see a sticker."""
    png = io.BytesIO()
    segno.make(text, error="m").save(png, kind="png", scale=8, border=4)
    png.seek(0)
    with Image.open(png) as qr:
        qr = qr.convert("L")
        scene = Image.new("L", (WIDTH, HEIGHT), 235)
        scene.paste(qr, ((WIDTH - qr.width) // 2, (HEIGHT - qr.height) // 2))
    luma = scene.tobytes()
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return path


@pytest.fixture
def shops(dammam, khobar, inspector, settings):
    settings.PUBLIC_BASE_URL = "https://jawla.example.sa"
    demo_checklists.seed()
    nakheel = EstablishmentFactory(
        municipality=dammam,
        category=CategoryFactory(code="grocery"),
        name_ar="بقالة النخيل",
        name_en="Al Nakheel Grocery",
        address="شارع الملك سعود",
    )
    markets = EstablishmentFactory(
        municipality=dammam, name_ar="أسواق الدمام المركزية", name_en="Dammam Central Markets"
    )
    elsewhere = EstablishmentFactory(municipality=khobar, name_ar="بقالة الخبر", name_en="Khobar Grocery")
    return {
        "nakheel": (nakheel, shop_code_ensure(establishment=nakheel).code),
        "markets": (markets, shop_code_ensure(establishment=markets).code),
        "elsewhere": (elsewhere, shop_code_ensure(establishment=elsewhere).code),
    }


def _browser(playwright, video: Path):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            *LAUNCH_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )


def _signed_in_page(browser, base, language):
    context = browser.new_context(**PHONE, locale="ar-SA" if language == "ar" else "en-GB", permissions=["camera"])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base)
    page.evaluate(f"() => localStorage.setItem('jawla.field.language', '{language}')")
    page.reload()
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", "insp_dammam")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=pending-counter]")
    return page, errors


def _shot(page, name):
    page.wait_for_selector(".toast", state="detached", timeout=10_000)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{name} overflows horizontally: {widths}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"field-{name}.png"))


def _card_of(page, shop):
    page.wait_for_function(f"() => location.hash === '#/shop/{shop.pk}'", timeout=30_000)
    page.wait_for_selector(f"[data-testid=shop-view][data-establishment-id='{shop.pk}']", timeout=20_000)
    return page.text_content("[data-testid=shop-view]")


def _scanned_assets(page) -> list[str]:
    return page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".map((entry) => entry.name).filter((name) => name.includes('jsQR'))"
    )


def test_scanning_the_stickers_qr_opens_the_shops_card(live_server, shops, tmp_path, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    nakheel, code = shops["nakheel"]
    video = _y4m_of_qr(shop_public_url(code), tmp_path / "sticker.y4m")
    with sync_api.sync_playwright() as playwright:
        browser = _browser(playwright, video)
        try:
            base = f"{live_server.url}/field/"
            page, errors = _signed_in_page(browser, base, "ar")
            page.goto(base + "#/adhoc")
            page.wait_for_selector("[data-testid=scan-shop]")
            assert _scanned_assets(page) == []  # the decoder is not part of the app's start
            _shot(page, "adhoc-scan-ar")
            page.click("[data-testid=scan-shop]")
            text = _card_of(page, nakheel)
            assert "بقالة النخيل" in text and nakheel.licence_no in text
            assert len(_scanned_assets(page)) == 1  # loaded when scanning started
            assert page.evaluate("() => document.querySelector('video') === null")  # the camera is off again
            _shot(page, "shop-card-ar")

            page.click("[data-testid=language]")
            page.wait_for_selector("html[dir=ltr]")
            page.click("[data-testid=scan-again]")
            text = _card_of(page, nakheel)
            assert "Al Nakheel Grocery" in text and "No earlier visit" in text
            _shot(page, "shop-card-en")
            # From the card, a visit on one of the checklists published for groceries.
            page.click("[data-testid=shop-start-visit]")
            hygiene = Checklist.objects.get(code="food-hygiene-licence")
            page.click(f"button.secondary:has-text('{hygiene.name_en}')")
            page.wait_for_function(f"() => location.hash.startsWith('#/visit/shop/{nakheel.pk}/')", timeout=20_000)
            assert "Al Nakheel Grocery" in page.text_content("[data-testid=shop-card]")
            assert errors == []
        finally:
            browser.close()


def test_another_qr_an_unknown_code_and_a_foreign_code_say_so_and_typed_or_linked_codes_open(
    live_server, shops, tmp_path, monkeypatch
):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    markets, markets_code = shops["markets"]
    nakheel, nakheel_code = shops["nakheel"]
    _, foreign_code = shops["elsewhere"]
    # A QR on the same shop front that is not Jawla's: the shop's Wi-Fi.
    video = _y4m_of_qr("WIFI:S:Nakheel;T:WPA;P:12345678;;", tmp_path / "wifi.y4m")
    with sync_api.sync_playwright() as playwright:
        browser = _browser(playwright, video)
        try:
            base = f"{live_server.url}/field/"
            for language in ("ar", "en"):
                page, errors = _signed_in_page(browser, base, language)
                page.goto(base + "#/scan")
                page.wait_for_selector("[data-testid=viewfinder][data-camera=on]", timeout=20_000)
                page.wait_for_selector("[data-testid=scan-message][data-kind=error]", timeout=20_000)
                message = page.text_content("[data-testid=scan-message]")
                assert ("ليس رمز منشأة" if language == "ar" else "not a Jawla shop code") in message
                assert "WIFI:S:Nakheel" in message
                assert page.evaluate("() => location.hash") == "#/scan"  # still scanning
                _shot(page, f"scan-other-qr-{language}")

                page.fill("input[name=shop_code]", "ZZZZZZZZZZ")
                page.click("[data-testid=code-open]")
                page.wait_for_selector("[data-testid=scan-message][data-kind=error]:has-text('ZZZZZZZZZZ')")
                unknown = page.text_content("[data-testid=scan-message]")
                assert ("لا توجد منشأة بالرمز" if language == "ar" else "No shop with code") in unknown
                _shot(page, f"scan-unknown-{language}")

                # Another municipality's shop: the very same answer (nothing confirms it exists).
                page.fill("input[name=shop_code]", foreign_code.lower())
                page.click("[data-testid=code-open]")
                page.wait_for_selector(f"[data-testid=scan-message][data-kind=error]:has-text('{foreign_code}')")
                assert page.text_content("[data-testid=scan-message]") == unknown.replace("ZZZZZZZZZZ", foreign_code)

                page.fill("input[name=shop_code]", "not a code!")
                page.click("[data-testid=code-open]")
                page.wait_for_selector("[data-testid=scan-message][data-kind=error]:has-text('not a code!')")

                # The sticker's link pasted, then typed in lower case, then opened as a link.
                page.fill("input[name=shop_code]", f"  {shop_public_url(markets_code)}  ")
                page.click("[data-testid=code-open]")
                assert ("أسواق الدمام المركزية" if language == "ar" else "Dammam Central Markets") in _card_of(
                    page, markets
                )
                page.goto(base + "#/scan")
                page.wait_for_selector("[data-testid=viewfinder][data-camera=on]", timeout=20_000)
                page.fill("input[name=shop_code]", nakheel_code.lower())
                page.click("[data-testid=code-open]")
                _card_of(page, nakheel)
                page.goto(base + f"#/shops/{markets_code}")
                _card_of(page, markets)
                assert errors == []
                page.context.close()
        finally:
            browser.close()
