"""The overview as a new leadership user finds it (issue 16 item 5), in headless Chromium: a 390 px phone
without horizontal scroll, the map zooming to a municipality chosen from the table (the drill-down to its
visits and findings), the same Hijri month a year earlier, Hijri-month and per-inspector views, every
overdue finding on request, and a refused filter explained with nothing left half-filtered.
Screenshots (Arabic and English, phone and desktop) go to var/screenshots/."""

import pytest
from django.utils import timezone

from inspections.models import Category, Finding, Visit
from tests.browser_support import (
    CHROMIUM,
    NO_HORIZONTAL_SCROLL,
    PHONE,
    SCREENSHOTS,
    chromium_browser,
    screen_saved,
    single_threaded_live_server_on_sqlite,
)
from tests.test_analytics_overdue import finding as overdue_finding
from tests.test_dashboard_browser import seeded  # noqa: F401 - six months of visits in Dammam and Khobar

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()

DESKTOP = {"width": 1440, "height": 1000}


@pytest.fixture
def many_overdue(seeded):  # noqa: F811
    """Thirty more open findings past due in Dammam, so the panel holds more than its first dozen."""
    for n in range(30):
        overdue_finding(seeded["dammam"], due_in_days=-(n + 1), code=f"EXTRA{n}")
    return seeded


def sign_in(browser, live_server, viewport):
    page = browser.new_page(viewport=viewport, locale="en-US")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: message.type == "error" and "favicon" not in (message.location or {}).get("url", "")
        and errors.append(message.text),
    )  # fmt: skip
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", "pass12345")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.wait_for_selector("body[data-loads='1']", timeout=20_000)
    return page, errors


def next_load(page, action) -> None:
    before = int(page.get_attribute("body", "data-loads"))
    action()
    page.wait_for_selector(f"body[data-loads='{before + 1}']", timeout=20_000)


def test_overview_as_leadership_finds_it(live_server, many_overdue):
    khobar = many_overdue["khobar"]
    khobar_visits = Visit.objects.filter(municipality=khobar).count()
    newest_khobar = Visit.objects.filter(municipality=khobar).order_by("-finished_at", "-id").first().id
    overdue_total = Finding.objects.filter(status="open", due_date__lt=timezone.localdate()).count()
    with chromium_browser() as browser:
        page, errors = sign_in(browser, live_server, PHONE)
        assert page.get_attribute("html", "dir") == "rtl"
        assert page.get_attribute("#map", "data-fitted") == "all"
        # The same Hijri month a year earlier, named by its Umm al-Qura month.
        assert " هـ" in page.text_content("#compare-now-label")
        assert int(page.text_content("#compare-now-n").split()[0].replace(",", "")) > 0
        # Per inspector: the seeded world's field inspector and the thirty who found the extra findings.
        assert page.locator("#inspector-table tbody tr").count() == 31
        # ... of which the ten busiest are shown (a phone page is not a list of a whole Amanah's staff);
        # the rest on request.
        assert page.locator("#inspector-table tbody tr:visible").count() == 10
        assert "31" in page.text_content("#inspector-all")
        # Items named the same in two checklists stay apart: each row carries its code.
        assert "EXTRA0" in page.text_content("#item-table") and "MASKS" in page.text_content("#item-table")
        screen_saved(page, "overview-ar-phone")
        page.click("#inspector-all")
        assert page.locator("#inspector-table tbody tr:visible").count() == 31
        assert page.locator("#inspector-all").is_hidden()

        # Every overdue finding on request: the first dozen, then all of them.
        assert page.locator("#overdue-table tbody tr").count() == 12
        page.click("#overdue-all")
        page.wait_for_selector(f"body[data-overdue-loaded='{overdue_total}']", timeout=20_000)
        assert page.locator("#overdue-table tbody tr").count() == overdue_total
        assert page.locator("#overdue-all").is_hidden()

        # Drill-down: Khobar chosen from the municipalities table; the map zooms to it.
        next_load(page, lambda: page.click(f'#municipality-table button[data-municipality="{khobar.id}"]'))
        assert page.get_attribute("#map", "data-fitted") == str(khobar.id)
        assert page.input_value("#f-municipality") == str(khobar.id)
        assert int(page.text_content("#kpi-visits").replace(",", "")) == khobar_visits
        assert "الخبر" in page.text_content("#drill")
        assert f"municipality={khobar.id}" in page.get_attribute('a[data-export="visits.csv"]', "href")
        # ... and its visits, newest first, twenty at a time, each opening its report.
        assert page.is_visible("#visits-card")
        assert page.locator("#visits-table tbody tr").count() == 20 < khobar_visits
        assert f"20 من {khobar_visits}" in page.text_content("#visits-note")
        first = page.locator("#visits-table tbody tr").first
        report = f"/api/v1/analytics/exports/visits/{newest_khobar}/report.pdf"
        assert first.locator("a").get_attribute("href") == report
        assert " هـ" in first.text_content()
        page.click("#visits-more")
        page.wait_for_selector(f"body[data-visits-loaded='{min(40, khobar_visits)}']", timeout=20_000)
        assert page.locator("#visits-table tbody tr").count() == min(40, khobar_visits)
        screen_saved(page, "overview-ar-phone-khobar")
        next_load(page, lambda: page.click("#drill-reset"))
        assert page.get_attribute("#map", "data-fitted") == "all"
        assert page.locator("#visits-card").is_hidden()  # the visits list is the drill-down's

        # A refused filter ('from' after 'to'): explained; nothing half-applied stays on screen.
        page.fill("#f-from", "2099-12-31")
        page.wait_for_selector("#f-error", state="visible", timeout=20_000)
        assert page.text_content("#kpi-visits") == "—"
        assert page.locator("#municipality-table tbody tr").count() == 0
        assert page.get_attribute('a[data-export="visits.csv"]', "aria-disabled") == "true"
        page.screenshot(path=str(SCREENSHOTS / "overview-ar-phone-invalid.png"), full_page=True)
        assert errors == [], errors
        page.close()

        # English, desktop: Hijri-month trend.
        page, errors = sign_in(browser, live_server, DESKTOP)
        page.click("#lang-switch")  # a new page: its loads count from one again
        page.wait_for_selector("html[dir='ltr']", timeout=20_000)
        page.wait_for_selector("body[data-loads='1']", timeout=20_000)
        next_load(page, lambda: page.select_option("#f-trend", "hijri_month"))
        assert page.locator("#trend svg circle.point").count() >= 5
        assert " AH" in page.text_content("#trend svg")
        screen_saved(page, "overview-en-desktop")
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SCREENSHOTS / "overview-en-phone.png"), full_page=True)
        wide = page.evaluate(
            "() => [...document.querySelectorAll('body *')]"
            ".filter((e) => e.getBoundingClientRect().right > innerWidth + 1)"
            ".slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className)"
        )
        assert page.evaluate(NO_HORIZONTAL_SCROLL), wide
        assert errors == [], errors


def test_the_view_lives_in_its_address(live_server, seeded):  # noqa: F811
    """A leader's view is a link: filters and drill-down are written to the address (Back walks them
    back, a bookmark or a shared link reopens them, the language switch keeps them), and a link naming
    something outside the reader's scope is refused whole and explained, never half-applied."""
    khobar = seeded["khobar"]
    grocery = Category.objects.get(code="grocery")
    khobar_grocery = Visit.objects.filter(municipality=khobar, category=grocery).count()
    assert 0 < khobar_grocery < Visit.objects.filter(municipality=khobar).count()
    total = Visit.objects.filter(outcome__in=["compliant", "violations"]).count()
    with chromium_browser() as browser:
        page, errors = sign_in(browser, live_server, DESKTOP)
        assert page.evaluate("location.search") == ""  # the default view keeps a clean address
        next_load(page, lambda: page.select_option("#f-category", str(grocery.id)))
        assert page.evaluate("location.search") == f"?category={grocery.id}"
        next_load(page, lambda: page.click(f'#municipality-table button[data-municipality="{khobar.id}"]'))
        assert page.evaluate("location.search") == f"?municipality={khobar.id}&category={grocery.id}"
        assert int(page.text_content("#kpi-visits").replace(",", "")) == khobar_grocery
        assert page.locator("#visits-table tbody tr").count() == min(20, khobar_grocery)
        page.screenshot(path=str(SCREENSHOTS / "overview-ar-desktop-khobar.png"), full_page=True)
        # Back: out of the drill-down, the category kept.
        next_load(page, lambda: page.go_back())
        assert page.input_value("#f-municipality") == "" and page.input_value("#f-category") == str(grocery.id)
        assert page.get_attribute("#map", "data-fitted") == "all"
        assert page.locator("#drill").is_hidden()

        # A shared link opens the same view, in a fresh page.
        link = f"{live_server.url}/dashboard/?municipality={khobar.id}&category={grocery.id}&trend=hijri_month"
        shared, shared_errors = sign_in(browser, live_server, DESKTOP)  # another browser, signed in
        shared.goto(link)
        shared.wait_for_selector("body[data-loads='1']", timeout=20_000)
        assert shared.input_value("#f-municipality") == str(khobar.id)
        assert shared.input_value("#f-trend") == "hijri_month"
        assert int(shared.text_content("#kpi-visits").replace(",", "")) == khobar_grocery
        assert shared.get_attribute("#map", "data-fitted") == str(khobar.id)
        assert "الخبر" in shared.text_content("#drill")
        # The language switch keeps it.
        shared.click("#lang-switch")
        shared.wait_for_selector("html[dir='ltr']", timeout=20_000)
        shared.wait_for_selector("body[data-loads='1']", timeout=20_000)
        assert f"municipality={khobar.id}" in shared.url and shared.input_value("#f-category") == str(grocery.id)
        assert "Khobar" in shared.text_content("#drill")
        assert int(shared.text_content("#kpi-visits").replace(",", "")) == khobar_grocery
        shared.screenshot(path=str(SCREENSHOTS / "overview-en-desktop-link.png"), full_page=True)
        shared.set_viewport_size(PHONE)  # the drill-down with its visits on an English phone
        # A row keeps its date and Hijri date on two lines (the narrow date column once broke them
        # into a word per line: rows 160 px tall).
        assert shared.locator("#visits-table tbody tr").first.bounding_box()["height"] < 70
        screen_saved(shared, "overview-en-phone-khobar")
        assert shared_errors == [], shared_errors
        shared.close()

        # A link naming a municipality outside the scope (and a valid category): refused whole.
        page.goto(f"{live_server.url}/dashboard/?municipality=999999&category={grocery.id}")
        page.wait_for_selector("body[data-loads='1']", timeout=20_000)
        assert page.is_visible("#f-error")
        assert "النطاق" in page.text_content("#f-error") or "نطاقك" in page.text_content("#f-error")
        assert page.input_value("#f-municipality") == "" and page.input_value("#f-category") == ""
        assert page.evaluate("location.search") == ""
        assert int(page.text_content("#kpi-visits").replace(",", "")) == total  # the default view, whole
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SCREENSHOTS / "overview-ar-phone-refused-link.png"), full_page=False)
        # A malformed date is refused the same way.
        page.goto(f"{live_server.url}/dashboard/?from=2026-02-31&category={grocery.id}")
        page.wait_for_selector("body[data-loads='1']", timeout=20_000)
        assert page.is_visible("#f-error") and page.input_value("#f-category") == ""
        assert errors == [], errors


def test_the_municipalities_card_groups_by_amanah_and_class(live_server, seeded):  # noqa: F811
    """Leadership compares Amanahs and municipality classes on the same card: the rows fold the
    municipalities (Dammam class C, Khobar class A), the totals stay, the grouping is in the address,
    and only municipalities open a drill-down."""
    dammam = seeded["dammam"]
    dammam.municipality_class = "C"
    dammam.save(update_fields=["municipality_class"])
    completed = Visit.objects.filter(outcome__in=["compliant", "violations"])
    total = completed.count()
    in_dammam = completed.filter(municipality=dammam).count()
    with chromium_browser() as browser:
        page, errors = sign_in(browser, live_server, DESKTOP)
        next_load(page, lambda: page.select_option("#f-area", "municipality_class"))
        assert page.evaluate("location.search") == "?area=municipality_class"
        rows = page.locator("#municipality-table tbody tr")
        assert rows.count() == 2
        assert page.text_content("#area-head") == "فئة البلدية"
        cells = {rows.nth(i).locator("td").first.text_content(): rows.nth(i).locator("td").nth(1).text_content()
                 for i in range(2)}  # fmt: skip
        assert cells == {"الفئة A": f"{total - in_dammam:,}", "الفئة C": f"{in_dammam:,}"}
        assert page.locator("#municipality-table button[data-municipality]").count() == 0
        assert int(page.text_content("#kpi-visits").replace(",", "")) == total
        page.locator("#municipality-table").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "overview-ar-desktop-by-class.png"), full_page=False)

        # By Amanah, in English on a phone, from a link.
        page.click("#lang-switch")
        page.wait_for_selector("html[dir='ltr']", timeout=20_000)
        page.wait_for_selector("body[data-loads='1']", timeout=20_000)
        page.goto(f"{live_server.url}/dashboard/?area=amanah")
        page.wait_for_selector("body[data-loads='1']", timeout=20_000)
        page.set_viewport_size(PHONE)
        assert page.input_value("#f-area") == "amanah"
        assert rows.count() == 1 and page.text_content("#area-head") == "Amanah"
        assert rows.first.locator("td").nth(1).text_content() == f"{total:,}"
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        page.locator("#municipality-table").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "overview-en-phone-by-amanah.png"), full_page=False)

        # Back to municipalities: the drill-down buttons return.
        next_load(page, lambda: page.select_option("#f-area", "municipality"))
        assert page.evaluate("location.search") == ""
        assert page.locator("#municipality-table button[data-municipality]").count() == 2
        assert errors == [], errors
