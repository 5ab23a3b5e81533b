"""Load: 50 simulated phones against a real gunicorn server on PostgreSQL, for a bounded time.

    python bench/load.py [--users 50] [--duration 60] [--port 8680] [--workers 3] [--threads 3] [--skip-setup]

Sets up its own database (jawla_load on the PostgreSQL of DATABASE_URL's server, default
127.0.0.1:5432: dropped, migrated, seeded with the demo), starts gunicorn in production mode on
127.0.0.1:PORT with the served configuration (backend/gunicorn.conf.py), then drives it from this
process with locust (as a library, headless). Each phone is its own inspector (load_phone_NN,
created with today's round of 8 stops), signs in, fetches its rounds and checklist once, then
loops:

  - delta sync: GET me/rounds?updated_since=<cursor>        (weight 10)
  - a batch of 5 visits to its stops: POST visits/sync      (weight 3)
  - a photo of one of its visits: POST visits/{id}/photos   (weight 1, a 1600x1200 JPEG)

and waits 1-3 s between actions (--wait; a real inspector's phone is far slower: a sync every
half minute, a visit every few minutes). Prints p50/p95/p99 per endpoint, requests/s, errors and the
peak memory (RSS) of the API processes (psutil), writes bench/out/load.json, and exits 1 if the
targets are missed: me/rounds p99 <= 100 ms and zero errors.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
from locust import HttpUser, between, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PASSWORD = "demo12345"
BATCH = 5
TARGET_P99_MS = 100

# One inspector per phone (several phones of one inspector would fight over the same round rows,
# which no real inspector does): load_phone_00..49, each with today's round of 8 stops in a demo
# municipality, planned through the rounds service as the demo admin.
PHONES_SETUP = """
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from inspections.models import Checklist, Establishment, Membership, Municipality, Round
from inspections.services.rounds import round_create
User = get_user_model()
admin = User.objects.get(username="admin")
checklist = Checklist.objects.get(code="covid19-shops")
categories = set(checklist.categories.values_list("code", flat=True))
shops = Establishment.objects.filter(category__code__in=categories, status="active")
municipalities = [m for m in Municipality.objects.filter(kind="baladiya") if shops.filter(municipality=m).count() >= 8]
password = make_password("%(password)s")
for n in range(%(phones)d):
    municipality = municipalities[n %% len(municipalities)]
    user, created = User.objects.get_or_create(username=f"load_phone_{n:02d}", defaults={"password": password})
    if created:
        Membership.objects.create(user=user, role="inspector", language="ar").municipalities.add(municipality)
    if not Round.objects.filter(inspector=user, date=timezone.localdate()).exists():
        stops = list(shops.filter(municipality=municipality).order_by("?").values_list("id", flat=True)[:8])
        round_create(actor=admin, inspector_id=user.pk, date=timezone.localdate(), checklist_id=checklist.pk,
                     establishment_ids=stops)
print("phones ready")
"""


def _photo() -> bytes:
    """A phone-sized JPEG (1600x1200, noisy so it does not compress to nothing)."""
    image = Image.effect_noise((1600, 1200), 40).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


PHOTO = b""
CHECKLISTS: dict[int, dict] = {}


def _answer_for(item: dict, fail: bool):
    kind = item["answer_type"]
    if kind == "number":
        low, high = item["min_value"], item["max_value"]
        if low is None:
            low = (high - 10) if high is not None else 0
        if high is None:
            high = low + 10
        return (high + 1) if fail else (low + high) / 2
    if kind == "choice":
        good = [c for c in item["choices"] if c not in item["failing_choices"]] or item["choices"]
        bad = item["failing_choices"] or good
        return (bad if fail else good)[0]
    return "no" if fail else "yes"


class Phone(HttpUser):
    """An inspector's phone: signs in, syncs its rounds, uploads visits and photos."""

    wait_time = between(1.0, 3.0)  # --wait MIN,MAX overrides
    usernames: list[str] = []
    started = 0
    ready = 0

    def on_start(self):
        self.username = self.usernames[Phone.started % len(self.usernames)]
        Phone.started += 1
        response = self.client.post(
            "/api/v1/auth/token", json={"username": self.username, "password": PASSWORD}, name="POST auth/token"
        )
        self.token = response.json()["access"]
        self.client.headers.update({"Authorization": f"Bearer {self.token}", "Accept-Language": "en"})
        full = self.client.get("/api/v1/me/rounds", name="GET me/rounds (full)").json()
        self.cursor = full["cursor"]
        self.stops = []
        for round_ in full["rounds"]:
            version_id = round_["checklist_version_id"]
            if version_id is None:
                continue
            if version_id not in CHECKLISTS:
                version = self.client.get(
                    f"/api/v1/checklists/versions/{version_id}", name="GET checklists/versions/{id}"
                ).json()
                checklist = self.client.get(
                    f"/api/v1/checklists/{round_['checklist_id']}", name="GET checklists/{id}"
                ).json()
                version["category_codes"] = {category["code"] for category in checklist["categories"]}
                CHECKLISTS[version_id] = version
            applies = CHECKLISTS[version_id]["category_codes"]
            for stop in round_["stops"]:
                # A phone offers the checklist only where it applies (the demo's rounds mix categories).
                if not applies or stop["establishment"]["category"] in applies:
                    self.stops.append((stop, version_id))
        self.visit_ids: list[int] = []
        Phone.ready += 1

    @task(10)
    def delta_sync(self):
        with self.client.get(
            "/api/v1/me/rounds", params={"updated_since": self.cursor}, name="GET me/rounds", catch_response=True
        ) as response:
            if response.status_code == 200:
                self.cursor = response.json()["cursor"]
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(3)
    def sync_visits(self):
        if not self.stops:
            return
        now = datetime.now(tz=UTC)
        visits = []
        for n in range(BATCH):
            stop, version_id = random.choice(self.stops)
            establishment = stop["establishment"]
            fail = random.random() < 0.15
            items = [
                item
                for item in CHECKLISTS[version_id]["items"]
                if not item["categories"] or establishment["category"] in item["categories"]
            ]
            failing_code = random.choice(items)["code"] if fail and items else None
            finished = now - timedelta(minutes=5 + n * 7)
            visits.append(
                {
                    "client_id": str(uuid.uuid4()),
                    "establishment_id": establishment["id"],
                    "checklist_version_id": version_id,
                    "started_at": (finished - timedelta(minutes=6)).isoformat(),
                    "finished_at": finished.isoformat(),
                    "location": {
                        "lat": establishment["lat"] + random.uniform(-2e-4, 2e-4),
                        "lon": establishment["lon"] + random.uniform(-2e-4, 2e-4),
                        "accuracy_m": random.uniform(4, 25),
                    },
                    "outcome": "violations" if failing_code else "compliant",
                    "answers": [
                        {"item_code": item["code"], "value": _answer_for(item, item["code"] == failing_code)}
                        for item in items
                    ],
                    "notes": "زيارة تجريبية ✅",
                }
            )
        with self.client.post(
            "/api/v1/visits/sync", json={"visits": visits}, name="POST visits/sync", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            results = response.json()["results"]
            rejected = [r for r in results if r["status"] == "rejected"]
            if rejected:
                response.failure(f"rejected: {rejected[0]['errors'][:2]}")
                return
            response.success()
            self.visit_ids.extend(r["visit_id"] for r in results)
            del self.visit_ids[:-20]

    @task(1)
    def upload_photo(self):
        if not self.visit_ids:
            return
        visit_id = random.choice(self.visit_ids)
        files = {"file": ("shelf.jpg", PHOTO, "image/jpeg")}
        data = {"client_id": str(uuid.uuid4())}
        with self.client.post(
            f"/api/v1/visits/{visit_id}/photos",
            files=files,
            data=data,
            name="POST visits/{id}/photos",
            catch_response=True,
        ) as response:
            if response.status_code in (200, 201):
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")


# ---- setup ---------------------------------------------------------------------------------------


def _server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/12"),
        # Nothing consumes this broker during the run: the alerts the visits cause wait in it.
        CELERY_BROKER_URL=os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/13"),
        MEDIA_ROOT=str(OUT / "load-media"),
        JWT_ACCESS_SECONDS="7200",
        # Fifty phones from one address, several per demo inspector: the sign-in limits are for real clients.
        TOKEN_ISSUE_MAX_PER_CLIENT="100000",
        TOKEN_ISSUE_MAX_PER_USER="100000",
    )
    return env


def setup_database(admin_url: str, database: str, env: dict[str, str]) -> None:
    import psycopg

    print(f"setup: fresh database {database}", flush=True)
    with psycopg.connect(admin_url.replace("postgres://", "postgresql://") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
        print(f"setup: manage.py {command[0]} in {time.perf_counter() - started:.1f} s", flush=True)


def start_server(env: dict[str, str], port: int, workers: int, threads: int, log_path: Path) -> subprocess.Popen:
    server_env = dict(
        env,
        DJANGO_ENV="production",
        SECRET_KEY=f"load-{uuid.uuid4().hex}-{uuid.uuid4().hex}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    # The JWT key must match the one the phones' tokens are signed with: the server signs them.
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "backend/gunicorn.conf.py", "backend.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
        + ["--timeout", "60", "--graceful-timeout", "5"],
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"the server did not start:\n{log_path.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class MemoryWatch:
    """Samples the RSS of the gunicorn master and its workers every 0.25 s."""

    def __init__(self, pid: int):
        self.master = psutil.Process(pid)
        self.peak_total = 0
        self.peak_worker = 0
        self.running = True

    def sample(self) -> None:
        try:
            processes = [self.master, *self.master.children(recursive=True)]
            sizes = []
            for process in processes:
                try:
                    sizes.append(process.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue
        except psutil.NoSuchProcess:
            return
        self.peak_total = max(self.peak_total, sum(sizes))
        self.peak_worker = max(self.peak_worker, max(sizes[1:] or [0]))

    def run(self) -> None:
        while self.running:
            self.sample()
            gevent.sleep(0.25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load, after all phones started")
    parser.add_argument("--port", type=int, default=8680)
    # The served configuration (backend/gunicorn.conf.py): CPUs + 1 processes of 3 threads.
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--database", default="jawla_load")
    parser.add_argument("--pg", default=os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--skip-setup", action="store_true", help="reuse the database as it is")
    parser.add_argument("--wait", default="1,3", help="seconds between a phone's actions: MIN,MAX (default 1,3)")
    args = parser.parse_args()

    global PHOTO
    PHOTO = _photo()
    OUT.mkdir(parents=True, exist_ok=True)
    env = _server_env(f"{args.pg}/{args.database}")
    if not args.skip_setup:
        setup_database(args.pg, args.database, env)
    print("setup: one inspector and today's round per phone", flush=True)
    script = PHONES_SETUP % {"password": PASSWORD, "phones": args.users}
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)
    import psycopg
    import redis

    # A freshly seeded database has no planner statistics until autovacuum gets to it (mid-run, on
    # the same cores); a production database has them.
    with psycopg.connect(f"{args.pg}/{args.database}".replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")

    # A clean cache: every phone signs in from 127.0.0.1, so failures left there by other runs on
    # the same address would throttle them; and an empty broker queue.
    for url in (env["REDIS_URL"], env["CELERY_BROKER_URL"]):
        redis.Redis.from_url(url).flushdb()
    server = start_server(env, args.port, args.workers, args.threads, OUT / "load-server.log")
    watch = MemoryWatch(server.pid)
    watch.sample()
    idle_total = watch.peak_total
    try:
        Phone.host = f"http://127.0.0.1:{args.port}"
        wait_min, wait_max = (float(part) for part in args.wait.split(","))
        Phone.wait_time = between(wait_min, wait_max)
        Phone.usernames = [f"load_phone_{n:02d}" for n in range(args.users)]
        environment = Environment(user_classes=[Phone], events=events)
        runner = environment.create_local_runner()
        watcher = gevent.spawn(watch.run)
        print(
            f"load: {args.users} phones, {args.wait} s between actions, on {args.workers} gunicorn workers "
            f"× {args.threads} threads for {args.duration} s",
            flush=True,
        )
        runner.start(args.users, spawn_rate=max(1, args.users // 5))
        deadline = time.time() + 180
        while Phone.ready < args.users and time.time() < deadline:
            gevent.sleep(0.2)
        # Measure the steady state only: the sign-in burst (PBKDF2, deliberately slow) and the phones'
        # first full sync are excluded.
        gevent.sleep(2)
        environment.stats.reset_all()
        gevent.sleep(args.duration)
        runner.quit()
        watch.running = False
        watcher.join(timeout=2)
        stats = environment.stats
    finally:
        stop_server(server)

    rows = []
    print()
    columns = ("requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
    print(f"{'endpoint':32} " + " ".join(f"{column:>9}" for column in columns) + f" {'errors':>6}")
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        if not entry.num_requests:  # the set-up calls, made before the measurement started
            continue
        row = {
            "endpoint": entry.name,
            "requests": entry.num_requests,
            "rps": round(entry.total_rps, 1),
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "max_ms": round(entry.max_response_time or 0),
            "errors": entry.num_failures,
        }
        rows.append(row)
        print(
            f"{row['endpoint']:32} {row['requests']:>9} {row['rps']:>9} {row['p50_ms']:>9} {row['p95_ms']:>9} "
            f"{row['p99_ms']:>9} {row['max_ms']:>9} {row['errors']:>6}"
        )
    total = stats.total
    errors = total.num_failures
    for error in list(stats.errors.values())[:10]:
        print(f"  error x{error.occurrences}: {error.method} {error.name}: {str(error.error)[:200]}")
    me_rounds = next((r for r in rows if r["endpoint"] == "GET me/rounds"), None)
    print()
    print(
        f"total: {total.num_requests} requests in {args.duration} s ({total.total_rps:.1f} req/s), {errors} errors; "
        f"API processes' peak RSS {watch.peak_total / 2**20:.0f} MB in total (idle {idle_total / 2**20:.0f} MB), "
        f"largest worker {watch.peak_worker / 2**20:.0f} MB"
    )
    ok_latency = me_rounds is not None and me_rounds["p99_ms"] <= TARGET_P99_MS
    print(f"target me/rounds p99 <= {TARGET_P99_MS} ms: {'met' if ok_latency else 'MISSED'}")
    print(f"target zero errors: {'met' if errors == 0 else 'MISSED'}")
    report = {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "users": args.users,
        "duration_s": args.duration,
        "workers": args.workers,
        "threads": args.threads,
        "wait_s": args.wait,
        "cpu_count": os.cpu_count(),
        "endpoints": rows,
        "total_requests": total.num_requests,
        "total_rps": round(total.total_rps, 1),
        "errors": errors,
        "peak_rss_total_mb": round(watch.peak_total / 2**20),
        "idle_rss_total_mb": round(idle_total / 2**20),
        "peak_rss_worker_mb": round(watch.peak_worker / 2**20),
    }
    (OUT / "load.json").write_text(json.dumps(report, indent=2))
    return 0 if ok_latency and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
