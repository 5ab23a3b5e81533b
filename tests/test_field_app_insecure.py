"""The field app says so when it is opened in an insecure context (plain http on a network address,
where service workers, installation and GPS are unavailable) instead of failing silently. The
browser reaches the live server on 127.0.0.1 under another host name (host-resolver rule), which
Chromium, like a phone on the office Wi-Fi, treats as insecure."""

import pytest

from tests.browser_support import CHROMIUM, LAUNCH_ARGS, single_threaded_live_server_on_sqlite
from tests.field_app_support import ensure_field_app_built

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-chromium.sh)"),
]

single_threaded_live_server_on_sqlite()
ensure_field_app_built()


@pytest.mark.django_db(transaction=True)
def test_an_insecure_context_is_reported_on_screen(live_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    port = live_server.url.rsplit(":", 1)[1]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*LAUNCH_ARGS, "--host-resolver-rules=MAP jawla-office.test 127.0.0.1"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            page.goto(f"http://jawla-office.test:{port}/field/")
            banner = page.wait_for_selector("[data-testid=insecure]")
            assert "HTTPS" in banner.text_content()
            assert page.evaluate("() => window.isSecureContext") is False
            # The same page on 127.0.0.1 is a secure context: no banner.
            page.goto(f"{live_server.url}/field/")
            page.wait_for_selector("input[name=username]")
            assert page.locator("[data-testid=insecure]").count() == 0
        finally:
            browser.close()
