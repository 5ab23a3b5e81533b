"""The inspector's field app (/field/) in real headless Chromium at a phone's size (390x844,
mobile, touch), against a live server: sign in, go offline, log three visits with an emulated GPS
fix and photos (one failing a photo-required item, one far from its shop), reload offline and find
them waiting, go online and see them sent exactly once even when the first batch's answer is lost,
a stop cancelled and a round reassigned while offline, a visit the server refuses fixed and resent,
and sign-out. Screenshots of the main screens in Arabic and English go to tests/artifacts/."""

import io
import re

import pytest
from django.utils import translation
from PIL import Image

from inspections.demo import checklists as demo_checklists
from inspections.models import Category, Checklist, ChecklistVersion, Establishment, Membership, Photo, RoundStop, Visit
from inspections.services.rounds import RoundChange, riyadh_today, round_create, round_update
from tests.browser_support import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, single_threaded_live_server_on_sqlite
from tests.factories import CategoryFactory, EstablishmentFactory, make_user
from tests.field_app_support import ensure_field_app_built

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()
ensure_field_app_built()  # before the session's live server starts, so whitenoise sees the build

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def field_day(dammam, inspector, supervisor):
    """Today's round of four grocery stops near Dammam's centre, and a second round of one stop."""
    inspector.membership.language = Membership.Language.AR
    inspector.membership.save()
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
            [
                ("بقالة النخيل", "Al Nakheel Grocery"),
                ("تموينات الخليج العربي الكبرى للمواد الغذائية", "Arabian Gulf Grand Foodstuff Supplies"),
                ("بقالة الفيصلية", "Al Faisaliyah Grocery"),
                ("أسواق الدمام المركزية", "Dammam Central Markets"),
                ("بقالة الشاطئ", "Al Shatea Grocery"),
            ]
        )
    ]
    today = riyadh_today()
    main_round = round_create(
        actor=supervisor,
        inspector_id=inspector.pk,
        date=today,
        checklist_id=checklist.pk,
        establishment_ids=[shop.pk for shop in shops[:4]],
        optimize_route=False,
    )
    other_round = round_create(
        actor=supervisor,
        inspector_id=inspector.pk,
        date=today,
        checklist_id=checklist.pk,
        establishment_ids=[shops[4].pk],
        optimize_route=False,
    )
    stops = list(main_round.stops.order_by("position"))
    version = ChecklistVersion.objects.get(checklist=checklist, status="published")
    items = {
        item.code: item
        for item in version.items.prefetch_related("categories")
        if not item.categories.exists() or item.categories.filter(code="grocery").exists()
    }
    return {
        "round": main_round,
        "other_round": other_round,
        "stops": stops,
        "shops": shops,
        "items": items,
        "checklist": checklist,
        "inspector2": make_user(Membership.Role.INSPECTOR, dammam, username="insp_dammam2"),
        "supervisor": supervisor,
        "version": version,
    }


def _jpeg(path, width=3000, height=2250):
    image = Image.new("RGB", (width, height), (30, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return str(path)


def _passing_value(item):
    if item.answer_type == "number":
        low = item.min_value if item.min_value is not None else item.max_value - 10
        high = item.max_value if item.max_value is not None else item.min_value + 10
        return str((low + high) / 2)
    if item.answer_type == "choice":
        return next(choice for choice in item.choices if choice not in item.failing_choices)
    return "yes"


def _answer_all(page, items, failing=()):
    for code, item in items.items():
        row = page.locator(f"[data-testid=item-{code}]")
        value = "no" if code in failing else _passing_value(item)
        if item.answer_type == "number":
            row.locator("input[type=number]").fill(value)
        else:
            row.locator(f"button[data-value='{value}']").click()


def _answer_unanswered(page, version):
    for item in version.items.all():
        row = page.locator(f"[data-testid=item-{item.code}]")
        if row.count() == 0:
            continue
        if item.answer_type == "number":
            if not row.locator("input[type=number]").input_value():
                row.locator("input[type=number]").fill(_passing_value(item))
        elif row.locator("button[aria-pressed=true]").count() == 0:
            row.locator(f"button[data-value='{_passing_value(item)}']").click()


def _no_horizontal_overflow(page, screen):
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{screen} overflows horizontally: {widths}"


def _shot(page, name):
    page.wait_for_selector(".toast", state="detached", timeout=10_000)  # the "saved" toast hides content
    _no_horizontal_overflow(page, name)
    page.screenshot(path=str(ARTIFACTS / f"field-{name}.png"), full_page=False)


def _counter(page) -> int:
    return int(page.text_content("[data-testid=pending-counter]"))


def _log_visit(page, stop, items, photo, *, failing=(), failing_photo=None, far=False):
    page.goto(page.url.split("#")[0] + f"#/visit/stop/{stop.pk}")
    page.wait_for_selector("[data-testid=shop-card]")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=gps-start]').textContent.includes('…')", timeout=20_000
    )
    _answer_all(page, items, failing)
    page.set_input_files("[data-testid=photo-_visit]", photo)
    page.wait_for_selector(".thumbs img")
    if failing_photo:
        # Saving without the photo the failing item demands is refused on the phone.
        page.click("[data-testid=save-visit]")
        page.wait_for_selector("[data-testid=problems]")
        page.set_input_files(f"[data-testid=photo-{failing_photo}]", photo)
        page.wait_for_selector(f"[data-testid=item-{failing_photo}] .thumbs img")
    page.click("[data-testid=save-visit]")
    if far:
        page.wait_for_selector("[data-testid=warnings]")
        assert "م" in page.text_content("[data-testid=warnings]")
        page.click("[data-testid=save-anyway]")
    # The app goes on to the manager's signature; these visits leave it for later.
    page.wait_for_function("() => location.hash.startsWith('#/ack/')")
    page.click("[data-testid=ack-later]")
    page.wait_for_function("() => location.hash === '#/rounds'")


def _outbox_ids(page) -> list[str]:
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open('jawla-field');
            open.onsuccess = () => {
                const request = open.result.transaction('outbox').objectStore('outbox').getAll();
                request.onsuccess = () => resolve(request.result.map((visit) => visit.client_id));
                request.onerror = reject;
            };
            open.onerror = reject;
        })"""
    )


def test_inspector_logs_visits_offline_and_they_arrive_once(live_server, field_day, tmp_path, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls between browser steps
    # happen while the browser waits, on the live server's shared test database.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    stops, items, shops = field_day["stops"], field_day["items"], field_day["shops"]
    photo = _jpeg(tmp_path / "shop-front.jpg")
    at_shop = lambda shop: {"latitude": shop.lat + 0.0002, "longitude": shop.lon, "accuracy": 12}  # noqa: E731
    failing_photo_item = "FH-05"  # critical, photo required on failure
    assert items[failing_photo_item].photo_required_on_fail

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(
                **PHONE, locale="ar-SA", geolocation=at_shop(shops[0]), permissions=["geolocation"]
            )
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            base = f"{live_server.url}/field/"

            # Sign in (Arabic, right to left, first).
            page.goto(base)
            page.wait_for_selector("input[name=username]")
            assert page.get_attribute("html", "dir") == "rtl"
            _shot(page, "signin-ar")
            page.fill("input[name=username]", "insp_dammam")
            page.fill("input[name=password]", "pass12345")
            page.click("button[type=submit]")
            page.wait_for_selector(f"[data-testid=stop-{stops[0].pk}]")
            page.wait_for_selector(f"[data-testid=round-{field_day['other_round'].pk}]")
            # Route order, and the checklist and shop cards cached for offline use.
            order = page.eval_on_selector_all(
                f"[data-testid=round-{field_day['round'].pk}] [data-testid^=stop-]",
                "rows => rows.map(r => r.dataset.testid)",
            )
            assert order == [f"stop-{stop.pk}" for stop in stops]
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
            _shot(page, "rounds-ar")

            # --- offline: three visits --------------------------------------------------------
            context.set_offline(True)
            page.wait_for_selector("[data-testid=network]:has-text('دون اتصال')")
            _log_visit(page, stops[0], items, photo)
            _shot(page, "rounds-after-save-ar")
            context.set_geolocation(at_shop(shops[1]))
            _log_visit(page, stops[1], items, photo, failing=[failing_photo_item], failing_photo=failing_photo_item)
            # The third far from its shop: the phone warns before saving, as the server will judge it.
            context.set_geolocation({"latitude": shops[2].lat + 0.05, "longitude": shops[2].lon, "accuracy": 250})
            _log_visit(page, stops[2], items, photo, far=True)
            client_ids = _outbox_ids(page)
            assert len(client_ids) == 3
            assert _counter(page) == 3 + 4  # three visits and four photos wait

            # Reload while offline: the app comes from the service worker, the outbox from IndexedDB.
            page.reload()
            page.wait_for_selector("[data-testid=pending-counter]")
            page.goto(base + "#/outbox")
            page.wait_for_selector("[data-testid=outbox-visit]")
            assert page.locator("[data-testid=outbox-visit][data-status=pending]").count() == 3
            assert _counter(page) == 7
            _shot(page, "outbox-offline-ar")
            page.goto(base + "#/signout")
            page.wait_for_selector("[data-testid=signout-warning]")
            assert "3" in page.text_content("[data-testid=signout-warning]")
            _shot(page, "signout-warning-ar")
            page.goto(base + "#/rounds")

            # Meanwhile at the office: stop 3 is cancelled, the second round goes to a colleague.
            supervisor = field_day["supervisor"]
            round_update(
                actor=supervisor, round_id=field_day["round"].pk, change=RoundChange(remove_stop_ids=[stops[2].pk])
            )
            round_update(
                actor=supervisor,
                round_id=field_day["other_round"].pk,
                change=RoundChange(inspector_id=field_day["inspector2"].pk),
            )
            assert Visit.objects.count() == 0

            # --- online again; the first batch's answer is lost on the way back ---------------
            lost = []

            def lose_first_answer(route):
                if not lost:
                    response = route.fetch()  # the server stores the batch...
                    lost.append(response.status)
                    route.abort("connectionreset")  # ...and the phone never hears back
                else:
                    route.continue_()

            context.route(re.compile(r".*/api/v1/visits/sync$"), lose_first_answer)
            context.set_geolocation(at_shop(shops[3]))
            context.set_offline(False)
            page.wait_for_function(
                "() => document.querySelector('[data-testid=pending-counter]').textContent.trim() === '0'",
                timeout=60_000,
            )
            assert lost == [200]
            assert Visit.objects.filter(client_id__in=client_ids).count() == 3  # each exactly once
            # The visit at the stop cancelled meanwhile was still sent, without its stop.
            far_visit = Visit.objects.get(client_id=client_ids[2])
            assert far_visit.round_stop_id is None and far_visit.establishment_id == shops[2].pk
            assert far_visit.geo_status in ("low_accuracy", "out_of_range")
            failing_visit = Visit.objects.get(client_id=client_ids[1])
            assert failing_visit.outcome == "violations"
            assert failing_visit.answers.get(item_code=failing_photo_item).failed
            assert Photo.objects.filter(visit__client_id__in=client_ids).count() == 4
            assert Photo.objects.filter(visit=failing_visit, answer__item_code=failing_photo_item).count() == 1
            assert all(max(photo.width, photo.height) <= 2000 for photo in Photo.objects.all())

            # Forcing another send of the same visits changes nothing on the server.
            page.evaluate(
                """() => new Promise((resolve) => {
                    const open = indexedDB.open('jawla-field');
                    open.onsuccess = () => {
                        const tx = open.result.transaction('outbox', 'readwrite');
                        const store = tx.objectStore('outbox');
                        store.getAll().onsuccess = (event) => {
                            for (const visit of event.target.result)
                                store.put({...visit, status: 'pending', next_attempt_at: 0});
                        };
                        tx.oncomplete = () => resolve(true);
                    };
                })"""
            )
            page.goto(base + "#/outbox")
            page.click("[data-testid=send-now]")
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=outbox-visit][data-status=sent]').length === 3",
                timeout=30_000,
            )
            assert Visit.objects.filter(client_id__in=client_ids).count() == 3
            assert Visit.objects.count() == 3
            _shot(page, "outbox-sent-ar")

            # The reassigned round is gone after the sync; the cancelled stop is marked.
            page.goto(base + "#/rounds")
            page.click("[data-testid=refresh]")
            page.wait_for_selector(
                f"[data-testid=round-{field_day['other_round'].pk}]", state="detached", timeout=20_000
            )
            page.wait_for_selector(f"[data-testid=stop-{stops[2].pk}][data-status=cancelled]")
            assert RoundStop.objects.get(pk=stops[2].pk).status == RoundStop.Status.CANCELLED
            _shot(page, "rounds-synced-ar")

            # --- a visit the server refuses: the shop's category was corrected meanwhile, so
            # items the inspector never saw are now required ------------------------------------
            context.set_offline(True)
            _log_visit(page, stops[3], items, photo)
            Establishment.objects.filter(pk=shops[3].pk).update(category=Category.objects.get(code="restaurant"))
            context.set_offline(False)
            page.goto(base + "#/outbox")
            page.wait_for_selector("[data-testid=outbox-visit][data-status=rejected]", timeout=30_000)
            with translation.override("ar"):
                expected = translation.gettext("Required items are not answered: %(codes)s").split("%")[0].strip()
            assert expected in page.text_content("[data-testid=rejection]")
            assert not Visit.objects.filter(round_stop=stops[3]).exists()
            _shot(page, "outbox-rejected-ar")
            page.click("[data-testid=fix]")
            page.wait_for_selector("[data-testid=shop-card]")
            # The earlier answers are kept; the items that now apply are there to answer.
            assert page.locator("[data-testid=item-FH-01] button[aria-pressed=true]").count() == 1
            _answer_unanswered(page, field_day["version"])
            page.click("[data-testid=save-visit]")
            page.wait_for_function("() => location.hash === '#/outbox'")
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=outbox-visit][data-status=sent]').length === 4",
                timeout=30_000,
            )
            fixed = Visit.objects.get(round_stop=stops[3])
            assert fixed.answers.count() > len(items)
            assert Visit.objects.count() == 4

            # --- English, and the other screens ------------------------------------------------
            _screens(page, base, "ar", stops)
            page.click("[data-testid=language]")
            page.wait_for_selector("html[dir=ltr]")
            _screens(page, base, "en", stops)

            # Sign-out wipes the phone's data.
            page.goto(base + "#/signout")
            page.click("button.danger")
            page.wait_for_selector("input[name=username]")
            assert _outbox_ids(page) == []
            assert errors == []
        finally:
            browser.close()


def _screens(page, base, language, stops):
    page.goto(base + "#/rounds")
    page.wait_for_selector(f"[data-testid=stop-{stops[0].pk}]")
    _shot(page, f"rounds-{language}")
    page.goto(base + "#/map")
    page.wait_for_selector(".leaflet-marker-icon")
    page.wait_for_timeout(300)
    assert page.locator(".stop-pin").count() >= 3
    _shot(page, f"map-{language}")
    page.goto(base + "#/adhoc")
    page.fill("input[name=q]", "Grocery" if language == "en" else "بقالة")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("[data-testid^=shop-]")
    _shot(page, f"adhoc-{language}")
    page.goto(base + "#/inbox")
    page.wait_for_selector("#inbox-title")
    _shot(page, f"inbox-{language}")
    page.goto(base + f"#/visit/stop/{stops[3].pk}")
    page.wait_for_selector("[data-testid=shop-card]")
    _shot(page, f"visit-{language}")
    page.screenshot(path=str(ARTIFACTS / f"field-visit-full-{language}.png"), full_page=True)
    page.goto(base + "#/outbox")
    page.wait_for_selector("[data-testid=outbox-visit]")
    _shot(page, f"outbox-{language}")
