"""Benchmark of the field app (/field/): its download (gzip bytes of JavaScript and CSS) and its time
to usable on a throttled phone, beside the server-rendered dashboard sign-in page as a baseline.

    python bench/field_app.py            # or: make bench-field-app
    python bench/field_app.py --runs 7 --rtt 150 --down-kbps 1600 --cpu 4

What it does (about two minutes on 2 cores):
1. builds the app if web/dist/field is missing, and reads the gzip size of what the first page load
   fetches (index.html's script and styles) and of what loads later (the map's chunk, Leaflet);
2. migrates a throwaway SQLite database, seeds an inspector with today's round of 12 stops and the demo
   food-hygiene checklist, and starts gunicorn on a free port;
3. in Debian's Chromium at 390x844 with CDP network throttling (default 150 ms RTT, 1.6 Mbit/s down,
   750 kbit/s up, "slow 4G") and 4x CPU throttling, measures the time from navigation to usable:
   - baseline: the dashboard's sign-in page (Django template), cold cache, until its form shows;
   - cold: the field app's first visit, empty cache, until its sign-in form shows;
   - service worker, online: a signed-in inspector reopens the app (throttled network), until
     today's stops are listed;
   - service worker, offline: the same with no network at all.
   Each is the median of --runs runs; "usable" is when the element appears (a MutationObserver).
"""

import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.field_app_support import FIELD_DIST, ensure_field_app_built  # noqa: E402
from tests.process_support import free_port, stop_process_group, wait_for  # noqa: E402

PASSWORD = "bench-pass-12345"
USABLE_SCRIPT = """
(() => {
  const selector = %r;
  const mark = () => {
    if (!window.__usableAt && document.querySelector(selector)) window.__usableAt = performance.now();
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', mark);
})();
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rtt", type=float, default=150, help="round-trip latency in ms (150)")
    parser.add_argument("--down-kbps", type=float, default=1600, help="download kbit/s (1600)")
    parser.add_argument("--up-kbps", type=float, default=750, help="upload kbit/s (750)")
    parser.add_argument("--cpu", type=float, default=4, help="CPU slowdown factor (4)")
    return parser.parse_args()


def gzip_size(path: Path) -> int:
    packed = path.with_name(path.name + ".gz")
    return packed.stat().st_size if packed.exists() else len(gzip.compress(path.read_bytes(), 9))


def bundle_sizes() -> dict[str, int]:
    index = (FIELD_DIST / "index.html").read_text()
    initial = {
        FIELD_DIST / ref.lstrip("/").removeprefix("field/")
        for ref in re.findall(r'(?:src|href)="(/field/assets/[^"]+)"', index)
    }
    assets = set((FIELD_DIST / "assets").glob("*.js")) | set((FIELD_DIST / "assets").glob("*.css"))
    lazy = assets - initial
    sizes = {
        "initial_js": sum(gzip_size(path) for path in initial if path.suffix == ".js"),
        "initial_css": sum(gzip_size(path) for path in initial if path.suffix == ".css"),
        "lazy_js": sum(gzip_size(path) for path in lazy if path.suffix == ".js"),
        "lazy_css": sum(gzip_size(path) for path in lazy if path.suffix == ".css"),
    }
    sizes["all_js"] = sizes["initial_js"] + sizes["lazy_js"]
    sizes["all_css"] = sizes["initial_css"] + sizes["lazy_css"]
    return sizes


def seed(env: dict) -> None:
    code = f"""
from django.contrib.auth import get_user_model
from inspections.demo import checklists
from inspections.models import Checklist, Membership
from inspections.services.rounds import round_create, riyadh_today
from tests.factories import AmanahFactory, CategoryFactory, EstablishmentFactory, MunicipalityFactory, make_user
checklists.seed()
amanah = AmanahFactory()
dammam = MunicipalityFactory(
    code="DAMMAM", name_en="Dammam", name_ar="الدمام", centre_lat=26.43, centre_lon=50.1, parent=amanah
)
inspector = make_user(Membership.Role.INSPECTOR, dammam, username="bench_inspector")
supervisor = make_user(Membership.Role.SUPERVISOR, dammam, username="bench_supervisor")
for user in (inspector, supervisor):
    user.set_password({PASSWORD!r}); user.save()
grocery = CategoryFactory(code="grocery")
shops = [
    EstablishmentFactory(municipality=dammam, category=grocery, lat=26.43 + i * 0.002, lon=50.1 + (i % 4) * 0.003)
    for i in range(12)
]
round_create(
    actor=supervisor,
    inspector_id=inspector.pk,
    date=riyadh_today(),
    checklist_id=Checklist.objects.get(code="food-hygiene-licence").pk,
    establishment_ids=[shop.pk for shop in shops],
)
"""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)


def throttle(page, args) -> None:
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": args.rtt,
            "downloadThroughput": args.down_kbps * 1000 / 8,
            "uploadThroughput": args.up_kbps * 1000 / 8,
        },
    )
    session.send("Emulation.setCPUThrottlingRate", {"rate": args.cpu})


def time_to_usable(context, url: str, selector: str, args, *, throttled: bool = True) -> float:
    page = context.new_page()
    try:
        page.add_init_script(USABLE_SCRIPT % selector)
        if throttled:
            throttle(page, args)
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.__usableAt !== undefined", timeout=60_000)
        return page.evaluate("window.__usableAt")
    finally:
        page.close()


def main() -> int:
    args = parse_args()
    ensure_field_app_built()
    sizes = bundle_sizes()
    from playwright.sync_api import sync_playwright

    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3"}
        for name in ("REDIS_URL", "CELERY_BROKER_URL"):
            env.pop(name, None)
        seed(env)
        port = free_port(8700, 8799)
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "backend.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", "2", "--threads", "4", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            import urllib.request

            def up():
                try:
                    return urllib.request.urlopen(f"{base}/field/", timeout=2).status == 200
                except OSError:
                    return False

            assert wait_for(up, timeout=60), "gunicorn did not answer"
            results: dict[str, list[float]] = {"baseline": [], "cold": [], "sw_online": [], "sw_offline": []}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
                try:
                    warm_up = browser.new_context(**phone)  # the server's first requests are slower
                    for url in (f"{base}/dashboard/login/", f"{base}/field/"):
                        warm_up.new_page().goto(url)
                    warm_up.close()
                    for _ in range(args.runs):
                        context = browser.new_context(**phone)
                        results["baseline"].append(
                            time_to_usable(context, f"{base}/dashboard/login/", "#id_username", args)
                        )
                        context.close()
                        context = browser.new_context(**phone)
                        results["cold"].append(time_to_usable(context, f"{base}/field/", "input[name=username]", args))
                        # Sign in once (unthrottled), let the service worker take over and the day sync.
                        page = context.new_page()
                        page.goto(f"{base}/field/")
                        page.fill("input[name=username]", "bench_inspector")
                        page.fill("input[name=password]", PASSWORD)
                        page.click("button[type=submit]")
                        page.wait_for_selector("[data-testid^=stop-]", timeout=60_000)
                        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30_000)
                        page.close()
                        stops = "[data-testid^=stop-]"
                        results["sw_online"].append(time_to_usable(context, f"{base}/field/", stops, args))
                        context.set_offline(True)
                        results["sw_offline"].append(
                            time_to_usable(context, f"{base}/field/", stops, args, throttled=False)
                        )
                        context.close()
                finally:
                    browser.close()
        finally:
            stop_process_group(server)

    median = {name: statistics.median(values) for name, values in results.items()}
    kb = lambda value: f"{value / 1024:.1f} KB"  # noqa: E731
    profile = f"{args.rtt:.0f} ms RTT, {args.down_kbps:.0f}/{args.up_kbps:.0f} kbit/s, CPU x{args.cpu:g}"
    print(f"field app bundle (gzip): initial JS {kb(sizes['initial_js'])}, CSS {kb(sizes['initial_css'])}; ")
    print(
        f"  later (map: Leaflet; push: Firebase, only when configured) JS {kb(sizes['lazy_js'])}, "
        f"CSS {kb(sizes['lazy_css'])}; ",
        end="",
    )
    print(f"all JS {kb(sizes['all_js'])} (target < 150 KB), all CSS {kb(sizes['all_css'])}")
    print(f"time to usable, median of {args.runs} runs, phone 390x844, {profile}:")
    rows = [
        ("baseline: dashboard sign-in page, cold cache", "baseline"),
        ("field app, cold cache (sign-in form)", "cold"),
        ("field app from the service worker, online (today's stops)", "sw_online"),
        ("field app from the service worker, offline (today's stops)", "sw_offline"),
    ]
    for label, key in rows:
        values = ", ".join(f"{value:.0f}" for value in results[key])
        print(f"  {label:<62} {median[key]:7.0f} ms   ({values})")
    verdict = "met" if median["sw_offline"] < 1000 and sizes["all_js"] < 150 * 1024 else "NOT met"
    print(f"targets (< 150 KB gzip JS, usable offline < 1 s): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
