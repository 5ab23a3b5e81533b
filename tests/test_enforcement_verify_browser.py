"""The public verification page in real headless Chromium: the report's QR target renders in Arabic
(right to left, phone size) and English (desktop), says the record matches its hash and signature,
shows no personal data; the objection page renders too. Screenshots in tests/artifacts/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enforcement.services.evidence import evidence_seal_pending, evidence_sign_day
from enforcement.services.penalties import penalties_assess_due
from enforcement.services.reports import visit_report_create
from tests.enforcement_support import violating_visit, violation
from tests.test_dashboard_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]


@pytest.fixture
def report(live_server, settings, inspector, supervisor, dammam):
    settings.PUBLIC_BASE_URL = live_server.url
    inspector.first_name, inspector.last_name = "Khalid", "Inspector-Private"
    inspector.save()
    violation(grade="serious", grace=0)
    visit, _finding = violating_visit(inspector=inspector, municipality=dammam)
    visit.establishment.name_en = "Al Noor Grocery"
    visit.establishment.name_ar = "بقالة النور"
    visit.establishment.save()
    penalties_assess_due()
    later = timezone.now() + timedelta(hours=1)
    evidence_seal_pending(now=later)
    evidence_sign_day(day=timezone.localdate(later), now=later)
    return visit_report_create(user=supervisor, visit=visit)


def test_verification_page_in_arabic_and_english(live_server, report):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    url = f"{live_server.url}/verify/{report.code}/"
    number = report.number
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="ar-SA")
            page = phone.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
            assert page.text_content("[data-testid=report-number]") == number
            verdict = page.text_content("[data-testid=verdict]")
            assert "السجل مطابق لبصمته وتوقيعه" in verdict
            body = page.text_content("body")
            assert "بقالة النور" in body and "مخالفات" in body
            assert "Inspector-Private" not in body and "insp_dammam" not in body
            page.screenshot(path=str(ARTIFACTS / "verify-ar-phone.png"), full_page=True)

            page.goto(f"{live_server.url}/objections/")
            assert page.get_attribute("html", "dir") == "rtl"
            page.screenshot(path=str(ARTIFACTS / "objection-ar-phone.png"), full_page=True)

            desktop = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
            page = desktop.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url + "?lang=en")
            assert page.get_attribute("html", "dir") == "ltr" and page.get_attribute("html", "lang") == "en"
            assert "The record matches its hash and signature" in page.text_content("[data-testid=verdict]")
            body = page.text_content("body")
            assert "Al Noor Grocery" in body and "Violations found" in body and "Yes" in body
            assert "Inspector-Private" not in body
            page.screenshot(path=str(ARTIFACTS / "verify-en-desktop.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
