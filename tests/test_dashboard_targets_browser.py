"""Targets per scope on the indicators page, in real headless Chromium: Arabic leadership reads where
each target comes from (Dammam's own, the Amanah's for Khobar, the national default); an English admin
sets an Amanah target from the Amanah's view and removes Dammam's own, which then falls back to the
Amanah's. The world and its figures: tests/test_analytics_targets.py. Screenshots: var/screenshots/."""

import pytest

from analytics.models import IndicatorTarget
from inspections.models import Membership
from tests.browser_support import CHROMIUM, LAUNCH_ARGS, SCREENSHOTS, single_threaded_live_server_on_sqlite
from tests.test_analytics_indicators import world  # noqa: F401 - the hand-computed world
from tests.test_analytics_targets import siblings  # noqa: F401 - Khobar with two shops
from tests.test_dashboard_indicators_browser import DESKTOP, NO_HORIZONTAL_SCROLL, PHONE, card_text, loads, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()


@pytest.fixture
def scoped_targets(siblings, amanah):  # noqa: F811
    IndicatorTarget.objects.create(code="coverage", target=0.9)
    IndicatorTarget.objects.create(code="coverage", municipality=amanah, target=0.6, amber_margin=0.05)
    IndicatorTarget.objects.create(code="coverage", municipality=siblings["dammam"], target=0.45)
    IndicatorTarget.objects.create(code="violation_rate", target=0.3, amber_margin=0.1)
    return siblings


def cell_title(page, row: int, column: int) -> str:
    return page.get_attribute(f"#i-breakdown tbody tr:nth-child({row}) td:nth-of-type({column})", "title") or ""


def test_arabic_leadership_reads_where_each_target_comes_from(live_server, leader, scoped_targets):
    leader.membership.language = Membership.Language.AR
    leader.membership.save()
    sync_api = pytest.importorskip("playwright.sync_api")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dammam = scoped_targets["dammam"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page, errors = sign_in(browser, live_server, "leader", viewport)
                # The whole Amanah: coverage 3 of 6 = 50% against the Amanah's 60% (its own): red.
                page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10")
                loads(page, 1)
                coverage = card_text(page, "coverage")
                assert "الهدف: 60.0" in coverage and "مصدر الهدف: أمانة المنطقة الشرقية" in coverage
                assert "موروث" not in coverage and "دون الهدف" in coverage
                violation = card_text(page, "violation_rate")
                assert "مصدر الهدف: وطني (موروث)" in violation
                # Per municipality, each cell says its target and origin (Dammam's own, Khobar's inherited).
                titles = " | ".join(cell_title(page, row, 1) for row in (1, 2))
                assert "45.0" in titles and "الدمام" in titles and "60.0" in titles and "موروث" in titles
                assert page.evaluate(NO_HORIZONTAL_SCROLL)
                page.screenshot(path=str(SCREENSHOTS / f"indicators-targets-ar-{name}.png"), full_page=True)
                # Dammam alone: its own 45%, met.
                page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={dammam.id}")
                loads(page, 1)
                coverage = card_text(page, "coverage")
                assert "الهدف: 45.0" in coverage and "مصدر الهدف: الدمام" in coverage and "يحقق الهدف" in coverage
                assert page.locator(".ind-set").count() == 0  # leadership reads targets; admins set them
                page.screenshot(path=str(SCREENSHOTS / f"indicators-targets-ar-dammam-{name}.png"), full_page=True)
                assert errors == [], errors
                page.close()
        finally:
            browser.close()


def test_an_admin_sets_an_amanah_target_and_removes_a_municipalitys_own(
    live_server, admin_user, amanah, scoped_targets
):
    sync_api = pytest.importorskip("playwright.sync_api")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dammam = scoped_targets["dammam"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page, errors = sign_in(browser, live_server, "admin_user", DESKTOP)
            # Dammam: its own 45% shows, with a button to remove it.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={dammam.id}")
            loads(page, 1)
            assert "Target from: Dammam" in card_text(page, "coverage")
            page.click('article.indicator[data-code="coverage"] details.ind-set summary')
            form = '.target-form[data-code="coverage"]'
            assert page.locator(f"{form} select[name=municipality] option").all_text_contents() == [
                "Dammam",
                "National",
            ]
            page.click(f"{form} .remove-target")
            loads(page, 2)
            # Removed: Dammam falls back to the Amanah's 60% (inherited), 50% is red.
            page.wait_for_selector('article.indicator[data-code="coverage"][data-light="red"]')
            text = card_text(page, "coverage")
            assert "Target: 60.0%" in text and "Target from: Eastern Province Amanah (inherited)" in text
            assert "Target removed." in text
            page.screenshot(path=str(SCREENSHOTS / "indicators-targets-en-removed.png"), full_page=True)
            # The Amanah's view: set its coverage target to 50% (margin 0): the 50% now meets it.
            page.goto(f"{live_server.url}/dashboard/indicators/?month=2026-10&municipality={amanah.id}")
            loads(page, 1)
            page.click('article.indicator[data-code="coverage"] details.ind-set summary')
            page.fill(f"{form} input[name=target]", "50")
            page.fill(f"{form} input[name=amber_margin]", "0")
            page.select_option(f"{form} select[name=municipality]", str(amanah.id))
            page.click(f"{form} button[type=submit]")
            loads(page, 2)
            page.wait_for_selector('article.indicator[data-code="coverage"][data-light="green"]')
            text = card_text(page, "coverage")
            assert (
                "Target: 50.0%" in text and "Target from: Eastern Province Amanah" in text and "(inherited)" not in text
            )
            assert page.evaluate(NO_HORIZONTAL_SCROLL)
            page.screenshot(path=str(SCREENSHOTS / "indicators-targets-en-desktop.png"), full_page=True)
            page.set_viewport_size(PHONE)
            assert page.evaluate(NO_HORIZONTAL_SCROLL)
            page.screenshot(path=str(SCREENSHOTS / "indicators-targets-en-phone.png"), full_page=True)
            assert errors == [], errors
        finally:
            browser.close()
    # What the page wrote (the ORM waits until Playwright's event loop is gone).
    assert not IndicatorTarget.objects.filter(code="coverage", municipality=dammam).exists()
    target = IndicatorTarget.objects.get(code="coverage", municipality=amanah)
    assert (target.target, target.amber_margin) == (0.5, 0.0)
    assert IndicatorTarget.objects.get(code="coverage", municipality=None).target == 0.9  # untouched
