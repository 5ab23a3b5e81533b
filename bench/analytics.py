"""Analytics benchmark on PostgreSQL: 1,000,000 visits, the rates and heatmap endpoints against the
hand-written SQL that computes the same figures, and a streamed 1,000,000-row CSV export.

    python bench/analytics.py [--visits 1000000] [--runs 15] [--keep]

- Drops and re-creates its own database (BENCH_DATABASE_URL, default
  postgres://postgres@127.0.0.1:5432/jawla_bench_analytics), migrates it, and seeds establishments
  and visits with COPY (one year of finished_at, 15 municipalities, 9 categories).
- Times each endpoint in-process through Django's test client (the whole NinjaAPI: auth, scoping,
  schema) as a leadership user scoped to the whole Amanah, and the hand-written SQL on the same
  connection; prints both medians and their ratio.
- Serves the CSV export from a gunicorn worker on 127.0.0.1:8531 and samples that process's RSS.
Bounded: about 2-4 minutes on 2 cores (seeding is most of it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jawla_bench_analytics"
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
EXPORT_PORT = 8531

CENTRES = [  # (code, name_ar, name_en, lat, lon)
    ("DAMMAM", "الدمام", "Dammam", 26.4207, 50.0888),
    ("KHOBAR", "الخبر", "Khobar", 26.2794, 50.2083),
    ("DHAHRAN", "الظهران", "Dhahran", 26.2886, 50.1140),
    ("QATIF", "القطيف", "Qatif", 26.5196, 50.0115),
    ("SAIHAT", "سيهات", "Saihat", 26.4834, 50.0418),
    ("SAFWA", "صفوى", "Safwa", 26.6497, 49.9552),
    ("TARUT", "تاروت", "Tarut", 26.5733, 50.0405),
    ("RAS-TANURA", "رأس تنورة", "Ras Tanura", 26.6436, 50.1583),
    ("JUBAIL", "الجبيل", "Jubail", 27.0174, 49.6225),
    ("AL-AHSA", "الأحساء", "Al-Ahsa", 25.3833, 49.5862),
    ("ABQAIQ", "بقيق", "Abqaiq", 25.9350, 49.6661),
    ("HAFAR-ALBATIN", "حفر الباطن", "Hafar Al-Batin", 28.4328, 45.9708),
    ("QAISUMAH", "القيصومة", "Qaisumah", 28.3108, 46.1273),
    ("KHAFJI", "الخفجي", "Khafji", 28.4391, 48.4913),
    ("SAFFANIYAH", "السفانية", "Saffaniyah", 27.9708, 48.7304),
]
CATEGORIES = ["grocery", "supermarket", "restaurant", "cafe", "bakery", "butcher", "pharmacy", "stall", "salon"]


def recreate_database() -> None:
    import psycopg

    name = BENCH_URL.rsplit("/", 1)[1]
    admin_url = BENCH_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seed(n_visits: int, n_establishments: int) -> dict:
    """Municipalities, users, a checklist with ORM calls; establishments and visits with COPY."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from inspections.geo import h3_cells
    from inspections.models import Category, Checklist, ChecklistVersion, Membership, Municipality

    rng = random.Random(2026)
    amanah = Municipality.objects.create(
        code="EP-AMANAH", name_ar="أمانة المنطقة الشرقية", name_en="EP Amanah", kind="amanah"
    )
    municipalities = []
    for code, name_ar, name_en, lat, lon in CENTRES:
        half = 0.12
        ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
        municipalities.append(
            Municipality.objects.create(
                code=code,
                name_ar=name_ar,
                name_en=name_en,
                parent=amanah,
                centre_lat=lat,
                centre_lon=lon,
                boundary={"type": "Polygon", "coordinates": [ring + [ring[0]]]},
            )
        )
    categories = [Category.objects.create(code=c, name_ar=c, name_en=c) for c in CATEGORIES]
    checklist = Checklist.objects.create(code="covid", name_ar="الإجراءات الاحترازية", name_en="COVID-19")
    version = ChecklistVersion.objects.create(checklist=checklist, number=1, status="published")
    User = get_user_model()
    password = make_password("bench12345")
    leader = User.objects.create(username="bench_leader", password=password)
    Membership.objects.create(user=leader, role="leadership", amanah=amanah)
    inspectors = [User.objects.create(username=f"bench_inspector_{i}", password=password) for i in range(60)]
    for index, inspector in enumerate(inspectors):
        membership = Membership.objects.create(user=inspector, role="inspector")
        membership.municipalities.add(municipalities[index % len(municipalities)])

    t0 = time.perf_counter()
    establishments = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM inspections_establishment")
        next_id = cursor.fetchone()[0] + 1
        columns = (
            "id, name_ar, name_en, category_id, licence_no, address, lat, lon, municipality_id, "
            "municipality_overridden, status, risk_score, h3_r5, h3_r6, h3_r7, h3_r8, h3_r9, created_at, updated_at"
        )
        now = datetime.now(tz=UTC)
        with cursor.connection.cursor().copy(f"COPY inspections_establishment ({columns}) FROM STDIN") as copy:
            for index in range(n_establishments):
                municipality = municipalities[min(int(rng.expovariate(0.35)), len(municipalities) - 1)]
                lat = municipality.centre_lat + rng.gauss(0, 0.035)
                lon = municipality.centre_lon + rng.gauss(0, 0.035)
                cells = h3_cells(lat, lon)
                category = rng.choice(categories)
                # Some neighbourhoods comply worse: the violation probability depends on the r7 cell.
                risk = 0.08 + (cells["h3_r7"] % 29) / 100
                row = (
                    next_id + index, f"منشأة {index}", f"Shop {index}", category.id, f"BENCH-{index:07d}", "",
                    lat, lon, municipality.id, False, "active", 0.0,
                    cells["h3_r5"], cells["h3_r6"], cells["h3_r7"], cells["h3_r8"], cells["h3_r9"], now, now,
                )  # fmt: skip
                copy.write_row(row)
                establishments.append((row, municipality.id, category.id, risk))
    t_establishments = time.perf_counter() - t0

    t0 = time.perf_counter()
    start = datetime.now(tz=UTC) - timedelta(days=365)
    inspector_ids = [i.id for i in inspectors]
    columns = (
        "client_id, establishment_id, inspector_id, checklist_version_id, municipality_id, category_id, started_at, "
        "finished_at, received_at, lat, lon, accuracy_m, outcome, notes, geo_status, geo_distance_m, "
        "impossible_travel, has_violation, violation_count, h3_r5, h3_r6, h3_r7, h3_r8, h3_r9"
    )
    fragments = []
    for row, municipality_id, category_id, risk in establishments:
        tail = "\t".join(str(v) for v in row[12:17])
        fragments.append(
            (
                f"{row[0]}\t",
                f"\t{version.id}\t{municipality_id}\t{category_id}\t",
                f"\t{row[6]}\t{row[7]}\t",
                tail,
                risk,
            )
        )
    span = 365 * 86400
    getrandbits, randrange, random_ = rng.getrandbits, rng.randrange, rng.random
    n_est = len(fragments)
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # The generated rows reference existing ids by construction: skip the per-row foreign-key
        # triggers (Django's FKs are deferred constraint triggers that would fire a million times).
        cursor.execute("SET session_replication_role = replica")
        # Bulk-load practice: drop the secondary indexes, COPY, build them once afterwards.
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
            "LEFT JOIN pg_constraint k ON k.conindid = c.oid WHERE i.tablename = 'inspections_visit' AND k.oid IS NULL"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        with cursor.connection.cursor().copy(f"COPY inspections_visit ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for index in range(n_visits):
                est_head, est_mid, est_geo, est_cells, risk = fragments[randrange(n_est)]
                finished = start + timedelta(seconds=randrange(span))
                draw = random_()
                if draw < 0.04:
                    outcome, violating, count = "closed", "f", 0
                elif draw < 0.06:
                    outcome, violating, count = "refused_entry", "f", 0
                elif random_() < risk:
                    outcome, violating, count = "violations", "t", 1 + randrange(3)
                else:
                    outcome, violating, count = "compliant", "f", 0
                stamp = finished.isoformat()
                buffer.write(
                    f"{getrandbits(128):032x}\t{est_head}{inspector_ids[index % 60]}{est_mid}{stamp}\t{stamp}\t{stamp}"
                    f"{est_geo}12.0\t{outcome}\t\tverified\t8.5\tf\t{violating}\t{count}\t{est_cells}\n"
                )
                if index % 20000 == 19999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        t_copy = time.perf_counter() - t0
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
    t_visits = time.perf_counter() - t0
    t0 = time.perf_counter()
    old_autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        # The visibility map lets PostgreSQL answer from the covering index alone (index-only scan).
        cursor.execute("VACUUM ANALYZE inspections_visit")
        cursor.execute("VACUUM ANALYZE inspections_establishment")
    connection.set_autocommit(old_autocommit)
    t_vacuum = time.perf_counter() - t0
    print(
        f"seeded {n_establishments:,} establishments in {t_establishments:.1f} s, {n_visits:,} visits: COPY "
        f"{t_copy:.1f} s ({n_visits / t_copy:,.0f}/s), {len(indexes)} indexes rebuilt in {t_visits - t_copy:.1f} s, "
        f"VACUUM ANALYZE {t_vacuum:.1f} s"
    )
    return {"leader": leader, "municipalities": municipalities, "amanah": amanah}


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up (plans, caches)
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - t0) * 1000)
    return statistics.median(timings)


def bench_queries(world: dict, runs: int) -> list[tuple[str, float, float]]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from analytics.selectors import local_day_bounds
    from inspections.services.auth import token_pair_for

    client = Client()
    headers = {"Authorization": f"Bearer {token_pair_for(user=world['leader']).access}", "Accept-Language": "en"}
    today = timezone.localdate()
    year_from, month_from = today - timedelta(days=364), today - timedelta(days=30)
    ids = [m.id for m in world["municipalities"]] + [world["amanah"].id]
    id_list = ", ".join(str(i) for i in sorted(ids))

    def endpoint(path, params):
        def call():
            # Timed up to the response body; the JSON is parsed only for the totals check, outside the timing.
            response = client.get(f"/api/v1/analytics/{path}", params, headers=headers)
            assert response.status_code == 200, response.content[:300]
            return response.content

        return call

    def sql(query, params):
        def call():
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()

        return call

    cases = []
    for label, date_from in (("1 year", year_from), ("30 days", month_from)):
        start, end = local_day_bounds(date_from=date_from, date_to=today)
        where = (
            "finished_at >= %s AND finished_at < %s AND outcome IN ('compliant', 'violations') "
            f"AND municipality_id IN ({id_list})"
        )
        common = {"from": date_from.isoformat(), "to": today.isoformat()}
        cases += [
            (
                f"rates by municipality, {label}",
                endpoint("violation-rates", {**common, "group_by": "municipality"}),
                sql(
                    f"SELECT municipality_id, count(*), count(*) FILTER (WHERE has_violation) FROM inspections_visit "
                    f"WHERE {where} GROUP BY municipality_id",
                    [start, end],
                ),
            ),
            (
                f"rates by month, {label}",
                endpoint("violation-rates", {**common, "group_by": "month"}),
                sql(
                    "SELECT date_trunc('month', finished_at AT TIME ZONE 'Asia/Riyadh'), count(*), "
                    f"count(*) FILTER (WHERE has_violation) FROM inspections_visit WHERE {where} GROUP BY 1",
                    [start, end],
                ),
            ),
            (
                f"heatmap r7, {label}",
                endpoint("heatmap", {**common, "resolution": 7}),
                sql(
                    f"SELECT h3_r7, count(*), count(*) FILTER (WHERE has_violation) FROM inspections_visit "
                    f"WHERE {where} GROUP BY h3_r7",
                    [start, end],
                ),
            ),
            (
                f"heatmap r9, {label}",
                endpoint("heatmap", {**common, "resolution": 9}),
                sql(
                    f"SELECT h3_r9, count(*), count(*) FILTER (WHERE has_violation) FROM inspections_visit "
                    f"WHERE {where} GROUP BY h3_r9",
                    [start, end],
                ),
            ),
        ]
    results = []
    for name, api_call, sql_call in cases:
        # Same figures? Compare the total visits the two ways.
        api_rows = json.loads(api_call())
        rows = api_rows["features"] if isinstance(api_rows, dict) else api_rows
        api_total = sum(r.get("properties", r)["visits"] for r in rows)
        sql_total = sum(r[1] for r in sql_call())
        assert api_total == sql_total, (name, api_total, sql_total)
        api_ms = median_ms(api_call, runs)
        sql_ms = median_ms(sql_call, runs)
        results.append((name, api_ms, sql_ms, api_total, len(rows)))
    return results


def bench_export(world: dict, n_visits: int) -> tuple[float, int, float, int]:
    import psutil

    from inspections.services.auth import token_pair_for

    env = {**os.environ, "DATABASE_URL": BENCH_URL, "LOG_LEVEL": "WARNING", "DEBUG": "false", "ALLOWED_HOSTS": "*"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "backend.wsgi",
            "-b",
            f"127.0.0.1:{EXPORT_PORT}",
            "-w",
            "1",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{EXPORT_PORT}/api/v1/health", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        parent = psutil.Process(server.pid)
        peak = {"rss": 0}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    for process in [parent, *parent.children(recursive=True)]:
                        peak["rss"] = max(peak["rss"], process.memory_info().rss)
                except psutil.Error:
                    pass
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        token = token_pair_for(user=world["leader"]).access
        request = urllib.request.Request(
            f"http://127.0.0.1:{EXPORT_PORT}/api/v1/analytics/exports/visits.csv",
            headers={"Authorization": f"Bearer {token}"},
        )
        t0 = time.perf_counter()
        size = lines = 0
        with urllib.request.urlopen(request, timeout=300) as response:
            while chunk := response.read(1 << 16):
                size += len(chunk)
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - t0
        stop.set()
        sampler.join()
        assert lines == n_visits + 1, (lines, n_visits)
        return seconds, size, peak["rss"] / 2**20, lines - 1
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--establishments", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    recreate_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    world = seed(args.visits, args.establishments)
    results = bench_queries(world, args.runs)
    print(
        f"\n{'query (leadership, whole Amanah)':38} {'API ms':>8} {'SQL ms':>8} {'ratio':>6} {'visits':>10} {'rows':>6}"
    )
    for name, api_ms, sql_ms, visits, rows in results:
        print(f"{name:38} {api_ms:8.1f} {sql_ms:8.1f} {api_ms / sql_ms:6.2f} {visits:10,} {rows:6,}")
    if not args.skip_export:
        seconds, size, peak_mb, rows = bench_export(world, args.visits)
        print(
            f"\nCSV export of {rows:,} visits: {seconds:.1f} s, {size / 2**20:.0f} MiB, "
            f"peak RSS of the serving gunicorn processes {peak_mb:.0f} MiB"
        )
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
