"""What the Chromium tests share: Debian's chromium (never downloaded), its flags for a closed
network, the artifacts folder, the phone viewport and the screenshot of a page that fits it, and a
live server that works on the in-memory SQLite database."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
SCREENSHOTS = Path(__file__).parent.parent / "var" / "screenshots"  # git-ignored; screens to look at
PHONE = {"width": 390, "height": 844}
NO_HORIZONTAL_SCROLL = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_browser() -> Iterator:
    """Debian's Chromium through Playwright, closed afterwards; the test is skipped where Playwright is
    not installed, and the screenshots folder exists."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screen_saved(page, name: str) -> None:
    """The page fits its viewport's width (no horizontal scroll: the width is the failure's message) and is
    saved whole as var/screenshots/NAME.png, to look at."""
    assert page.evaluate(NO_HORIZONTAL_SCROLL), page.evaluate("document.scrollingElement.scrollWidth")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def single_threaded_live_server_on_sqlite() -> None:
    """On the in-memory SQLite test database the live server's threads share the test's one
    connection, and the browser's parallel requests deadlock on it: serve one request at a time
    there (Django then closes each connection, so the browser never waits on a kept-alive one).
    Call at import: the session-scoped live_server fixture starts before any module fixture."""
    from django.conf import settings
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class OneRequestAtATime(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)  # the server thread itself already uses the shared connection

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        LiveServerThread.server_class = OneRequestAtATime
