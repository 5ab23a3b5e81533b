"""The shop manager's acknowledgement in the field app (/field/), in real headless Chromium at a
phone's size against a live server: after saving a visit the inspector hands the phone over, the
manager draws a signature on the canvas (mouse strokes here) and types a name; or the inspector
records a refusal to sign. Checked on the server: the stored PNG has ink, its SHA-256 matches, the
name is kept. Offline, the acknowledgement waits on the phone and is sent exactly once when the
connection returns, even when the first answer is lost. Screenshots (Arabic and English, 390 px) go
to var/screenshots/."""

import hashlib
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from enforcement.models import Acknowledgement
from inspections.demo import checklists as demo_checklists
from inspections.models import Checklist, ChecklistVersion, Visit
from inspections.services.rounds import riyadh_today, round_create
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


@pytest.fixture
def visit_day(dammam, inspector, supervisor):
    """Today's round of two grocery stops for the demo inspector, on the demo food-hygiene checklist."""
    demo_checklists.seed()
    checklist = Checklist.objects.get(code="food-hygiene-licence")
    grocery = CategoryFactory(code="grocery")
    shops = [
        EstablishmentFactory(
            municipality=dammam,
            category=grocery,
            name_ar=name_ar,
            name_en=name_en,
            lat=dammam.centre_lat + index * 0.003,
            lon=dammam.centre_lon + index * 0.002,
        )
        for index, (name_ar, name_en) in enumerate(
            [("بقالة النخيل", "Al Nakheel Grocery"), ("أسواق الدمام المركزية", "Dammam Central Markets")]
        )
    ]
    day_round = round_create(
        actor=supervisor,
        inspector_id=inspector.pk,
        date=riyadh_today(),
        checklist_id=checklist.pk,
        establishment_ids=[shop.pk for shop in shops],
        optimize_route=False,
    )
    version = ChecklistVersion.objects.get(checklist=checklist, status="published")
    items = {
        item.code: item
        for item in version.items.prefetch_related("categories")
        if not item.categories.exists() or item.categories.filter(code="grocery").exists()
    }
    return {"stops": list(day_round.stops.order_by("position")), "shops": shops, "items": items}


def _passing_value(item):
    if item.answer_type == "number":
        low = item.min_value if item.min_value is not None else item.max_value - 10
        high = item.max_value if item.max_value is not None else item.min_value + 10
        return str((low + high) / 2)
    if item.answer_type == "choice":
        return next(choice for choice in item.choices if choice not in item.failing_choices)
    return "yes"


def _at(shop):
    return {"latitude": shop.lat + 0.0002, "longitude": shop.lon, "accuracy": 12}


def _shot(page, name):
    page.wait_for_selector(".toast", state="detached", timeout=10_000)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{name} overflows horizontally: {widths}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"field-{name}.png"))


def _sign_in(page, base, stop):
    page.goto(base)
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", "insp_dammam")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_selector(f"[data-testid=stop-{stop.pk}]")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)


def _log_visit(page, base, stop, items) -> str:
    """Logs a compliant visit at the stop; returns its client_id (the app goes on to the signature)."""
    page.goto(base + f"#/visit/stop/{stop.pk}")
    page.wait_for_selector("[data-testid=shop-card]")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=gps-start]').textContent.includes('…')", timeout=20_000
    )
    for code, item in items.items():
        row = page.locator(f"[data-testid=item-{code}]")
        if item.answer_type == "number":
            row.locator("input[type=number]").fill(_passing_value(item))
        else:
            row.locator(f"button[data-value='{_passing_value(item)}']").click()
    page.click("[data-testid=save-visit]")
    page.wait_for_function("() => location.hash.startsWith('#/ack/')")
    page.wait_for_selector("[data-testid=signature-pad]")
    return page.evaluate("() => location.hash.split('/')[2]")


def _draw_signature(page):
    """Three strokes with the mouse across the pad: a loop, a zigzag and an underline."""
    box = page.locator("[data-testid=signature-pad]").bounding_box()
    x0, y0, width, height = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.15 + 0.02 * step, 0.5 - 0.25 * ((step % 6) / 5)) for step in range(12)],
        [(0.45 + 0.03 * step, 0.35 + (0.25 if step % 2 else 0)) for step in range(12)],
        [(0.12 + 0.06 * step, 0.72) for step in range(14)],
    ]
    for stroke in strokes:
        page.mouse.move(x0 + stroke[0][0] * width, y0 + stroke[0][1] * height)
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(x0 + fx * width, y0 + fy * height, steps=3)
        page.mouse.up()


def _ink_pixels(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        grey = image.convert("L")
        return sum(grey.histogram()[:80])


def _browser(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)


def test_the_manager_signs_on_the_phone_and_the_server_keeps_the_image_and_its_hash(
    live_server, visit_day, monkeypatch
):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stop, shop = visit_day["stops"][0], visit_day["shops"][0]
    with sync_api.sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            context = browser.new_context(**PHONE, locale="ar-SA", geolocation=_at(shop), permissions=["geolocation"])
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            base = f"{live_server.url}/field/"
            _sign_in(page, base, stop)
            visit_client_id = _log_visit(page, base, stop, visit_day["items"])
            assert page.get_attribute("html", "dir") == "rtl"
            _shot(page, "ack-ar")

            # Nothing drawn, no name: the phone says what is missing and stores nothing.
            page.click("[data-testid=ack-submit]")
            problems = page.text_content("[data-testid=ack-problems]")
            assert "لم يُرسم توقيع" in problems and "اكتب اسم الموقّع" in problems
            # A scribble, cleared, then the real signature (in the right-to-left layout here).
            _draw_signature(page)
            page.click("[data-testid=ack-clear]")
            _draw_signature(page)
            page.fill("input[name=signer_name]", "أحمد العتيبي")
            assert page.locator("[data-testid=ack-problems]").count() == 0  # both fixed: the warning goes
            _shot(page, "ack-signed-ar")
            page.click("[data-testid=language]")
            page.wait_for_selector("html[dir=ltr]")
            _shot(page, "ack-signed-en")
            page.click("[data-testid=language]")
            page.wait_for_selector("html[dir=rtl]")

            page.click("[data-testid=ack-submit]")
            page.wait_for_function("() => location.hash === '#/outbox'")
            page.wait_for_selector("[data-testid=ack-status][data-status=sent]", timeout=30_000)
            _shot(page, "ack-outbox-sent-ar")
            assert "أحمد العتيبي" in page.text_content("[data-testid=ack-status]")

            visit = Visit.objects.get(client_id=visit_client_id)
            ack = Acknowledgement.objects.get(visit=visit)
            assert ack.kind == "signed" and ack.signer_name == "أحمد العتيبي"
            png = ack.signature.read()
            assert png.startswith(b"\x89PNG")
            assert ack.signature_sha256 == hashlib.sha256(png).hexdigest()
            ink = _ink_pixels(png)
            assert ink > 500, f"the stored signature is blank ({ink} dark pixels)"
            with Image.open(io.BytesIO(png)) as image:
                assert image.convert("L").getpixel((2, 2)) > 240  # ink on white, not on transparent black
            # The phone shows the hash the server computed.
            assert ack.signature_sha256[:16] in page.text_content("[data-testid=ack-status]")

            # Opened again from the visit's row: the record, no second form.
            page.click("[data-testid=outbox-visit] .ack-link")
            page.wait_for_selector("[data-testid=ack-status][data-status=sent]")
            assert page.locator("[data-testid=signature-pad]").count() == 0
            page.click("[data-testid=language]")
            page.wait_for_selector("html[dir=ltr]")
            _shot(page, "ack-sent-en")
            assert Acknowledgement.objects.count() == 1
            assert errors == []
        finally:
            browser.close()


def test_the_inspector_records_a_refusal_to_sign(live_server, visit_day, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stop, shop = visit_day["stops"][1], visit_day["shops"][1]
    with sync_api.sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            context = browser.new_context(**PHONE, locale="en-GB", geolocation=_at(shop), permissions=["geolocation"])
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            base = f"{live_server.url}/field/"
            page.goto(base)
            page.evaluate("() => localStorage.setItem('jawla.field.language', 'en')")
            _sign_in(page, base, stop)
            visit_client_id = _log_visit(page, base, stop, visit_day["items"])
            assert page.get_attribute("html", "dir") == "ltr"
            _shot(page, "ack-en")
            page.click("[data-testid=ack-refused]")
            page.wait_for_selector("[data-testid=ack-refusal]")
            page.fill("input[name=refuser_name]", "Branch manager")
            _shot(page, "ack-refusal-en")
            page.click("[data-testid=language]")
            page.wait_for_selector("html[dir=rtl]")
            _shot(page, "ack-refusal-ar")
            page.click("[data-testid=ack-refusal-confirm]")
            page.wait_for_selector("[data-testid=ack-status][data-status=sent][data-kind=refused]", timeout=30_000)
            assert "رفض التوقيع" in page.text_content("[data-testid=ack-status]")

            ack = Acknowledgement.objects.get(visit__client_id=visit_client_id)
            assert ack.kind == "refused" and ack.signer_name == "Branch manager"
            assert not ack.signature and ack.signature_sha256 == ""
            assert errors == []
        finally:
            browser.close()


def test_offline_the_signature_waits_on_the_phone_and_is_sent_exactly_once(live_server, visit_day, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stop, shop = visit_day["stops"][0], visit_day["shops"][0]
    with sync_api.sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            context = browser.new_context(**PHONE, locale="en-GB", geolocation=_at(shop), permissions=["geolocation"])
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            base = f"{live_server.url}/field/"
            page.goto(base)
            page.evaluate("() => localStorage.setItem('jawla.field.language', 'en')")
            _sign_in(page, base, stop)

            context.set_offline(True)
            page.wait_for_selector("[data-testid=network]:has-text('Offline')")
            visit_client_id = _log_visit(page, base, stop, visit_day["items"])
            _draw_signature(page)  # in the left-to-right layout here
            page.fill("input[name=signer_name]", "Fahad Al-Qahtani")
            page.click("[data-testid=ack-submit]")
            page.wait_for_selector("[data-testid=ack-status][data-status=pending]")
            assert page.locator("[data-testid=outbox-visit][data-status=pending]").count() == 1
            assert int(page.text_content("[data-testid=pending-counter]")) == 2  # the visit and its signature
            _shot(page, "ack-outbox-offline-en")
            # Reloaded offline, it is still there (IndexedDB), with the same client_id.
            ack_client_id = page.evaluate(
                """() => new Promise((resolve, reject) => {
                    const open = indexedDB.open('jawla-field');
                    open.onsuccess = () => {
                        const request = open.result.transaction('acks').objectStore('acks').getAll();
                        request.onsuccess = () => resolve(request.result.map((ack) => ack.client_id));
                        request.onerror = reject;
                    };
                    open.onerror = reject;
                })"""
            )
            assert len(ack_client_id) == 1
            page.reload()
            page.wait_for_selector("[data-testid=ack-status][data-status=pending]")
            assert not Visit.objects.exists() and not Acknowledgement.objects.exists()

            # Online again; the server stores the first acknowledgement but its answer is lost.
            posted, lost = [], []

            def lose_first_answer(route):
                posted.append(route.request.post_data_json["client_id"])
                if not lost:
                    response = route.fetch()
                    lost.append(response.status)
                    route.abort("connectionreset")
                else:
                    route.continue_()

            context.route(re.compile(r".*/api/v1/enforcement/visits/\d+/acknowledgement$"), lose_first_answer)
            context.set_offline(False)
            page.wait_for_selector("[data-testid=ack-status][data-status=sent]", timeout=60_000)
            assert lost == [201]
            assert len(posted) >= 2 and set(posted) == set(ack_client_id)  # the same client_id every time
            visit = Visit.objects.get(client_id=visit_client_id)
            assert Acknowledgement.objects.count() == 1
            ack = Acknowledgement.objects.get(visit=visit)
            assert str(ack.client_id) == ack_client_id[0]
            assert ack.signer_name == "Fahad Al-Qahtani" and _ink_pixels(ack.signature.read()) > 500
            assert int(page.text_content("[data-testid=pending-counter]")) == 0
            _shot(page, "ack-outbox-sent-en")
            assert errors == []
        finally:
            browser.close()
