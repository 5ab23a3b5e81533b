"""PostgreSQL restarted in the middle of a sync batch: the phone retries the same batch until it gets
an answer, and every visit ends up stored exactly once (the retry answers `created` or `duplicate`
with the same ids). Runs against a private PostgreSQL cluster (port 5433) and a real gunicorn, so the
restart kills real backends mid-transaction; the machine's PostgreSQL is never touched.

Skipped on the embedded default (SQLite): runs in the CI pass against the real services."""

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from tests.faults_support import (
    Gunicorn,
    PrivatePostgres,
    free_port,
    manage,
    request,
    service_env,
)

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL (the CI pass)"),
    pytest.mark.skipif(not PrivatePostgres.available(), reason="needs initdb/pg_ctl (and runuser as root)"),
]

SEED = """
import json
from django.contrib.auth import get_user_model
from inspections.models import Category, Checklist, ChecklistItem, ChecklistVersion, Establishment
from inspections.models import Membership, Municipality
from inspections.domain.geo import h3_cells
from django.utils import timezone
User = get_user_model()
amanah = Municipality.objects.create(code="EP", name_ar="أمانة", name_en="Amanah", kind="amanah")
ring = [[50.03, 26.37], [50.14, 26.37], [50.14, 26.47], [50.03, 26.47], [50.03, 26.37]]
square = {"type": "Polygon", "coordinates": [ring]}
dammam = Municipality.objects.create(code="DAMMAM", name_ar="الدمام", name_en="Dammam", parent=amanah,
    boundary=square, centre_lat=26.42, centre_lon=50.088)
inspector = User.objects.create_user(username="fault_inspector", password="fault-pass-123")
Membership.objects.create(user=inspector, role="inspector").municipalities.add(dammam)
category = Category.objects.create(code="grocery", name_ar="بقالة", name_en="Grocery")
shops = [Establishment.objects.create(name_ar=f"محل {i}", category=category, licence_no=f"F-{i}", lat=26.42 + i * 1e-4,
    lon=50.088, municipality=dammam, **h3_cells(26.42 + i * 1e-4, 50.088)) for i in range(5)]
checklist = Checklist.objects.create(code="hygiene", name_ar="نظافة", name_en="Hygiene")
version = ChecklistVersion.objects.create(checklist=checklist, number=1, status="published",
    published_at=timezone.now())
for code in ("MASKS", "SANITISER", "FLOOR"):
    ChecklistItem.objects.create(version=version, code=code, text_ar=code, text_en=code)
print("SEED:" + json.dumps({"shops": [(s.pk, s.lat, s.lon) for s in shops], "version": version.pk}))
"""


def _batch(seed: dict, size: int) -> list[dict]:
    now = datetime.now(tz=UTC)
    visits = []
    for n in range(size):
        shop_id, lat, lon = seed["shops"][n % len(seed["shops"])]
        finished = now - timedelta(hours=2, minutes=n)
        visits.append(
            {
                "client_id": str(uuid.uuid4()),
                "establishment_id": shop_id,
                "checklist_version_id": seed["version"],
                "started_at": (finished - timedelta(minutes=8)).isoformat(),
                "finished_at": finished.isoformat(),
                "location": {"lat": lat, "lon": lon, "accuracy_m": 6.0},
                "outcome": "violations" if n % 3 == 0 else "compliant",
                "answers": [
                    {"item_code": "MASKS", "value": "no" if n % 3 == 0 else "yes"},
                    {"item_code": "SANITISER", "value": "yes"},
                    {"item_code": "FLOOR", "value": "yes"},
                ],
                "notes": f"visit {n} ✅ زيارة",
            }
        )
    return visits


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pgfault")
    postgres = PrivatePostgres(port=5433)
    server = None
    try:
        postgres.start()
        env = service_env(
            DATABASE_URL=postgres.url,
            # Redis dbs of ours on the shared server: the login throttle's cache and a broker nothing
            # consumes (compliant visits queue no alerts; a finding's alert just waits there).
            REDIS_URL="redis://127.0.0.1:6379/12",
            CELERY_BROKER_URL="redis://127.0.0.1:6379/13",
            LOGIN_MAX_FAILURES="1000",
            MEDIA_ROOT=str(folder / "media"),
            DB_CONN_MAX_AGE="60",
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        seed_out = manage(env, "shell", "-c", SEED)
        seed = json.loads(next(line for line in seed_out.splitlines() if line.startswith("SEED:"))[5:])
        server = Gunicorn(env, free_port(8640, 8659), folder / "gunicorn.log", workers=2)
        server.start()
        status, body = request(
            "POST", server.base + "auth/token", {"username": "fault_inspector", "password": "fault-pass-123"}
        )
        assert status == 200, body
        yield postgres, server, seed, body["access"]
    finally:
        if server:
            server.stop()
        postgres.stop()


def _count(postgres: PrivatePostgres, client_ids: list[str]) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(postgres.url.replace("postgres://", "postgresql://"), connect_timeout=10) as conn:
        visits, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT client_id) FROM inspections_visit WHERE client_id::text = ANY(%s)",
            [client_ids],
        ).fetchone()
        answers = conn.execute(
            "SELECT count(*) FROM inspections_answer a JOIN inspections_visit v ON v.id = a.visit_id "
            "WHERE v.client_id::text = ANY(%s)",
            [client_ids],
        ).fetchone()[0]
    return visits, distinct, answers


def _post_until_answered(server, token, batch, deadline_s: float = 60) -> tuple[dict, int]:
    """The phone: resend the whole batch until the server answers 200. Returns (answer, attempts)."""
    attempts = 0
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        attempts += 1
        try:
            status, body = request("POST", server.base + "visits/sync", {"visits": batch}, token=token, timeout=30)
        except OSError:
            status, body = None, None
        if status == 200:
            return body, attempts
        time.sleep(0.3)
    raise AssertionError(f"no 200 within {deadline_s} s")


def test_restart_during_sync_then_retry_stores_each_visit_once(stack):
    postgres, server, seed, token = stack
    # A baseline batch: how long a batch takes here, to aim the crashes inside it.
    size = 200  # the largest batch a phone may send: the widest window to crash into
    durations = []
    for _ in range(3):  # warm: the first requests of each worker open connections and load code
        started = time.perf_counter()
        baseline, _ = _post_until_answered(server, token, _batch(seed, size))
        durations.append(time.perf_counter() - started)
        assert {r["status"] for r in baseline["results"]} == {"created"}
    took = min(durations)

    hit = tries = 0
    for fraction in (0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.1, 0.2):
        if hit >= 3:
            break
        tries += 1
        batch = _batch(seed, size)
        client_ids = [visit["client_id"] for visit in batch]
        first: dict = {}

        def send(batch=batch, first=first):
            try:
                first["answer"] = request(
                    "POST", server.base + "visits/sync", {"visits": batch}, token=token, timeout=30
                )
            except OSError as error:  # the connection itself may drop
                first["answer"] = (None, repr(error))

        thread = threading.Thread(target=send)
        thread.start()
        time.sleep(took * fraction)
        postgres.restart()
        thread.join(timeout=60)
        first_status = first["answer"][0]
        if first_status != 200:
            hit += 1
            assert first_status is None or first_status >= 500, first["answer"]

        answer, attempts = _post_until_answered(server, token, batch)
        results = answer["results"]
        assert [r["client_id"] for r in results] == client_ids
        assert {r["status"] for r in results} <= {"created", "duplicate"}, results[:3]
        assert len({r["visit_id"] for r in results}) == len(batch)
        visits, distinct, answers = _count(postgres, client_ids)
        assert visits == distinct == len(batch), (visits, distinct)
        assert answers == 3 * len(batch)

        # One more replay (the phone never got the answer, say): the same ids, all duplicates.
        replay, _ = _post_until_answered(server, token, batch)
        assert [r["visit_id"] for r in replay["results"]] == [r["visit_id"] for r in results]
        assert {r["status"] for r in replay["results"]} == {"duplicate"}
        assert _count(postgres, client_ids)[0] == len(batch)

    print(f"PostgreSQL crashed inside {hit} of {tries} batches of {size} visits (a batch took {took:.2f} s)")
    # At least one restart must have landed inside a request, or the test proved nothing.
    assert hit >= 1, "no restart interrupted a batch"
