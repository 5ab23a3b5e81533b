"""Benchmark of POST visits/sync against PostgreSQL, compared with plain SQL inserts of the same rows.

    python bench/sync.py            # or: make bench-sync
    DATABASE_URL=postgres://user@host:5432/jawla_bench python bench/sync.py --batches 60

What it does (about a minute on 2 cores):
1. drops and recreates its own database (default postgres://postgres@127.0.0.1:5432/jawla_bench), migrates it
   and seeds 10 municipalities with 100 establishments each, a checklist of 10 yes/no items and one inspector
   per phone (--clients, default 4), each assigned its own municipalities;
2. starts gunicorn on 127.0.0.1:PORT (default 8350) and POSTs batches of 100 visits with 10 answers each
   over real HTTP, one client thread per phone: each phone sends its inspector's visits one batch at a time,
   oldest first, as the field app's outbox does, and each inspector's visits follow one timeline (a shop of
   their municipalities every few minutes), so concurrent batches come from different inspectors and
   shops. `--one-inspector` runs the earlier model instead: one inspector whose batches are all posted
   concurrently by every thread, shops drawn from the whole Amanah, each round's timeline overlapping the
   others (most visits flagged as impossible travel, concurrent batches queueing on the same shops'
   locks); no phone sends that. Reports visits/s twice: compliant visits (the same rows
   as the plain-SQL runs, plus the audit events), then visits of which 20% fail an item (findings,
   follow-ups recorded and placed after commit, risk scores listed for the flush, alerts written too;
   after each round the risk flush recomputes the listed scores, timed apart: settings.RISK_DEFERRED);
3. inserts the same rows (visits + answers, new client ids) with plain SQL on one connection, one
   transaction per 100 visits: psycopg `executemany` and `COPY`, and reports visits/s for each; for the
   violating visits `executemany` of the same visits, answers and findings;
4. prints the ratios; then places the follow-ups still waiting (timed, in-process: no Celery worker runs
   during the bench) and prints the roll-up maintenance cost: per batch inside the sync's transaction,
   and per 100 visits for the deferred flush (settings.ROLLUPS_DEFERRED, on by default on PostgreSQL;
   `ROLLUPS_DEFERRED=false python bench/sync.py` measures the sync with the roll-ups in its transaction).
"""

import argparse
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jawla_bench"
PASSWORD = "bench-pass-12345"
ITEMS = 10
ESTABLISHMENTS = 1000
MUNICIPALITIES = 10
VISITS_PER_AREA = 40  # a phone's visits in one municipality before its inspector moves to the next


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=30, help="batches of 100 visits per method and round (30)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of HTTP / executemany / COPY (3)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--clients", type=int, default=4, help="phones syncing at once, one inspector and client thread each (4)"
    )
    parser.add_argument(
        "--one-inspector",
        action="store_true",
        help="the earlier model: one inspector, every thread posting its batches concurrently (see above)",
    )
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: 2 x cores)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8350)))
    parser.add_argument("--violation-rate", type=float, default=0.2, help="share of visits with a failed item")
    parser.add_argument("--compliant-only", action="store_true", help="skip the phase with violating visits")
    return parser.parse_args()


def database_recreate(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


# The bench's own folder for the file cache and the broker: another process on this machine (another
# bench, `make run`) with another database must not share cached scopes with its server.
VAR_DIR = tempfile.mkdtemp(prefix="jawla-bench-sync-")


def django_env(url: str) -> dict:
    return {
        **os.environ,
        "JAWLA_VAR_DIR": VAR_DIR,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
        "PYTHONPATH": str(ROOT),
    }


Batch = collections.namedtuple("Batch", "phone visits")


def seed(url: str, phones: int, one_inspector: bool) -> dict:
    """Migrate and create the fixtures in-process; returns ids for the payloads. Phone k's inspector
    covers municipalities k, k + phones, ... (all of them with `one_inspector`, and a single phone)."""
    os.environ.update(django_env(url))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from inspections import models as m
    from inspections.domain.geo import h3_cells

    call_command("migrate", verbosity=0)
    amanah = m.Municipality.objects.create(code="EP", name_ar="أمانة", name_en="Amanah", kind="amanah")
    category = m.Category.objects.create(code="grocery", name_ar="بقالة", name_en="Grocery")
    rng = random.Random(7)
    municipalities, establishments = [], []
    for number in range(MUNICIPALITIES):
        centre = (26.0 + 0.25 * number, 50.0)
        ring = [
            [centre[1] + dx, centre[0] + dy]
            for dx, dy in ((-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1), (-0.1, -0.1))
        ]
        municipality = m.Municipality.objects.create(
            code=f"BENCH-{number}",
            name_ar=f"بلدية {number}",
            name_en=f"Municipality {number}",
            parent=amanah,
            boundary={"type": "Polygon", "coordinates": [ring]},
            centre_lat=centre[0],
            centre_lon=centre[1],
        )
        municipalities.append(municipality)
        for index in range(ESTABLISHMENTS // MUNICIPALITIES):
            lat, lon = centre[0] + rng.uniform(-0.05, 0.05), centre[1] + rng.uniform(-0.05, 0.05)
            establishments.append(
                m.Establishment.objects.create(
                    name_ar=f"منشأة {number}-{index}",
                    name_en=f"Shop {number}-{index}",
                    category=category,
                    licence_no=f"BENCH-{number}-{index:05d}",
                    lat=lat,
                    lon=lon,
                    municipality=municipality,
                    **h3_cells(lat, lon),
                )
            )
    checklist = m.Checklist.objects.create(code="bench", name_ar="قائمة", name_en="Bench checklist")
    version = m.ChecklistVersion.objects.create(
        checklist=checklist, number=1, status="published", published_at=datetime.now(UTC) - timedelta(days=90)
    )
    for index in range(ITEMS):
        m.ChecklistItem.objects.create(
            version=version,
            code=f"ITEM{index}",
            position=index,
            text_ar="بند",
            text_en="Item",
            severity="major" if index % 3 == 0 else "minor",
            fine_sar=100,
        )
    count = 1 if one_inspector else phones
    inspectors = []
    for number in range(count):
        user = get_user_model().objects.create_user(
            "bench_inspector" if number == 0 else f"bench_inspector_{number}", password=PASSWORD
        )
        membership = m.Membership.objects.create(user=user, role="inspector", language="en")
        mine = municipalities[number::count]
        membership.municipalities.set(mine)
        shops = {municipality.id: [] for municipality in mine}
        for e in establishments:
            if e.municipality_id in shops:
                shops[e.municipality_id].append((e.id, e.lat, e.lon))
        inspectors.append(
            {
                "username": user.username,
                "user_id": user.id,
                # Where the inspector works in turn: one municipality after another (the earlier model:
                # the whole Amanah at once).
                "areas": [sum(shops.values(), [])] if one_inspector else list(shops.values()),
                "visits": 0,
                "clock": datetime.now(UTC) - timedelta(days=46),
            }
        )
    from django.db import connections

    connections.close_all()
    return {
        "phones": inspectors,
        "one_inspector": one_inspector,
        "version_id": version.id,
        "municipality_of": {e.id: e.municipality_id for e in establishments},
        "category_id": category.id,
        "h3": {e.id: h3_cells(e.lat, e.lon) for e in establishments},
        "item_ids": list(
            m.ChecklistItem.objects.filter(version=version).order_by("position").values_list("id", flat=True)
        ),
    }


def make_batches(fixtures: dict, count: int, size: int, violation_rate: float, seed_value: int) -> list[Batch]:
    """`count` batches of `size` visits, dealt to the phones in turn; each phone's visits continue its
    inspector's timeline (one shop of their municipalities every `gap` seconds on average). With
    `one_inspector`: every batch is the one inspector's, on a timeline that starts at a time set by
    `seed_value` (rounds overlap) with 30-200 s between visits (the earlier model)."""
    rng = random.Random(seed_value)
    phones = fixtures["phones"]
    if fixtures["one_inspector"]:
        phones[0]["clock"] = datetime.now(UTC) - timedelta(days=20) + timedelta(hours=seed_value)
    batches = []
    for number in range(count):
        phone = number % len(phones)
        inspector = phones[phone]
        visits = []
        for _ in range(size):
            # A day's work in one municipality (shops ~4 km apart), then the next.
            inspector["visits"] += 1
            areas = inspector["areas"]
            establishment_id, lat, lon = rng.choice(areas[(inspector["visits"] // VISITS_PER_AREA) % len(areas)])
            if fixtures["one_inspector"]:
                inspector["clock"] += timedelta(seconds=rng.randint(30, 200))
            else:
                inspector["clock"] += timedelta(seconds=fixtures["gap"] * rng.uniform(0.5, 1.5))
            clock = inspector["clock"]
            failing = rng.random() < violation_rate
            failed_item = rng.randrange(ITEMS) if failing else -1
            visits.append(
                {
                    "client_id": str(uuid.uuid4()),
                    "establishment_id": establishment_id,
                    "checklist_version_id": fixtures["version_id"],
                    "started_at": (clock - timedelta(seconds=20)).isoformat(),
                    "finished_at": clock.isoformat(),
                    "location": {
                        "lat": lat + rng.uniform(-0.0005, 0.0005),
                        "lon": lon,
                        "accuracy_m": rng.choice([5.0, 12.0, 30.0]),
                    },
                    "outcome": "violations" if failing else "compliant",
                    "answers": [
                        {"item_code": f"ITEM{index}", "value": "no" if index == failed_item else "yes"}
                        for index in range(ITEMS)
                    ],
                }
            )
        batches.append(Batch(phone, visits))
    return batches


def server_start(url: str, port: int, workers: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "backend.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=django_env(url))
    import httpx

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer in 240 s")


def http_run(port: int, tokens: list[str], batches: list[Batch], clients: int) -> tuple[float, list[float]]:
    """Post the batches from `clients` threads. Each phone's batches go in order, one at a time, from its
    own thread; with a single phone (`--one-inspector`) every thread takes the next batch of its queue."""
    import httpx

    queues: dict[int, list[bytes]] = collections.defaultdict(list)
    for batch in batches:
        queues[batch.phone].append(json.dumps({"visits": batch.visits}).encode())
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def worker(phone: int) -> None:
        queue = queues[phone]
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1/",
            headers={"Authorization": f"Bearer {tokens[phone]}", "Content-Type": "application/json"},
            timeout=120,
        ) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop(0)
                started = time.perf_counter()
                response = client.post("visits/sync", content=body)
                elapsed = time.perf_counter() - started
                if response.status_code != 200 or any(r["status"] != "created" for r in response.json()["results"]):
                    failures.append(response.text[:500])
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(number % len(tokens),)) for number in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} batches failed, e.g. {failures[0]}")
    return wall, latencies


VISIT_COLUMNS = (
    "id, client_id, establishment_id, round_stop_id, inspector_id, checklist_version_id, municipality_id, category_id, "
    "started_at, finished_at, received_at, lat, lon, accuracy_m, outcome, notes, geo_status, geo_distance_m, "
    "impossible_travel, has_violation, violation_count, h3_r5, h3_r6, h3_r7, h3_r8, h3_r9"
)
ANSWER_COLUMNS = "id, visit_id, item_id, item_code, value, failed, note"
FINDING_COLUMNS = (
    "visit_id, answer_id, establishment_id, municipality_id, item_code, severity, fine_sar, due_date, status, "
    "opened_at, repeat_count"
)


def plain_rows(
    fixtures: dict, batch: Batch, ids: list[int], answer_ids: list[int]
) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The rows the sync writes for `batch`: visits, answers and (for failed items) findings."""
    now = datetime.now(UTC)
    visits, answers, findings = [], [], []
    answer_ids = iter(answer_ids)
    inspector_id = fixtures["phones"][batch.phone]["user_id"]
    for visit_id, visit in zip(ids, batch.visits, strict=True):
        h3 = fixtures["h3"][visit["establishment_id"]]
        failed = [answer["value"] == "no" for answer in visit["answers"]]
        visits.append(
            (
                visit_id,
                visit["client_id"],
                visit["establishment_id"],
                None,
                inspector_id,
                fixtures["version_id"],
                fixtures["municipality_of"][visit["establishment_id"]],
                fixtures["category_id"],
                visit["started_at"],
                visit["finished_at"],
                now,
                visit["location"]["lat"],
                visit["location"]["lon"],
                visit["location"]["accuracy_m"],
                visit["outcome"],
                "",
                "verified",
                10.0,
                False,
                any(failed),
                sum(failed),
                h3["h3_r5"],
                h3["h3_r6"],
                h3["h3_r7"],
                h3["h3_r8"],
                h3["h3_r9"],
            )
        )
        for index, (item_id, answer, is_failed) in enumerate(
            zip(fixtures["item_ids"], visit["answers"], failed, strict=True)
        ):
            answer_id = next(answer_ids)
            answers.append(
                (answer_id, visit_id, item_id, answer["item_code"], json.dumps(answer["value"]), is_failed, "")
            )
            if is_failed:
                findings.append(
                    (
                        visit_id,
                        answer_id,
                        visit["establishment_id"],
                        fixtures["municipality_of"][visit["establishment_id"]],
                        answer["item_code"],
                        "major" if index % 3 == 0 else "minor",
                        100,
                        (datetime.fromisoformat(visit["finished_at"]) + timedelta(days=14)).date(),
                        "open",
                        visit["finished_at"],
                        0,
                    )
                )
    return visits, answers, findings


def plain_run(url: str, fixtures: dict, batches: list[Batch], method: str) -> float:
    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        for batch in batches:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('inspections_visit', 'id')) FROM generate_series(1, %s)",
                    (len(batch.visits),),
                )
                ids = [row[0] for row in cursor.fetchall()]
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('inspections_answer', 'id')) FROM generate_series(1, %s)",
                    (len(batch.visits) * ITEMS,),
                )
                answer_ids = [row[0] for row in cursor.fetchall()]
                visits, answers, findings = plain_rows(fixtures, batch, ids, answer_ids)
                if method == "executemany":
                    placeholders = ", ".join(["%s"] * 26)
                    cursor.executemany(
                        f"INSERT INTO inspections_visit ({VISIT_COLUMNS}) VALUES ({placeholders})", visits
                    )
                    cursor.executemany(
                        f"INSERT INTO inspections_answer ({ANSWER_COLUMNS}) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)",
                        answers,
                    )
                    if findings:
                        cursor.executemany(
                            f"INSERT INTO inspections_finding ({FINDING_COLUMNS}) VALUES ({', '.join(['%s'] * 11)})",
                            findings,
                        )
                else:
                    with cursor.copy(f"COPY inspections_visit ({VISIT_COLUMNS}) FROM STDIN") as copy:
                        for row in visits:
                            copy.write_row(row)
                    with cursor.copy(f"COPY inspections_answer ({ANSWER_COLUMNS}) FROM STDIN") as copy:
                        for row in answers:
                            copy.write_row(row)
                    if findings:
                        with cursor.copy(f"COPY inspections_finding ({FINDING_COLUMNS}) FROM STDIN") as copy:
                            for row in findings:
                                copy.write_row(row)
        return time.perf_counter() - started


def report(label: str, batches: int, size: int, wall: float, latencies: list[float]) -> float:
    rate = batches * size / wall
    latencies = sorted(latencies)
    print(
        f"HTTP  POST visits/sync  {label:<28} {batches} x {size} visits x {ITEMS} answers: {wall:6.2f} s  "
        f"{rate:7.0f} visits/s  (batch p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[max(int(len(latencies) * 0.95) - 1, 0)] * 1000:.0f} ms)"
    )
    return rate


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    cores = os.cpu_count() or 1
    workers = args.workers or 2 * cores
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    model = (
        f"one inspector, {args.clients} client threads posting its batches concurrently (--one-inspector)"
        if args.one_inspector
        else f"{args.clients} phones (one inspector each, its own municipalities, one batch at a time)"
    )
    print(
        f"database {urlparse(url)._replace(netloc=urlparse(url).hostname or '').geturl()}, {cores} cores "
        f"(load average {load:.1f} at start), gunicorn {workers} workers, {model}; "
        f"{args.rounds} rounds of {args.batches} batches per method, interleaved"
    )
    database_recreate(url)
    fixtures = seed(url, args.clients, args.one_inspector)
    size = args.batch_size
    visits_round = args.batches * size
    phones = fixtures["phones"]
    # Every phone's timeline (HTTP and plain-SQL batches alike, warm-up included) fits in the last 45 days.
    batches_all = 6 + args.rounds * args.batches * (3 + (0 if args.compliant_only else 2))
    fixtures["gap"] = min(600.0, timedelta(days=45).total_seconds() * len(phones) / (batches_all * size))

    server = server_start(url, args.port, workers)
    rates: dict[str, list[float]] = {"http": [], "executemany": [], "copy": [], "http_v": [], "executemany_v": []}
    batch_p50: list[float] = []
    risk_flushes: list[tuple[int, float]] = []
    violating_label = f"{args.violation_rate:.0%} violating"
    try:
        import httpx

        tokens = [
            httpx.post(
                f"http://127.0.0.1:{args.port}/api/v1/auth/token",
                json={"username": phone["username"], "password": PASSWORD},
                timeout=30,
            ).json()["access"]
            for phone in phones
        ]

        http_run(args.port, tokens, make_batches(fixtures, 6, size, 0.0, seed_value=1), args.clients)
        # Interleaved rounds: a machine whose load drifts affects every method alike.
        for number in range(args.rounds):
            wall, latencies = http_run(
                args.port, tokens, make_batches(fixtures, args.batches, size, 0.0, seed_value=10 + number), args.clients
            )
            rates["http"].append(report("compliant (as the SQL rows)", args.batches, size, wall, latencies))
            batch_p50.append(statistics.median(latencies))
            for method, offset in (("executemany", 100), ("copy", 200)):
                rows = make_batches(fixtures, args.batches, size, 0.0, seed_value=offset + number)
                elapsed = plain_run(url, fixtures, rows, method)
                rates[method].append(visits_round / elapsed)
                print(
                    f"SQL   plain {method:<11} visits + answers, one connection, 1 transaction / {size} visits: "
                    f"{elapsed:6.2f} s  {rates[method][-1]:7.0f} visits/s"
                )
        # Then the violating visits, in their own interleaved rounds (the compliant rounds above never
        # meet open findings): the sync opens findings (and follow-ups, risk, alerts); the plain-SQL
        # baseline writes the same visits, answers and findings rows.
        for number in range(0 if args.compliant_only else args.rounds):
            violating = make_batches(fixtures, args.batches, size, args.violation_rate, seed_value=300 + number)
            wall, latencies = http_run(args.port, tokens, violating, args.clients)
            rates["http_v"].append(report(f"{violating_label} + findings", args.batches, size, wall, latencies))
            risk_flushes.append(risk_flush_timed())
            rows = make_batches(fixtures, args.batches, size, args.violation_rate, seed_value=400 + number)
            elapsed = plain_run(url, fixtures, rows, "executemany")
            rates["executemany_v"].append(visits_round / elapsed)
            print(
                f"SQL   plain executemany visits + answers + findings ({violating_label}): "
                f"{elapsed:6.2f} s  {rates['executemany_v'][-1]:7.0f} visits/s"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)

    median = {method: statistics.median(values) for method, values in rates.items() if values}
    ratio_many = statistics.median(h / m for h, m in zip(rates["http"], rates["executemany"], strict=True))
    ratio_copy = statistics.median(h / c for h, c in zip(rates["http"], rates["copy"], strict=True))
    print(
        f"median  HTTP {median['http']:.0f} visits/s, executemany {median['executemany']:.0f}, "
        f"COPY {median['copy']:.0f}; "
        f"ratio HTTP / executemany {ratio_many:.2f}, HTTP / COPY {ratio_copy:.2f} "
        f"(targets: >= 1000 visits/s and >= 0.40 of plain SQL)"
    )
    if rates["http_v"]:
        ratio_v = statistics.median(h / m for h, m in zip(rates["http_v"], rates["executemany_v"], strict=True))
        print(
            f"median  {violating_label}: HTTP {median['http_v']:.0f} visits/s, executemany of the same rows "
            f"(visits, answers, findings) {median['executemany_v']:.0f}; ratio HTTP / executemany {ratio_v:.2f} "
            f"(target >= 0.90)"
        )
        if risk_flushes and risk_flushes[0][0] >= 0:
            count = sum(done for done, _ in risk_flushes)
            seconds = sum(elapsed for _, elapsed in risk_flushes)
            print(
                f"risk scores deferred (RISK_DEFERRED on in the server): after each round of {visits_round} "
                f"visits the flush recomputed {' / '.join(str(done) for done, _ in risk_flushes)} establishments "
                f"in {' / '.join(f'{elapsed * 1000:.0f}' for _, elapsed in risk_flushes)} ms, one process "
                f"({seconds / (len(risk_flushes) * visits_round) * size * 1000:.1f} ms per {size} visits, "
                f"{count / max(seconds, 1e-9):.0f} establishments/s)"
            )
        follow_ups_drain()
    rollups_cost(visits_round, size, statistics.median(batch_p50))


def risk_flush_timed() -> tuple[int, float]:
    """The risk scores the round left listed (settings.RISK_DEFERRED in the server), recomputed here by the
    flush task's service and timed, outside the HTTP timing: one round is about one 5-s flush interval.
    (-1, 0) when the scores are stored inside the sync."""
    from django.conf import settings

    from inspections.services.findings import establishments_risk_flush

    if not settings.RISK_DEFERRED:
        return -1, 0.0
    began = time.perf_counter()
    done = establishments_risk_flush()
    return done, time.perf_counter() - began


def follow_ups_drain() -> None:
    """Follow-ups are placed after the sync's commit (by a Celery task, or the sweeper): no worker runs
    during the bench, so the waiting ones are placed here, in one process, and timed."""
    try:
        from inspections.models import FollowUpPending
        from inspections.services.rounds.follow_ups import follow_ups_place_pending
    except ImportError:  # the code before issue 16 item 7 placed them inside the sync
        print("follow-ups: placed inside the sync transaction (nothing waits for placement)")
        return
    from inspections.models import RoundStop

    waiting = FollowUpPending.objects.count()
    started = time.perf_counter()
    placed = 0
    while count := follow_ups_place_pending():
        placed += count
    elapsed = time.perf_counter() - started
    stops = RoundStop.objects.filter(is_follow_up=True).count()
    print(
        f"follow-ups: {waiting} waiting for placement after the HTTP runs, {placed} placed by the sweeper's "
        f"service in {elapsed:.2f} s, one process ({placed / max(elapsed, 1e-9):.0f} follow-ups/s); "
        f"{stops} follow-up stops in all"
    )


def rollups_cost(visits_round: int, size: int, batch_p50: float) -> None:
    """What the roll-up maintenance costs: in the sync's transaction (ROLLUPS_DEFERRED off: the latest
    visits applied again in batches of `size`, each in a transaction rolled back, one connection), and
    deferred (on: what the HTTP runs left pending, added by the flush task's service, timed)."""
    try:
        from analytics.rollups import rollups_apply
    except ImportError:
        print("roll-ups: not maintained by this code")
        return
    from django.conf import settings
    from django.db import transaction

    from inspections.models import Visit

    ids = list(Visit.objects.order_by("-id").values_list("id", flat=True)[:visits_round])
    timings = []
    for start in range(0, len(ids), size):
        with transaction.atomic():
            began = time.perf_counter()
            rollups_apply(visit_ids=ids[start : start + size])
            timings.append(time.perf_counter() - began)
            transaction.set_rollback(True)
    per_batch = statistics.median(timings)
    print(
        f"roll-ups in the sync's transaction: {per_batch * 1000:.1f} ms per batch of {size} visits (median of "
        f"{len(timings)}, one connection), {per_batch / batch_p50:.0%} of a compliant sync batch's p50 latency "
        f"({batch_p50 * 1000:.0f} ms)"
    )
    try:
        from analytics.rollups import rollups_flush, rollups_pending_count
    except ImportError:
        return
    pending = rollups_pending_count()
    began = time.perf_counter()
    added = rollups_flush()
    elapsed = time.perf_counter() - began
    mode = "on" if getattr(settings, "ROLLUPS_DEFERRED", False) else "off"
    print(
        f"roll-ups deferred (ROLLUPS_DEFERRED {mode} in the server): {pending} visits pending after the HTTP runs, "
        f"{added} added by the flush in {elapsed:.2f} s, one process: "
        f"{elapsed / max(added, 1) * size * 1000:.1f} ms per {size} visits ({added / max(elapsed, 1e-9):.0f} visits/s)"
    )


if __name__ == "__main__":
    main()
