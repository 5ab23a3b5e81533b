"""The indicators page in real headless Chromium (Debian's package, driven by Playwright): leadership
reads October 2026 of the hand-computed world (tests/test_analytics_indicators.py) in Arabic, on a
390 px phone and a desktop, without horizontal scroll; switches to a Hijri month; an impossible year
is explained and nothing is shown half-filtered; an admin (English) sets a target and the traffic
light turns amber, in words and an icon. Screenshots go to var/screenshots/."""

import pytest

from analytics.indicators import INDICATORS
from inspections.models import Membership
from tests.browser_support import (
    CHROMIUM,
    PHONE,
    SCREENSHOTS,
    chromium_browser,
    screen_saved,
    single_threaded_live_server_on_sqlite,
)
from tests.test_analytics_indicators import world  # noqa: F401 - the hand-computed world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()

DESKTOP = {"width": 1366, "height": 900}


def sign_in(browser, live_server, username: str, viewport: dict):
    page = browser.new_page(viewport=viewport, locale="en-US")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Console errors too (a Content-Security-Policy refusal is one), but not the missing favicon.
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "favicon" not in (message.location or {}).get("url", "")
            and errors.append(message.text)
        ),
    )
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    return page, errors


def loads(page, count: int) -> None:
    page.wait_for_selector(f"body[data-loads='{count}']", timeout=20_000)


def card_text(page, code: str) -> str:
    return " ".join(page.text_content(f'article.indicator[data-code="{code}"]').split())


@pytest.fixture
def arabic_leader(leader):
    leader.membership.language = Membership.Language.AR
    leader.membership.save()
    return leader


def test_leadership_reads_october_in_arabic_on_phone_and_desktop(live_server, arabic_leader, world):  # noqa: F811
    with chromium_browser() as browser:
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page, errors = sign_in(browser, live_server, "leader", viewport)
            page.click("#nav-indicators")  # reached from the overview's navigation
            page.wait_for_url("**/dashboard/indicators/**")
            loads(page, 1)
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10")
            loads(page, 1)
            assert page.get_attribute("html", "dir") == "rtl"
            assert page.locator("article.indicator").count() == len(INDICATORS)
            # No notice in this world: the card is there, named in Arabic, with no figure (not 0).
            penalties = card_text(page, "penalties_issued")
            assert "المخالفات المالية الصادرة" in penalties and "—" in penalties
            coverage = card_text(page, "coverage")
            # The whole scope (Dammam and Khobar): 2 of 4 active shops inspected, Wilson [15%, 85%].
            assert "تغطية التفتيش" in coverage and "50.0" in coverage and "15.0" in coverage and "85.0" in coverage
            assert "لا هدف محدد" in coverage  # the light in words, not colour alone
            assert "13.5 يوم" in card_text(page, "median_days_to_closure")
            assert page.text_content("#i-period") == "أكتوبر 2026"
            assert "1448" in page.text_content("#i-period-other")
            # The definition on demand.
            page.click('article.indicator[data-code="coverage"] details.ind-def summary')
            assert "نسبة المنشآت القائمة" in card_text(page, "coverage")
            # Per municipality, with the CSV and PDF links of the same month.
            assert page.locator("#i-breakdown tbody tr").count() == 2
            assert "indicators.pdf?month=2026-10" in page.get_attribute("#i-pdf", "href")
            assert "indicators.csv?month=2026-10" in page.get_attribute("#i-csv", "href")
            assert page.locator(".ind-set").count() == 0  # leadership reads; admins set targets
            screen_saved(page, f"indicators-ar-{name}")

            if name == "phone":
                # Scope: Khobar alone (no establishments): the breakdown hides, every value is "—".
                page.select_option("#i-scope", str(world["khobar"].id))
                loads(page, 2)
                assert "municipality=" in page.url
                assert page.locator("#i-breakdown-card").is_hidden()
                assert "لا بيانات في هذا الشهر" in card_text(page, "coverage")
                page.select_option("#i-scope", "")
                loads(page, 3)
                # A Hijri month: Jumada al-Ula 1448.
                page.select_option("#i-calendar", "hijri")
                loads(page, 4)
                page.fill("#i-year-hijri", "1448")
                page.select_option("#i-month-hijri", "5")
                page.wait_for_function("() => location.search.includes('hijri_month=1448-05')")
                page.wait_for_function("() => document.getElementById('i-period').textContent.includes('الأولى 1448')")
                screen_saved(page, "indicators-ar-phone-hijri")
                # An impossible year: explained, and nothing left on screen from before.
                page.fill("#i-year-hijri", "1600")
                page.dispatch_event("#i-year-hijri", "change")
                page.wait_for_selector("#i-error", state="visible")
                assert "1343" in page.text_content("#i-error")
                assert page.locator("article.indicator").count() == 0
                assert page.get_attribute("#i-pdf", "aria-disabled") == "true"
                page.screenshot(path=str(SCREENSHOTS / "indicators-ar-phone-invalid.png"), full_page=True)
            assert errors == [], errors
            page.close()


def test_an_admin_sets_a_target_from_the_page_in_english(live_server, admin_user, world):  # noqa: F811
    with chromium_browser() as browser:
        page, errors = sign_in(browser, live_server, "admin_user", DESKTOP)
        page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={world['dammam'].id}")
        loads(page, 1)
        assert page.get_attribute("html", "dir") == "ltr"
        assert "No target set" in card_text(page, "coverage")
        # Coverage 50% against a target of 60% with a 20-point margin: amber, "Near target".
        page.click('article.indicator[data-code="coverage"] details.ind-set summary')
        page.fill('.target-form[data-code="coverage"] input[name=target]', "60")
        page.fill('.target-form[data-code="coverage"] input[name=amber_margin]', "20")
        page.click('.target-form[data-code="coverage"] button[type=submit]')
        loads(page, 2)
        page.wait_for_selector('article.indicator[data-code="coverage"][data-light="amber"]')
        text = card_text(page, "coverage")
        assert "Near target" in text and "Target: 60.0%" in text and "Target saved." in text
        assert page.locator("#i-breakdown-card").is_hidden()  # one municipality: no breakdown
        screen_saved(page, "indicators-en-desktop")
        page.set_viewport_size(PHONE)
        screen_saved(page, "indicators-en-phone")
        assert errors == [], errors
