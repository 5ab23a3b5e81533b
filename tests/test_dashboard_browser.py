"""The dashboard in real headless Chromium (Debian's package, driven by Playwright; never downloaded):
log in as leadership, see H3 cells on the map, change a filter and see the figures change, switch
language and check the page direction. Screenshots go to tests/artifacts/ (git-ignored)."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from inspections.models import Answer, Finding, Membership, Visit
from tests.browser_support import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, single_threaded_live_server_on_sqlite
from tests.factories import (
    CategoryFactory,
    ChecklistItemFactory,
    ChecklistVersionFactory,
    EstablishmentFactory,
    UserFactory,
    VisitFactory,
)

RIYADH = ZoneInfo("Asia/Riyadh")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]


single_threaded_live_server_on_sqlite()


@pytest.fixture
def seeded(dammam, khobar, leader):
    """Six months of visits around Dammam and Khobar, item answers and an overdue finding."""
    leader.membership.language = Membership.Language.AR
    leader.membership.save()
    leader.first_name, leader.last_name = "عبدالله", "القحطاني"
    leader.save()
    rng = random.Random(5)
    inspector = UserFactory(username="field_inspector")
    grocery = CategoryFactory(code="grocery", name_en="Grocery", name_ar="بقالة")
    restaurant = CategoryFactory(code="restaurant", name_en="Restaurant", name_ar="مطعم")
    version = ChecklistVersionFactory(checklist__name_ar="الإجراءات الاحترازية", checklist__name_en="COVID-19 measures")
    items = [
        ChecklistItemFactory(version=version, code=code, text_ar=ar, text_en=en)
        for code, ar, en in (
            ("MASKS", "ارتداء الكمامات", "Staff wear masks"),
            ("SANITISER", "توفر المعقمات عند المدخل", "Sanitiser at the entrance"),
            ("DISTANCE", "علامات التباعد", "Distancing markers"),
            ("TAWAKKALNA", "التحقق من تطبيق توكلنا", "Tawakkalna status checked"),
        )
    ]
    today = timezone.localdate()
    for municipality, weight, count in ((dammam, 0.35, 18), (khobar, 0.12, 14)):
        for index in range(count):
            shop = EstablishmentFactory(
                municipality=municipality,
                category=grocery if index % 3 else restaurant,
                lat=municipality.centre_lat + rng.uniform(-0.04, 0.04),
                lon=municipality.centre_lon + rng.uniform(-0.04, 0.04),
            )
            for _ in range(rng.randint(2, 5)):
                day = today - timedelta(days=rng.randint(0, 170))
                failed = [item for item in items if rng.random() < weight / 2]
                visit = VisitFactory(
                    establishment=shop,
                    inspector=inspector,
                    checklist_version=version,
                    outcome=Visit.Outcome.VIOLATIONS if failed else Visit.Outcome.COMPLIANT,
                    violation_count=len(failed),
                    finished_at=datetime(day.year, day.month, day.day, 11, tzinfo=RIYADH),
                )
                for item in items:
                    answer = Answer.objects.create(
                        visit=visit,
                        item=item,
                        item_code=item.code,
                        value="no" if item in failed else "yes",
                        failed=item in failed,
                    )
                    if item in failed and rng.random() < 0.3:
                        Finding.objects.create(
                            visit=visit,
                            answer=answer,
                            establishment=shop,
                            municipality=municipality,
                            item_code=item.code,
                            severity=rng.choice(["minor", "major", "critical"]),
                            fine_sar=500,
                            due_date=min(day + timedelta(days=7), today - timedelta(days=1)),
                            opened_at=visit.finished_at,
                        )
    return {"dammam": dammam, "khobar": khobar}


def test_leadership_dashboard_in_chromium(live_server, seeded):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    # Counted before Playwright starts: its sync API runs an event loop, where Django refuses ORM calls.
    total_visits = Visit.objects.count()
    khobar_expected = Visit.objects.filter(municipality=seeded["khobar"]).count()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="en-US")
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{live_server.url}/dashboard/")
            assert "/dashboard/login/" in page.url
            page.fill("#id_username", "leader")
            page.fill("#id_password", "pass12345")
            page.click("button[type=submit].primary")
            page.wait_for_url(f"{live_server.url}/dashboard/")
            page.wait_for_selector("body[data-loads='1']", timeout=20_000)

            # Arabic, right to left, by default (even though the browser asks for en-US).
            assert page.get_attribute("html", "dir") == "rtl"
            assert page.get_attribute("html", "lang") == "ar"
            # H3 cells drawn on the map by Leaflet (SVG paths), and the municipality outlines.
            cells = page.locator("#map path.h3-cell")
            assert cells.count() > 5
            assert page.locator("#map path.municipality-outline").count() == 2
            assert page.locator("#trend svg circle.point").count() >= 5
            all_visits = page.text_content("#kpi-visits")
            assert int(all_visits.replace(",", "")) == total_visits
            page.screenshot(path=str(ARTIFACTS / "dashboard-ar.png"), full_page=True)

            # A filter changes the figures: Khobar only.
            page.select_option("#f-municipality", str(seeded["khobar"].id))
            page.wait_for_selector("body[data-loads='2']", timeout=20_000)
            khobar_visits = page.text_content("#kpi-visits")
            assert int(khobar_visits.replace(",", "")) == khobar_expected
            assert khobar_visits != all_visits
            assert page.locator("#municipality-table tbody tr").count() == 1

            # The English switch: left to right.
            page.click("#lang-switch")
            page.wait_for_selector("html[dir='ltr']", timeout=20_000)
            page.wait_for_selector("body[data-loads='1']", timeout=20_000)
            assert page.get_attribute("html", "lang") == "en"
            assert "Municipalities" in page.text_content("body")
            assert page.locator("#map path.h3-cell").count() > 5
            page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
