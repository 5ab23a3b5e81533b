"""The supervisor's console in headless Chromium (Debian's package, driven by Playwright) over a live
server, as `supervisor_dammam`: the board shows a visit synced a moment before; a week is drafted,
one stop dragged to another inspector and published, and that inspector's `me/rounds` has it; a
flagged visit is sent back and the inspector sees it returned (through the API: the field app reads
the same endpoint); an administrator drafts, edits and publishes a checklist version and the next
sync serves it. Arabic and English screenshots at 1440x900 go to tests/artifacts/ (git-ignored)."""

import random
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.models import Answer, Establishment, Finding, Membership, RoundStop, Visit, VisitAmendment
from inspections.services.rounds import riyadh_today
from tests.factories import (
    CategoryFactory,
    ChecklistItemFactory,
    ChecklistVersionFactory,
    EstablishmentFactory,
    RoundFactory,
    VisitFactory,
    make_user,
    square,
)
from tests.field_app_support import WEB, npm
from tests.test_dashboard_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS  # also serialises SQLite's live server

Role = Membership.Role
PASSWORD = "pass12345"
SHOPS = [
    ("بقالة النخيل", "Al Nakheel Grocery"),
    ("مطعم الريف", "Al Reef Restaurant"),
    ("مخبز الفجر", "Al Fajr Bakery"),
    ("ملحمة السلام", "Al Salam Butchery"),
    ("بوفية الشاطئ", "Corniche Cafeteria"),
    ("تموينات الخليج", "Gulf Supplies"),
    ("مطعم البحر", "Sea Restaurant"),
    ("حلويات الشرقية", "Eastern Sweets"),
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]


def ensure_console_built() -> None:
    if not (WEB / "dist" / "console" / "index.html").exists():
        if not (WEB / "node_modules" / ".package-lock.json").exists():
            installed = npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
            assert installed.returncode == 0, installed.stderr[-3000:]
        built = npm("run", "build", "--", "console")
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]


@pytest.fixture
def world(transactional_db, amanah, dammam):
    """Dammam as a supervisor finds it: two inspectors with today's rounds, 40 shops (licensed long
    ago, so due), past visits with findings (some overdue), a flagged visit, a published checklist."""
    dammam.boundary = square(dammam.centre_lat, dammam.centre_lon, 0.06)
    dammam.save()
    supervisor = make_user(Role.SUPERVISOR, dammam, username="supervisor_dammam", language="ar")
    supervisor.first_name, supervisor.last_name = "سعد", "الدوسري"
    supervisor.set_password(PASSWORD)
    supervisor.save()
    inspectors = []
    for username, first, last in (("inspector_dammam", "فهد", "العتيبي"), ("inspector_dammam2", "ناصر", "الشمري")):
        user = make_user(Role.INSPECTOR, dammam, username=username)
        user.first_name, user.last_name = first, last
        user.set_password(PASSWORD)
        user.save()
        inspectors.append(user)
    admin = make_user(Role.ADMIN, username="admin")
    admin.set_password(PASSWORD)
    admin.save()
    grocery = CategoryFactory(code="grocery", name_ar="بقالة", name_en="Grocery")
    version = ChecklistVersionFactory(
        checklist__name_ar="اشتراطات المحلات الغذائية", checklist__name_en="Food shop hygiene"
    )
    items = [
        ChecklistItemFactory(
            version=version, code="CLEAN", text_ar="نظافة المحل", text_en="Shop is clean", severity="major"
        ),
        ChecklistItemFactory(
            version=version,
            code="FRIDGE",
            text_ar="حرارة الثلاجة",
            text_en="Fridge temperature",
            answer_type="number",
            min_value=0,
            max_value=5,
            unit="°C",
            severity="critical",
        ),
    ]
    rng = random.Random(13)
    shops = []
    for index in range(40):
        name_ar, name_en = SHOPS[index % len(SHOPS)]
        shops.append(
            EstablishmentFactory(
                municipality=dammam,
                category=grocery,
                name_ar=f"{name_ar} {index + 1}",
                name_en=f"{name_en} {index + 1}",
                lat=dammam.centre_lat + rng.uniform(-0.045, 0.045),
                lon=dammam.centre_lon + rng.uniform(-0.045, 0.045),
            )
        )
    Establishment.objects.filter(pk__in=[shop.pk for shop in shops]).update(
        created_at=timezone.now() - timedelta(days=500)
    )
    now = timezone.now()
    for index, shop in enumerate(shops[:16]):
        violation = index % 3 == 0
        visit = VisitFactory(
            establishment=shop,
            inspector=inspectors[index % 2],
            checklist_version=version,
            finished_at=now - timedelta(days=20 + 9 * index),
            outcome="violations" if violation else "compliant",
        )
        if violation:
            answer = Answer.objects.create(visit=visit, item=items[0], item_code="CLEAN", value="no", failed=True)
            Finding.objects.create(
                visit=visit,
                answer=answer,
                establishment=shop,
                municipality=dammam,
                item_code="CLEAN",
                severity="major",
                fine_sar=500,
                due_date=riyadh_today() - timedelta(days=3 + index),
                opened_at=visit.finished_at,
            )
    flagged = VisitFactory(
        establishment=shops[20],
        inspector=inspectors[0],
        checklist_version=version,
        finished_at=now - timedelta(hours=3),
        geo_status=Visit.GeoStatus.OUT_OF_RANGE,
        geo_distance_m=1250,
        lat=shops[20].lat + 0.011,
        lon=shops[20].lon,
    )
    rounds = []
    for inspector, start in ((inspectors[0], 24), (inspectors[1], 30)):
        round_ = RoundFactory(
            municipality=dammam, inspector=inspector, checklist=version.checklist, date=riyadh_today()
        )
        for position, shop in enumerate(shops[start : start + 4], start=1):
            RoundStop.objects.create(round=round_, establishment=shop, position=position)
        rounds.append(round_)
    return {
        "supervisor": supervisor,
        "inspectors": inspectors,
        "admin": admin,
        "shops": shops,
        "version": version,
        "flagged": flagged,
        "rounds": rounds,
        "municipality": dammam,
    }


@pytest.fixture
def server(world, request):
    ensure_console_built()
    return request.getfixturevalue("live_server")


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls (the phone's
    # sync, the checks) are ordinary blocking calls all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def open_console(browser, server, username: str, hash_: str = "board"):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ar-SA", timezone_id="Asia/Riyadh")
    page = context.new_page()
    page.on("pageerror", lambda error: print("PAGEERROR", error))
    page.goto(f"{server.url}/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.tabs")
    if hash_ != "board":
        page.click(f"nav.tabs a[href='#{hash_}']")
    return page


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"console_{name}.png"))


def to_english(page) -> None:
    page.click("header button.link:has-text('English')")
    page.wait_for_function("() => document.documentElement.dir === 'ltr'")


def sync_visit(api, inspector, shop, version, stop=None) -> dict:
    """The phone's sync: a real POST visits/sync a moment before the supervisor looks."""
    now = timezone.now()
    body = {
        "visits": [
            {
                "client_id": str(uuid.uuid4()),
                "establishment_id": shop.pk,
                "round_stop_id": stop.pk if stop else None,
                "checklist_version_id": version.pk,
                "started_at": (now - timedelta(minutes=12)).isoformat(),
                "finished_at": (now - timedelta(seconds=30)).isoformat(),
                "location": {"lat": shop.lat, "lon": shop.lon, "accuracy_m": 6.0},
                "outcome": "compliant",
                "answers": [{"item_code": "CLEAN", "value": "yes"}, {"item_code": "FRIDGE", "value": 3}],
            }
        ]
    }
    answer = api.as_user(inspector).post("visits/sync", body)
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "created", answer.json()
    return answer.json()["results"][0]


def test_the_board_shows_a_visit_synced_a_moment_before(api, world, server, browser):
    shop = world["shops"][24]  # first stop of inspector_dammam's round today
    stop = RoundStop.objects.get(round=world["rounds"][0], establishment=shop)
    sync_visit(api, world["inspectors"][0], shop, world["version"], stop)
    page = open_console(browser, server, "supervisor_dammam")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    row = page.locator("tr[data-inspector=inspector_dammam]")
    row.locator(".last-seen", has_text=shop.name_ar).wait_for()
    assert "1 تمت" in row.inner_text()
    page.locator(".needs-me", has_text=world["shops"][20].name_ar).wait_for()
    shoot(page, "board_ar")
    # The board refreshes by itself: a second visit appears without touching the page.
    page.goto(f"{server.url}/console/?refresh=2#board")
    page.wait_for_selector("tr[data-inspector=inspector_dammam2]")
    second = world["shops"][30]
    sync_visit(api, world["inspectors"][1], second, world["version"])
    page.locator("tr[data-inspector=inspector_dammam2] .last-seen", has_text=second.name_ar).wait_for(timeout=8000)
    to_english(page)
    page.locator("th", has_text="Last seen").wait_for()
    shoot(page, "board_en")


def test_a_week_is_planned_edited_and_published(api, world, server, browser):
    page = open_console(browser, server, "supervisor_dammam", "week")
    page.click("[data-testid=draft-week]")
    page.wait_for_selector(".chip")
    inspector, other = world["inspectors"]
    chip = page.locator(f".cell[data-cell^='{inspector.pk}|'] .chip").first
    establishment_id = int(chip.get_attribute("data-establishment"))
    day = chip.locator("xpath=ancestor::div[contains(@class,'cell')]").get_attribute("data-cell").split("|")[1]
    target = page.locator(f".cell[data-cell='{other.pk}|{day}']")
    before = int(page.locator(f"[data-load='{other.pk}']").inner_text())
    chip.drag_to(target)
    target.locator(f".chip[data-establishment='{establishment_id}']").wait_for()
    assert int(page.locator(f"[data-load='{other.pk}']").inner_text()) == before + 1
    shoot(page, "week_draft_ar")
    # Nothing reaches the phone before publishing.
    phone = api.as_user(other)
    held = {stop["establishment"]["id"] for r in phone.get("me/rounds").json()["rounds"] for stop in r["stops"]}
    assert establishment_id not in held
    page.click("[data-testid=publish-plan]")
    page.wait_for_selector(".badge.status-published")
    synced = phone.get("me/rounds").json()["rounds"]
    mine = [r for r in synced if r["date"] == day]
    assert establishment_id in {stop["establishment"]["id"] for r in mine for stop in r["stops"]}
    to_english(page)
    shoot(page, "week_published_en")


def test_a_flagged_visit_is_sent_back_and_the_inspector_sees_it_returned(api, world, server, browser):
    visit = world["flagged"]
    page = open_console(browser, server, "supervisor_dammam", "reviews")
    card = page.locator(f"li[data-visit='{visit.pk}']")
    card.locator(".flag", has_text="خارج النطاق").wait_for()
    shoot(page, "reviews_ar")
    card.locator("button.warn").click()
    card.locator("textarea[name=reason]").fill("الموقع يبعد ١٢٥٠ م عن المحل: وضّح السبب.")
    card.locator("button[type=submit]").click()
    card.locator(".ok", has_text="أُعيدت").wait_for()
    returned = api.as_user(world["inspectors"][0]).get("me/returned-visits").json()
    assert [row["id"] for row in returned] == [visit.pk] and "١٢٥٠" in returned[0]["reason"]
    to_english(page)
    card.locator(".ok", has_text="Sent back").wait_for()
    shoot(page, "reviews_en")

    # The inspector's field app shows the visit as returned, with the reason, and takes the answer,
    # which is stored as an amendment (the visit itself never changes).
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="ar-SA")
    field = phone.new_page()
    field.goto(f"{server.url}/field/")
    field.fill("input[name=username]", world["inspectors"][0].username)
    field.fill("input[name=password]", PASSWORD)
    field.click("button[type=submit]")
    field.wait_for_selector("[data-testid=pending-counter]")
    field.goto(f"{server.url}/field/#/inbox")
    returned_card = field.locator(f"[data-testid=returned-{visit.pk}]")
    returned_card.locator("[data-testid=returned-reason]", has_text="١٢٥٠").wait_for()
    field.screenshot(path=str(ARTIFACTS / "field-returned-visit-ar.png"))
    returned_card.locator("textarea[name=answer]").fill("كان المدخل من الشارع الخلفي.")
    returned_card.locator("button[type=submit]").click()
    returned_card.locator("[data-testid=returned-sent]").wait_for()
    assert VisitAmendment.objects.filter(visit=visit).count() == 1
    assert api.as_user(world["inspectors"][0]).get("me/returned-visits").json() == []
    phone.close()


def test_an_admin_drafts_edits_and_publishes_a_checklist_and_the_next_sync_serves_it(api, world, server, browser):
    checklist = world["version"].checklist
    page = open_console(browser, server, "admin", "checklists")
    page.click(f"button:has-text('{checklist.name_ar}')")
    page.click("[data-testid=new-draft]")
    page.wait_for_selector("[data-testid=version-status][data-status=draft]")
    page.click("[data-testid=edit-CLEAN]")
    editor = page.locator("[data-testid=item-editor]")
    editor.locator("input[name=text_en]").fill("Shop and shelves are clean")
    editor.locator("select[name=severity]").select_option("critical")
    editor.locator("button[type=submit]").click()
    page.locator("li[data-item=CLEAN] .flag", has_text="critical").wait_for()
    shoot(page, "checklist_draft_ar")
    page.click("[data-testid=publish-version]")
    page.wait_for_selector("[data-testid=version-status][data-status=published]")
    served = api.as_user(world["inspectors"][0]).get(f"checklists/{checklist.pk}").json()["published_version_detail"]
    assert served["number"] == 2
    clean = next(item for item in served["items"] if item["code"] == "CLEAN")
    assert clean["text_en"] == "Shop and shelves are clean" and clean["severity"] == "critical"
    to_english(page)
    page.wait_for_selector("li[data-item=CLEAN] strong:has-text('Shop and shelves are clean')")
    shoot(page, "checklist_published_en")


def test_planning_map_and_overdue_screens(api, world, server, browser):
    page = open_console(browser, server, "supervisor_dammam", "planMap")
    page.wait_for_selector(".ranked li")
    page.locator(".ranked li .why").first.wait_for()
    assert page.locator(".leaflet-interactive").count() >= 40
    shoot(page, "plan_map_ar")
    page.click("nav.tabs a[href='#overdue']")
    page.wait_for_selector("table tbody tr")
    rows = page.locator("table tbody tr").count()
    assert rows == Finding.objects.filter(status="open", due_date__lt=riyadh_today()).count()
    page.locator("table tbody tr input[type=checkbox]").first.check()
    page.click("[data-testid=schedule]")
    page.locator(".ok").wait_for()
    shoot(page, "overdue_ar")
    to_english(page)
    page.click("nav.tabs a[href='#planMap']")
    page.wait_for_selector(".ranked li .why")
    shoot(page, "plan_map_en")
