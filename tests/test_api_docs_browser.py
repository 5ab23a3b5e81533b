"""API docs and the Content-Security-Policy in real headless Chromium (issue 11, item 17): Swagger UI comes
from django-ninja's bundled assets on our origin (no CDN: it works on an intranet), and renders with the
CSP on (no inline script needed, no violation reported)."""

import pytest

from tests.test_dashboard_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]


def test_swagger_ui_loads_from_our_origin_under_the_csp(live_server):
    from playwright import sync_api

    ARTIFACTS.mkdir(exist_ok=True)
    requested: list[str] = []
    console: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: console.append(message.text))
            response = page.goto(f"{live_server.url}/api/v1/docs")
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_selector(".opblock-summary-path", timeout=20_000)
            assert page.locator(".opblock").count() > 30  # every operation is listed
            assert "Jawla API" in page.locator(".title").first.inner_text()
            page.screenshot(path=str(ARTIFACTS / "api-docs-desktop-en.png"))
        finally:
            browser.close()
    outside = [url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")]
    assert outside == []
    assert not [line for line in console if "Content Security Policy" in line or "Refused to" in line], console
