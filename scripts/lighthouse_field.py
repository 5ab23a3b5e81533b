"""CI check of the field app (/field/): Lighthouse (npm, pinned in web/package-lock.json) on the page
served by Django, accessibility at least 95; and Chromium's own installability check (the PWA
criteria Lighthouse 12+ no longer scores): manifest, icons, service worker, no errors.

Usage: uv run python scripts/lighthouse_field.py [--min-accessibility 95]
Exit 0 when both pass, 1 otherwise. Reports go to var/ci/lighthouse-field.{json,html}."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.field_app_support import WEB, ensure_field_app_built, ensure_node_modules  # noqa: E402
from tests.process_support import free_port, stop_process_group, wait_for  # noqa: E402


def serve(port: int, database: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_ENV": "development"}
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def lighthouse(url: str, out: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    flags = " ".join(["--headless=new", *LAUNCH_ARGS])
    command = [
        str(Path(sys.executable).parent / "npx"),
        "--no-install",
        "lighthouse",
        url,
        "--only-categories=accessibility,best-practices",
        "--output=json",
        "--output=html",
        f"--output-path={out}",
        f"--chrome-flags={flags}",
        "--form-factor=mobile",
        "--quiet",
    ]
    run = subprocess.run(command, cwd=WEB, env=env, capture_output=True, text=True, timeout=300)
    report = out.with_suffix(".report.json")
    if not report.exists():
        raise SystemExit(f"lighthouse did not run:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return json.loads(report.read_text())


def installability(url: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    # A persistent profile: Chromium never offers to install from an incognito window.
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=LAUNCH_ARGS, viewport={"width": 390, "height": 844}
        )
        try:
            page = browser.new_page()
            page.goto(url)
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.reload()
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
            session = page.context.new_cdp_session(page)
            errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
            manifest = session.send("Page.getAppManifest")
            problems = [f"{error['errorId']} {error.get('errorArguments', '')}" for error in errors]
            problems += [
                f"manifest: {error['message']}" for error in manifest.get("errors", []) if error.get("critical")
            ]
            return problems
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-accessibility", type=float, default=95)
    args = parser.parse_args()
    ensure_node_modules()
    ensure_field_app_built()
    out_dir = ROOT / "var" / "ci"
    out_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(8600, 8699)
    url = f"http://127.0.0.1:{port}/field/"
    with tempfile.TemporaryDirectory() as folder:
        server = serve(port, Path(folder) / "lighthouse.sqlite3")
        try:
            if not wait_for(lambda: answers(url), timeout=60):
                print("the server did not answer")
                return 1
            report = lighthouse(url, out_dir / "lighthouse-field")
            problems = installability(url)
        finally:
            stop_process_group(server)
    scores = {name: round(category["score"] * 100) for name, category in report["categories"].items()}
    failed_audits = [
        audit_id
        for audit_id in (ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"])
        if report["audits"][audit_id].get("score") == 0
    ]
    print(f"lighthouse {report['lighthouseVersion']} on {url}: {scores}")
    if failed_audits:
        print("failed accessibility audits:", ", ".join(failed_audits))
    print("installable:", "yes" if not problems else f"no ({'; '.join(problems)})")
    ok = scores["accessibility"] >= args.min_accessibility and not problems
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
