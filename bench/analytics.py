"""Analytics benchmark on PostgreSQL: 1,000,000 visits, the rates and heatmap endpoints (which read the
roll-ups, analytics/rollups.py) against the hand-written SQL that computes the same figures over the
raw visits table, and a streamed 1,000,000-row CSV export.

    python bench/analytics.py [--visits 1000000] [--national] [--runs 15] [--skip-export] [--reuse]

- Drops and re-creates its own database (BENCH_DATABASE_URL, default
  postgres://postgres@127.0.0.1:5432/jawla_bench_analytics), migrates it, and seeds establishments
  and visits with COPY (one year of finished_at, 15 municipalities of one Amanah, 9 categories; with
  `--national` 17 Amanahs and 153 municipalities), then builds the roll-ups with the
  `rollups_rebuild` command and prints its time and the roll-ups' size on disk.
- `--reuse` keeps a database this bench already seeded with as many visits, and its roll-ups
  (migrated to the current code, not rebuilt: do not reuse across a change to what roll-ups hold).
- Times each endpoint in-process through Django's test client (the whole NinjaAPI: auth, scoping,
  schema) as a leadership user scoped to the whole Amanah (national: an admin, who sees every
  Amanah), and the hand-written SQL over the raw table on the same connection; prints both medians
  and their ratio.
- Prints the roll-ups' maintenance cost per synced visit: `rollups_apply` (what the visit sync calls
  in its transaction) over batches of 50 stored visits, in a transaction rolled back.
- Serves the CSV export from a gunicorn worker on 127.0.0.1:8531 and samples that process's RSS.
Bounded: about 2-4 minutes on 2 cores (seeding is most of it).
"""

from __future__ import annotations

import argparse
import io
import json
import math
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
# --national: 17 Amanahs (name, lat, lon) with 9 municipalities each around their centre (153 in all).
AMANAHS = [
    ("RIYADH", 24.71, 46.68), ("MAKKAH", 21.39, 39.86), ("JEDDAH", 21.49, 39.19), ("MADINAH", 24.47, 39.61),
    ("EASTERN", 26.42, 50.09), ("AHSA", 25.38, 49.59), ("QASSIM", 26.33, 43.97), ("ASIR", 18.22, 42.51),
    ("TABUK", 28.38, 36.57), ("HAIL", 27.52, 41.69), ("NORTHERN", 30.98, 41.02), ("JAZAN", 16.89, 42.55),
    ("NAJRAN", 17.49, 44.13), ("BAHA", 20.01, 41.47), ("JOUF", 29.97, 40.21), ("TAIF", 21.27, 40.42),
    ("HAFR", 28.43, 45.97),
]  # fmt: skip
MUNICIPALITIES_PER_AMANAH = 9
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


def _municipality(Municipality, *, code, name, parent, lat, lon):
    half = 0.12
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return Municipality.objects.create(
        code=code,
        name_ar=name,
        name_en=name,
        parent=parent,
        centre_lat=lat,
        centre_lon=lon,
        boundary={"type": "Polygon", "coordinates": [ring + [ring[0]]]},
    )


def seed(n_visits: int, n_establishments: int, national: bool = False) -> dict:
    """Municipalities, users, a checklist with ORM calls; establishments and visits with COPY."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from inspections.domain.geo import h3_cells
    from inspections.models import Category, Checklist, ChecklistVersion, Membership, Municipality

    rng = random.Random(2026)
    municipalities = []
    if national:
        amanahs = []
        for code, lat, lon in AMANAHS:
            amanah = Municipality.objects.create(
                code=f"{code}-AMANAH", name_ar=f"أمانة {code}", name_en=f"{code} Amanah", kind="amanah"
            )
            amanahs.append(amanah)
            for index in range(MUNICIPALITIES_PER_AMANAH):
                angle = 2 * 3.14159 * index / MUNICIPALITIES_PER_AMANAH
                offset = 0 if index == 0 else 0.45
                municipalities.append(
                    _municipality(
                        Municipality,
                        code=f"{code}-{index}",
                        name=f"{code} {index}",
                        parent=amanah,
                        lat=lat + offset * math.sin(angle),
                        lon=lon + offset * math.cos(angle),
                    )
                )
        amanah = amanahs[0]
    else:
        amanah = Municipality.objects.create(
            code="EP-AMANAH", name_ar="أمانة المنطقة الشرقية", name_en="EP Amanah", kind="amanah"
        )
        for code, name_ar, name_en, lat, lon in CENTRES:
            municipalities.append(_municipality(Municipality, code=code, name=name_ar, parent=amanah, lat=lat, lon=lon))
            municipalities[-1].name_en = name_en
            municipalities[-1].save(update_fields=["name_en"])
    categories = [Category.objects.create(code=c, name_ar=c, name_en=c) for c in CATEGORIES]
    checklist = Checklist.objects.create(code="covid", name_ar="الإجراءات الاحترازية", name_en="COVID-19")
    version = ChecklistVersion.objects.create(checklist=checklist, number=1, status="published")
    User = get_user_model()
    password = make_password("bench12345")
    leader = User.objects.create(username="bench_leader", password=password)
    # National: an admin sees every Amanah (the ministry's view); otherwise leadership of one Amanah.
    Membership.objects.create(user=leader, role="admin" if national else "leadership", amanah=amanah)
    n_inspectors = 4 * len(municipalities)
    inspectors = [User.objects.create(username=f"bench_inspector_{i}", password=password) for i in range(n_inspectors)]
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
            "municipality_overridden, status, size_class, risk_score, h3_r5, h3_r6, h3_r7, h3_r8, h3_r9, "
            "created_at, updated_at"
        )
        now = datetime.now(tz=UTC)
        with cursor.connection.cursor().copy(f"COPY inspections_establishment ({columns}) FROM STDIN") as copy:
            for index in range(n_establishments):
                # Skewed: a few big municipalities hold most shops (the Amanah's city), as in the field.
                rank = min(int(rng.expovariate(0.35 * 15 / len(municipalities))), len(municipalities) - 1)
                municipality = municipalities[rank]
                lat = municipality.centre_lat + rng.gauss(0, 0.035)
                lon = municipality.centre_lon + rng.gauss(0, 0.035)
                cells = h3_cells(lat, lon)
                category = rng.choice(categories)
                # Some neighbourhoods comply worse: the violation probability depends on the r7 cell.
                risk = 0.08 + (cells["h3_r7"] % 29) / 100
                row = (
                    next_id + index, f"منشأة {index}", f"Shop {index}", category.id, f"BENCH-{index:07d}", "",
                    lat, lon, municipality.id, False, "active", "large", 0.0,
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
        tail = "\t".join(str(v) for v in row[13:18])
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
                inspector_id = inspector_ids[index % n_inspectors]
                buffer.write(
                    f"{getrandbits(128):032x}\t{est_head}{inspector_id}{est_mid}{stamp}\t{stamp}\t{stamp}"
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
    return {"leader": leader, "municipalities": municipalities, "amanah": amanah, "national": national}


def reused(n_visits: int, *, national: bool) -> dict | None:
    """The world of a database this bench seeded with `n_visits` visits and whose roll-ups it built,
    migrated to the current code; None when there is none (then the bench seeds its own)."""
    import psycopg

    try:
        with psycopg.connect(BENCH_URL) as conn:
            visits = conn.execute("SELECT count(*) FROM inspections_visit").fetchone()[0]
            rolled = conn.execute("SELECT EXISTS (SELECT 1 FROM analytics_cellperiod)").fetchone()[0]
    except psycopg.Error:
        return None
    if visits != n_visits or not rolled:
        return None
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from inspections.models import Municipality

    call_command("migrate", verbosity=0)
    leader = get_user_model().objects.get(username="bench_leader")
    municipalities = list(Municipality.objects.filter(kind="baladiya").order_by("id"))
    if national != (Municipality.objects.filter(kind="amanah").count() > 1):
        return None
    print(f"reusing {n_visits:,} seeded visits and their roll-ups in {BENCH_URL.rsplit('/', 1)[1]}")
    amanah = leader.membership.amanah
    return {"leader": leader, "municipalities": municipalities, "amanah": amanah, "national": national}


def build_rollups() -> tuple[float, dict]:
    """`manage.py rollups_rebuild` on the seeded visits, then VACUUM ANALYZE of the roll-ups (as after
    the visits: index-only scans need the visibility map). Returns its seconds and the sizes."""
    from django.core.management import call_command
    from django.db import connection

    from analytics.rollups import TABLES, rollup_sizes

    t0 = time.perf_counter()
    call_command("rollups_rebuild", stdout=io.StringIO())
    seconds = time.perf_counter() - t0
    old_autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    connection.set_autocommit(old_autocommit)
    return seconds, rollup_sizes()


def maintenance_cost(batches: int = 40, batch_size: int = 50) -> tuple[float, float]:
    """Microseconds per visit of `rollups_apply` (what the visit sync calls in its transaction) on
    batches of `batch_size` stored visits of the last two days (a sync's batch: recent visits), rolled
    back; beside it, in the same conditions, an executemany INSERT of the same visit rows into a copy
    of the visits table with its indexes (what storing the visits alone costs)."""
    from django.db import connection, transaction

    from analytics.rollups import rollups_apply

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM inspections_visit WHERE finished_at > now() - interval '2 days' ORDER BY id LIMIT %s",
            [batches * batch_size],
        )
        ids = [row[0] for row in cursor.fetchall()]
    rollups, inserts = [], []
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with transaction.atomic():
            t0 = time.perf_counter()
            rollups_apply(visit_ids=chunk)
            rollups.append((time.perf_counter() - t0) / len(chunk) * 1e6)
            transaction.set_rollback(True)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE bench_visit_copy (LIKE inspections_visit INCLUDING ALL) ON COMMIT DROP")
            cursor.execute("SELECT * FROM inspections_visit WHERE id = ANY(%s)", [chunk])
            rows = [(-row[0], *row[1:]) for row in cursor.fetchall()]
            marks = ", ".join(["%s"] * len(rows[0]))
            t0 = time.perf_counter()
            cursor.executemany(f"INSERT INTO bench_visit_copy VALUES ({marks})", rows)
            inserts.append((time.perf_counter() - t0) / len(chunk) * 1e6)
            transaction.set_rollback(True)
    return statistics.median(rollups), statistics.median(inserts)


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
    from inspections.models import Municipality

    ids = list(Municipality.objects.values_list("id", flat=True))
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
    # The visits span the 365 days before now. Beside the last year and 30 days (what the dashboard
    # asks), two ranges whose every edge lies in those days: a year from the 1st of a month (whole
    # quarters: the fewest roll-up rows) and, the worst case, from the 16th of a month to the 15th
    # eleven months later (days at both edges, which the cell roll-ups read as weeks and days; a whole
    # year from mid-month would reach past the visits at one edge unless today is mid-month).
    first = (today - timedelta(days=365)).replace(day=1)
    if first < today - timedelta(days=365):
        first = (first + timedelta(days=31)).replace(day=1)
    aligned_to = (first + timedelta(days=366)).replace(day=1) - timedelta(days=1)
    mid_from = (today - timedelta(days=365)).replace(day=16)
    if mid_from < today - timedelta(days=365):
        mid_from = (mid_from + timedelta(days=31)).replace(day=16)
    mid_to = (mid_from + timedelta(days=334)).replace(day=15)
    every = ("rates by municipality", "rates by month", "heatmap r7", "heatmap r9")
    spans = (
        ("1 year", year_from, today, every),
        ("30 days", month_from, today, every),
        ("year from the 1st", first, aligned_to, ("heatmap r7", "heatmap r9")),
        ("mid-month to mid-month", mid_from, mid_to, every),
    )
    print("\n" + "; ".join(f"{label}: {date_from} .. {date_to}" for label, date_from, date_to, _ in spans))
    for label, date_from, date_to, queries in spans:
        start, end = local_day_bounds(date_from=date_from, date_to=date_to)
        where = (
            "finished_at >= %s AND finished_at < %s AND outcome IN ('compliant', 'violations') "
            f"AND municipality_id IN ({id_list})"
        )
        common = {"from": date_from.isoformat(), "to": date_to.isoformat()}
        span_cases = [
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
        cases += [case for case in span_cases if case[0].split(",")[0] in queries]
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
    parser.add_argument("--national", action="store_true", help="17 Amanahs, 153 municipalities, an admin's view")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded with as many visits")
    args = parser.parse_args()

    started = time.perf_counter()
    world = reused(args.visits, national=args.national) if args.reuse else None
    if world is None:
        recreate_database()
        setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        world = seed(args.visits, args.establishments, national=args.national)
        rebuild_s, sizes = build_rollups()
    else:
        from analytics.rollups import rollup_sizes

        rebuild_s, sizes = float("nan"), rollup_sizes()
    total_rows = sum(rows for rows, _ in sizes.values())
    total_bytes = sum(size for _, size in sizes.values())
    built = "reused" if math.isnan(rebuild_s) else f"rebuilt (manage.py rollups_rebuild) in {rebuild_s:.1f} s"
    print(f"roll-ups {built}: {total_rows:,} rows, {total_bytes / 2**20:.1f} MiB on disk (pg_total_relation_size)")
    for table, (rows, size) in sizes.items():
        print(f"  {table:28} {rows:>10,} rows {size / 2**20:8.1f} MiB")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('inspections_visit')")
        print(f"  (inspections_visit with its indexes: {cursor.fetchone()[0] / 2**20:,.0f} MiB)")
    cost_us, insert_us = maintenance_cost()
    print(
        f"roll-up maintenance per synced visit (rollups_apply, batches of 50): {cost_us:.0f} us; "
        f"an executemany INSERT of the same visit rows (indexed copy of the table): {insert_us:.0f} us"
    )
    results = bench_queries(world, args.runs)
    scope = "admin, 17 Amanahs" if args.national else "leadership, whole Amanah"
    print(
        f"\n{'query (' + scope + ')':46} {'API ms':>8} {'SQL ms':>8} {'ratio':>6} {'visits':>10} {'rows':>6}"
        "   (API: the endpoint on roll-ups; SQL: hand-written over the raw table)"
    )
    for name, api_ms, sql_ms, visits, rows in results:
        print(f"{name:46} {api_ms:8.1f} {sql_ms:8.1f} {api_ms / sql_ms:6.2f} {visits:10,} {rows:6,}")
    if not args.skip_export:
        seconds, size, peak_mb, rows = bench_export(world, args.visits)
        print(
            f"\nCSV export of {rows:,} visits: {seconds:.1f} s, {size / 2**20:.0f} MiB, "
            f"peak RSS of the serving gunicorn processes {peak_mb:.0f} MiB"
        )
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
