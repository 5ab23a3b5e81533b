"""The console's public-reports screen in headless Chromium (Debian's package, driven by Playwright)
over a live server. Citizens file reports through the Open311 POST of that server (one with a photo,
one by a registered volunteer, one anonymous without a photo); `supervisor_dammam` sees them ranked as
the API ranks them (the volunteer's first), adds the photographed one to tomorrow's round of an
inspector (the default day; the round exists, so the case becomes its first pending stop) and
dismisses another with a reason, which leaves the queue. Checked through the API and the database
too. Screenshots in Arabic and English, phone (390 px) and desktop, go to var/screenshots/."""

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as django_apps

from community.models import Case
from inspections.models import Membership, Round, RoundStop
from inspections.services.auth import token_pair_for
from inspections.services.rounds import riyadh_today
from tests.browser_support import CHROMIUM, LAUNCH_ARGS, single_threaded_live_server_on_sqlite
from tests.community_support import code_of
from tests.factories import EstablishmentFactory, RoundFactory, UserFactory, make_user, square
from tests.test_console_browser import PASSWORD, ensure_console_built
from tests.visit_support import make_checklist, visit_payload

Role = Membership.Role
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()


@pytest.fixture
def world(transactional_db, amanah, dammam):
    # A transactional test before this one flushed the report types that a data migration made.
    importlib.import_module("community.migrations.0002_service_types_and_shop_codes").seed(django_apps, None)
    dammam.boundary = square(dammam.centre_lat, dammam.centre_lon, 0.06)
    dammam.save()
    supervisor = make_user(Role.SUPERVISOR, dammam, username="supervisor_dammam", language="ar")
    supervisor.first_name, supervisor.last_name = "سعد", "الدوسري"
    supervisor.set_password(PASSWORD)
    supervisor.save()
    inspector = make_user(Role.INSPECTOR, dammam, username="inspector_dammam")
    inspector.first_name, inspector.last_name = "فهد", "العتيبي"
    inspector.save()
    other = make_user(Role.INSPECTOR, dammam, username="inspector_dammam2")
    other.first_name, other.last_name = "ناصر", "الشمري"
    other.save()
    version, _items = make_checklist()
    version.status = "published"
    version.save()
    checklist = version.checklist
    checklist.name_ar, checklist.name_en = "اشتراطات المحلات الغذائية", "Food shop hygiene"
    checklist.save()
    names = [
        ("بقالة النخيل", "Al Nakheel Grocery"),
        ("مطعم الريف", "Al Reef Restaurant"),
        ("مخبز الفجر", "Al Fajr Bakery"),
        ("ملحمة السلام", "Al Salam Butchery"),
        ("بوفية الشاطئ", "Corniche Cafeteria"),
    ]
    shops = [
        EstablishmentFactory(
            municipality=dammam,
            name_ar=ar,
            name_en=en,
            lat=dammam.centre_lat + 0.004 * index,
            lon=dammam.centre_lon + 0.003 * index,
        )
        for index, (ar, en) in enumerate(names)
    ]
    # Tomorrow's round of inspector_dammam, already planned with two stops.
    tomorrow = riyadh_today() + timedelta(days=1)
    round_ = RoundFactory(municipality=dammam, inspector=inspector, checklist=checklist, date=tomorrow)
    for position, store in enumerate(shops[3:5], start=1):
        RoundStop.objects.create(round=round_, establishment=store, position=position)
    # Today's round of the other inspector: a case triaged into it is visited and closes.
    today_round = RoundFactory(municipality=dammam, inspector=other, checklist=checklist, date=riyadh_today())
    RoundStop.objects.create(round=today_round, establishment=shops[4], position=1)
    extra = EstablishmentFactory(
        municipality=dammam, name_ar="تموينات الخليج", name_en="Gulf Supplies", lat=dammam.centre_lat - 0.01
    )
    volunteer = UserFactory(username="volunteer_ali")
    from community.models import Volunteer

    Volunteer.objects.create(user=volunteer)
    return {
        "supervisor": supervisor,
        "inspector": inspector,
        "shops": shops,
        "round": round_,
        "tomorrow": tomorrow,
        "volunteer": volunteer,
        "checklist": checklist,
        "version": version,
        "other": other,
        "today_round": today_round,
        "extra": extra,
    }


@pytest.fixture
def server(world, request):
    ensure_console_built()
    return request.getfixturevalue("live_server")


@pytest.fixture
def playwright(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as running:
        yield running


def shelf_photo() -> bytes:
    """A small picture of a shelf (so the thumbnail in the screenshots looks like one)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (236, 232, 220))
    draw = ImageDraw.Draw(image)
    for row, top in enumerate((30, 110, 190)):
        draw.rectangle((10, top + 40, 310, top + 48), fill=(120, 90, 60))
        for column in range(7):
            colour = [(200, 40, 40), (240, 240, 250), (40, 120, 200), (230, 180, 40)][(row + column) % 4]
            draw.rectangle((20 + 42 * column, top, 50 + 42 * column, top + 40), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def file_report(playwright, server, store, *, description, photo=False, volunteer=None, service="expired-products"):
    """A citizen's POST requests.json on the live server (multipart, as a phone's form sends it)."""
    headers = {"Accept-Language": "ar"}
    if volunteer is not None:
        headers["Authorization"] = f"Bearer {token_pair_for(user=volunteer).access}"
    citizen = playwright.request.new_context(extra_http_headers=headers)
    form = {"service_code": service, "address_id": code_of(store), "description": description}
    if photo:
        form["media"] = {"name": "shelf.jpg", "mimeType": "image/jpeg", "buffer": shelf_photo()}
    answer = citizen.post(f"{server.url}/open311/v2/requests.json", multipart=form)
    assert answer.status == 200, answer.text()
    (row,) = answer.json()
    citizen.dispose()
    return int(row["service_request_id"])


def open_triage(browser, server, *, phone=False):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1440, "height": 900}
    context = browser.new_context(viewport=viewport, is_mobile=phone, locale="ar-SA", timezone_id="Asia/Riyadh")
    page = context.new_page()
    page.on("pageerror", lambda error: print("PAGEERROR", error))
    page.goto(f"{server.url}/console/")
    page.fill("input[name=username]", "supervisor_dammam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.tabs")
    page.click("nav.tabs a[href='#triage']")
    page.wait_for_selector("section.triage")
    return page


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => [...document.images].every((image) => image.complete)")
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / f"console_triage_{name}.png"), full_page=True)


def to_english(page) -> None:
    page.click("header button.link:has-text('English')")
    page.wait_for_function("() => document.documentElement.dir === 'ltr'")


def shown_cases(page) -> list[int]:
    return [
        int(value) for value in page.locator("li[data-case]").evaluate_all("(rows) => rows.map((r) => r.dataset.case)")
    ]


PHOTO_LOADED = """(id) => {
    const image = document.querySelector(`li[data-case='${id}'] img`);
    return image.complete && image.naturalWidth > 0;
}"""


def fits_the_width(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_public_report_is_triaged_into_tomorrows_round_and_another_dismissed(api, world, server, playwright):
    shops = world["shops"]
    photographed = file_report(
        playwright, server, shops[0], description="حليب منتهي الصلاحية على الرف عند الباب", photo=True
    )
    by_volunteer = file_report(
        playwright,
        server,
        shops[1],
        description="المطبخ غير نظيف",
        volunteer=world["volunteer"],
        service="food-hygiene",
    )
    doubtful = file_report(playwright, server, shops[2], description="رائحة غريبة", service="food-hygiene")
    supervisor = api.as_user(world["supervisor"])
    queue = [row["id"] for row in supervisor.get("community/cases").json()["items"]]
    assert queue[0] == by_volunteer and set(queue) == {photographed, by_volunteer, doubtful}

    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    page = open_triage(browser, server)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.wait_for_selector(f"li[data-case='{doubtful}']")
    assert shown_cases(page) == queue  # ranked as the API ranks them: the volunteer's report first
    card = page.locator(f"li[data-case='{photographed}']")
    assert "بقالة النخيل" in card.inner_text() and "عدد المبلّغين: 1" in card.inner_text()
    card.locator("img").wait_for()
    photo_url = card.locator("img").get_attribute("src")
    assert photo_url == supervisor.get(f"community/cases/{photographed}").json()["photo_url"]
    served = page.request.get(f"{server.url}{photo_url}")
    assert served.status == 200 and served.headers["content-type"] == "image/jpeg", served.status
    page.wait_for_function(PHOTO_LOADED, arg=photographed)  # the photo thumbnail loads
    assert page.locator(f"li[data-case='{by_volunteer}'] .badge.volunteer").count() == 1
    shoot(page, "desktop_ar")

    # Add the photographed report to a round: tomorrow is the default day.
    card.locator("[data-testid=add-to-round]").click()
    form = card.locator("form.triage-form")
    assert form.locator("input[name=date]").input_value() == world["tomorrow"].isoformat()
    form.locator("select[name=inspector]").select_option(str(world["inspector"].pk))
    form.locator("select[name=checklist]").select_option(str(world["checklist"].pk))
    form.locator("button[type=submit]").click()
    card.locator("[data-testid=case-state][data-state=acknowledged]").wait_for()
    assert card.locator("[data-testid=case-round]").get_attribute("data-round") == str(world["round"].pk)
    assert "فهد العتيبي" in card.locator("[data-testid=case-round]").inner_text()
    # It is on that round, as its first pending stop (the priority).
    detail = supervisor.get(f"rounds/{world['round'].pk}").json()
    assert detail["date"] == world["tomorrow"].isoformat()
    stops = [stop for stop in detail["stops"] if stop["status"] == "pending"]
    assert stops[0]["establishment"]["id"] == shops[0].pk and len(stops) == 3
    case = Case.objects.select_related("round_stop").get(pk=photographed)
    assert case.round_stop.round_id == world["round"].pk and case.triaged_by_id == world["supervisor"].pk
    assert Round.objects.filter(date=world["tomorrow"]).count() == 1  # no second round was made

    # Dismiss another with a reason: it leaves the queue.
    other = page.locator(f"li[data-case='{doubtful}']")
    other.locator("[data-testid=dismiss]").click()
    other.locator("textarea[name=reason]").fill("الصورة لمحل آخر، والبلاغ بلا تفاصيل تكفي للزيارة")
    other.locator("button[type=submit]").click()
    page.locator(".ok[role=status]", has_text=f"{doubtful}").wait_for()
    assert page.locator(f"li[data-case='{doubtful}']").count() == 0
    assert doubtful not in [row["id"] for row in supervisor.get("community/cases").json()["items"]]
    dismissed = supervisor.get(f"community/cases/{doubtful}").json()
    assert dismissed["state"] == "dismissed" and "لمحل آخر" in dismissed["dismissed_reason"]
    assert Case.objects.get(pk=doubtful).dismissed_at is not None
    shoot(page, "desktop_after_ar")

    # The dismissed list shows it with its reason; a fresh queue no longer has it.
    page.click("button[data-state=dismissed]")
    page.locator(f"li[data-case='{doubtful}'] .case-status", has_text="لمحل آخر").wait_for()
    page.click("button[data-state=acknowledged]")
    page.locator(f"li[data-case='{photographed}'] [data-testid=case-round]").wait_for()
    page.click("button[data-state=new]")
    page.wait_for_selector(f"li[data-case='{by_volunteer}']")
    assert shown_cases(page) == [by_volunteer]
    # The status follows the stop and the visit: a case triaged into today's round closes when the
    # inspector's phone syncs the visit, with what the inspection found.
    visited = file_report(playwright, server, world["extra"], description="لحوم مكشوفة", photo=True)
    triaged = supervisor.post(f"community/cases/{visited}/triage", {"round_id": world["today_round"].pk})
    assert triaged.status_code == 200, triaged.content
    stop = RoundStop.objects.get(round=world["today_round"], establishment=world["extra"])
    synced = api.as_user(world["other"]).post(
        "visits/sync", {"visits": [visit_payload(world["extra"], world["version"], round_stop=stop, EXPIRED="no")]}
    )
    assert synced.json()["results"][0]["status"] == "created", synced.content
    page.click("button[data-state=closed]")
    closed = page.locator(f"li[data-case='{visited}']")
    closed.locator("[data-testid=case-state][data-state=closed]").wait_for()
    assert closed.locator(".case-status").inner_text() == "نتيجة التفتيش: مخالفات · عدد المخالفات المرصودة 1"
    page.click("button[data-state=new]")
    page.wait_for_selector(f"li[data-case='{by_volunteer}']")
    to_english(page)
    page.locator(f"li[data-case='{by_volunteer}'] .badge.volunteer", has_text="Volunteer").wait_for()
    page.click("button[data-state=acknowledged]")
    page.locator(f"li[data-case='{photographed}'] [data-testid=case-round]", has_text="In round").wait_for()
    shoot(page, "desktop_en")
    page.click("button[data-state=closed]")
    result = "Inspection result: violations · 1 violation(s) found"
    page.locator(f"li[data-case='{visited}'] .case-status", has_text=result).wait_for()
    shoot(page, "desktop_closed_en")
    page.context.close()

    # On a phone, Arabic then English: nothing wider than the screen.
    phone = open_triage(browser, server, phone=True)
    phone.wait_for_selector(f"li[data-case='{by_volunteer}']")
    phone.locator(f"li[data-case='{by_volunteer}'] [data-testid=add-to-round]").click()
    phone.locator("form.triage-form").wait_for()
    assert phone.evaluate("document.documentElement.dir") == "rtl" and fits_the_width(phone)
    shoot(phone, "phone_ar")
    to_english(phone)
    phone.click("button[data-state=acknowledged]")
    phone.locator(f"li[data-case='{photographed}'] [data-testid=case-round]", has_text="In round").wait_for()
    assert fits_the_width(phone)
    shoot(phone, "phone_en")
    phone.context.close()
    browser.close()
