"""CSV export benchmark on PostgreSQL: the visits CSV of 1,000,000 visits through the API, beside the
raw COPY of the same columns in the same run.

    python bench/export.py [--visits 1000000] [--reuse]

- Drops and re-creates its own database (BENCH_DATABASE_URL, default
  postgres://postgres@127.0.0.1:5432/jawla_national_export), migrates it and seeds it with
  bench/analytics.py's seeding (COPY; one year, 15 municipalities). `--reuse` keeps a database
  already seeded with the same number of visits.
- Baseline: the export's own COPY statement (same columns, joins, formula guard and date format, JIT
  off as the export sets it) run straight through psycopg, and a plain `COPY inspections_visit (...)
  TO STDOUT` of the visit table alone, read to the end; time to the first byte and to the last, and
  the CPU seconds of the database process serving it (plus those of its parallel workers).
- The endpoint: `GET /api/v1/analytics/exports/visits.csv` served by one gunicorn sync worker on
  127.0.0.1:8651 (DEBUG off), read over HTTP by this process. Memory is the serving processes' RSS
  sampled every 20 ms with psutil (absolute peak, and the rise over the idle worker just before
  the request), and the worker's USS (its private pages) and PSS from /proc/PID/smaps_rollup: what a
  further worker would add. The worker gets this process's environment, so its cache is Redis only
  when REDIS_URL is set (as deployed: every request's scope lookup then imports redis-py); the figure
  says which cache it ran with.
- Bytecode: the server runs from cached bytecode (.pyc, as Python keeps it by default), kept in
  var/bench-pycache/ and filled by a first server start, even when PYTHONDONTWRITEBYTECODE is set in
  this environment: a worker that compiles every module from source at start keeps the compiler's
  garbage in its heap (redis-py's 400 KB command module alone: ~20 MiB of RSS). `--no-pycache` measures
  that case.
- The export once more in a child process through Django's handler (no HTTP), with tracemalloc:
  the peak of Python allocations during the export, and that process's ru_maxrss (getrusage).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jawla_national_export"
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
os.environ["BENCH_DATABASE_URL"] = BENCH_URL  # bench.analytics reads it at import
PORT = int(os.environ.get("BENCH_EXPORT_PORT", "8651"))
MiB = 2**20


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seeded_visits() -> int | None:
    import psycopg

    try:
        with psycopg.connect(BENCH_URL) as conn:
            return conn.execute("SELECT count(*) FROM inspections_visit").fetchone()[0]
    except psycopg.Error:
        return None


def prepare(n_visits: int, reuse: bool) -> None:
    from bench import analytics as seeding

    if reuse and seeded_visits() == n_visits:
        print(f"reusing {n_visits:,} seeded visits in {BENCH_URL.rsplit('/', 1)[1]}")
        return
    seeding.recreate_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        # bench/analytics.py's COPY predates the size class (a Python-side default): give the column a
        # database default in this throwaway database so that its seeding runs unchanged.
        cursor.execute("ALTER TABLE inspections_establishment ALTER COLUMN size_class SET DEFAULT 'large'")
    seeding.seed(n_visits, 20_000)


def leader_token() -> str:
    from django.contrib.auth import get_user_model

    from inspections.services.auth import token_pair_for

    return token_pair_for(user=get_user_model().objects.get(username="bench_leader")).access


def export_sql() -> tuple[str, tuple]:
    from analytics import exports
    from inspections.models import Visit

    return exports._copy_sql(Visit.objects.all(), exports.VISIT_COLUMNS)


def _cpu_seconds(pid: int, *, children: bool = False) -> float:
    # utime + stime (or, for children, those of its reaped children: the parallel workers it started).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def time_copy(sql: str, params=()) -> tuple[float, float, int, float]:
    """First byte and total seconds, bytes, and CPU seconds of the database: the backend and the
    parallel workers the postmaster reaped meanwhile (another client's exiting backend would count too)."""
    import psycopg

    with psycopg.connect(BENCH_URL) as conn, conn.cursor() as cursor:
        cursor.execute("SET jit = off")  # as the export does
        backend = cursor.execute("SELECT pg_backend_pid()").fetchone()[0]
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        cpu0 = _cpu_seconds(backend) + _cpu_seconds(postmaster, children=True)
        t0 = time.perf_counter()
        first = None
        size = 0
        with cursor.copy(sql, params) as copy:
            for data in copy:
                if first is None:
                    first = time.perf_counter() - t0
                size += len(data)
        seconds = time.perf_counter() - t0
        cpu = _cpu_seconds(backend) + _cpu_seconds(postmaster, children=True) - cpu0
        return first or 0.0, seconds, size, cpu


def _private_and_proportional(pid: int) -> tuple[int, int]:
    """USS (private pages) and PSS of a process, in bytes, from /proc/PID/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) * 1024
    return fields["Private_Clean"] + fields["Private_Dirty"], fields["Pss"]


def bench_http(token: str, n_visits: int, *, pycache: bool, measure: bool = True) -> dict:
    import psutil

    env = {**os.environ, "DATABASE_URL": BENCH_URL, "LOG_LEVEL": "WARNING", "DEBUG": "false", "ALLOWED_HOSTS": "*"}
    if pycache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(ROOT / "var" / "bench-pycache")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "backend.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", "1", "--timeout", "300"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/health", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        parent = psutil.Process(server.pid)
        # One small authenticated request first, so the worker has imported what a request needs.
        warm = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/api/v1/analytics/exports/visits.csv?from=2000-01-01&to=2000-01-01",
            headers={"Authorization": f"Bearer {token}"},
        )
        urllib.request.urlopen(warm, timeout=30).read()
        if not measure:  # a first start that only fills the bytecode cache
            return {}
        time.sleep(0.2)

        def rss_each() -> list[int]:
            return [p.memory_info().rss for p in [parent, *parent.children(recursive=True)]]

        def private_each() -> list[tuple[int, int]]:
            return [_private_and_proportional(p.pid) for p in parent.children(recursive=True)]

        idle = max(rss_each())
        idle_uss, idle_pss = max(private_each())
        peak = {"rss": idle, "uss": idle_uss, "pss": idle_pss}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                with contextlib.suppress(psutil.Error, OSError):  # a process that just exited
                    peak["rss"] = max(peak["rss"], *rss_each())
                    uss, pss = max(private_each())
                    peak["uss"], peak["pss"] = max(peak["uss"], uss), max(peak["pss"], pss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/api/v1/analytics/exports/visits.csv", headers={"Authorization": f"Bearer {token}"}
        )
        t0 = time.perf_counter()
        first = first_row = None
        size = lines = 0
        with urllib.request.urlopen(request, timeout=300) as response:
            while chunk := response.read1(1 << 16):
                if first is None:
                    first = time.perf_counter() - t0
                size += len(chunk)
                lines += chunk.count(b"\n")
                if first_row is None and lines >= 2:  # the header, then a visit
                    first_row = time.perf_counter() - t0
        seconds = time.perf_counter() - t0
        stop.set()
        sampler.join()
        assert lines == n_visits + 1, (lines, n_visits)
        return {
            "first": first,
            "first_row": first_row,
            "seconds": seconds,
            "size": size,
            "idle": idle,
            "peak": peak["rss"],
            "idle_uss": idle_uss,
            "peak_uss": peak["uss"],
            "peak_pss": peak["pss"],
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


def child_tracemalloc(token: str) -> None:
    """In a fresh process: the export through Django's handler under tracemalloc; prints JSON."""
    import resource
    import tracemalloc

    setup_django()
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v1/analytics/exports/visits.csv?from=2000-01-01&to=2000-01-01")  # imports, plans
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    response = client.get("/api/v1/analytics/exports/visits.csv")
    size = sum(len(chunk) for chunk in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"size": size, "traced_peak": peak - base, "maxrss_before": rss_before, "maxrss": rss_after}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep a database already seeded with --visits")
    parser.add_argument("--no-pycache", action="store_true", help="let the server compile every module at start")
    parser.add_argument("--child-token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_token:
        child_tracemalloc(args.child_token)
        return

    started = time.perf_counter()
    prepare(args.visits, args.reuse)
    setup_django()
    token = leader_token()
    sql, params = export_sql()
    from django.db import connection

    connection.close()

    copy_first, copy_seconds, copy_size, copy_cpu = time_copy(sql, params)
    plain_columns = (
        "id, client_id, finished_at, received_at, municipality_id, category_id, establishment_id, inspector_id, "
        "checklist_version_id, outcome, has_violation, violation_count, geo_status, lat, lon, accuracy_m, h3_r9"
    )
    plain_first, plain_seconds, plain_size, plain_cpu = time_copy(
        f"COPY inspections_visit ({plain_columns}) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    pycache = not args.no_pycache
    if pycache:
        bench_http(token, args.visits, pycache=True, measure=False)
    http = bench_http(token, args.visits, pycache=pycache)
    child = subprocess.run(
        [sys.executable, __file__, "--child-token", token], cwd=ROOT, capture_output=True, text=True, check=True
    )
    traced = json.loads(child.stdout.strip().splitlines()[-1])

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nCSV export of {args.visits:,} visits on PostgreSQL ({http['size'] / MiB:.0f} MiB of CSV)")
    print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min) at the end of the run")
    print(f"{'':44} {'first byte s':>12} {'total s':>8} {'ratio':>6} {'db cpu s':>9}")
    rows = [
        ("API over HTTP (gunicorn, 1 sync worker)", http["first"], http["seconds"], None),
        ("  the same request, to its first visit row", http["first_row"], http["seconds"], None),
        ("baseline: the export's COPY via psycopg", copy_first, copy_seconds, copy_cpu),
        ("baseline: plain COPY of the visit table", plain_first, plain_seconds, plain_cpu),
    ]
    for name, first, seconds, cpu in rows:
        cpu_text = "" if cpu is None else f"{cpu:9.2f}"
        print(f"{name:44} {first:12.2f} {seconds:8.2f} {seconds / copy_seconds:6.2f} {cpu_text}")
    from django.conf import settings

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 2)[-2]
    bytecode = "cached bytecode" if pycache else "compiled at start"
    print(
        f"memory, serving worker RSS (psutil, 20 ms samples, {cache} cache, {bytecode}): idle "
        f"{http['idle'] / MiB:.0f} MiB, peak {http['peak'] / MiB:.0f} MiB "
        f"(+{(http['peak'] - http['idle']) / MiB:.1f} MiB during the export)"
    )
    print(
        f"memory, the worker's own pages (smaps_rollup): USS idle {http['idle_uss'] / MiB:.0f} MiB, "
        f"peak {http['peak_uss'] / MiB:.0f} MiB; PSS peak {http['peak_pss'] / MiB:.0f} MiB"
    )
    print(
        f"memory, in-process export (child process): tracemalloc peak {traced['traced_peak'] / MiB:.2f} MiB of "
        f"Python allocations; getrusage ru_maxrss {traced['maxrss_before'] / MiB:.0f} MiB before, "
        f"{traced['maxrss'] / MiB:.0f} MiB after"
    )
    assert traced["size"] == http["size"], (traced["size"], http["size"])
    print(f"(sizes: export COPY {copy_size / MiB:.0f} MiB, plain COPY {plain_size / MiB:.0f} MiB)")
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
