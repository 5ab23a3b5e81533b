"""Redis (the Celery broker and the cache, one server as in production) stopped: the API still
accepts visits (scopes come from the database while the cache is down), `GET health` reports the
broker down (200, `degraded`), the critical-finding alert waits in the outbox, and once Redis is
back a real worker delivers it (the sweeper re-queues it). A private redis-server (port 6390-6399)
is the broker and the cache, so stopping it touches nobody else; the server is a real gunicorn on
the test database.

The worker killed mid-task ("nothing lost") is tests/test_outbox_faults.py (notifications), and the
broker-down-at-creation case without the API in between is there too; this file is the end-to-end
path through the phone's sync endpoint. Skipped on the embedded default."""

import shutil
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.utils import timezone

from inspections.models import ChecklistItem, Membership, Visit
from inspections.services.auth import token_pair_for
from notifications.models import Notification
from tests.factories import (
    CategoryFactory,
    ChecklistItemFactory,
    ChecklistVersionFactory,
    DeviceFactory,
    EstablishmentFactory,
    make_user,
)
from tests.faults_support import ROOT, Gunicorn, PrivateRedis, free_port, request, service_env, wait_for

User = get_user_model()

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not (settings.IS_POSTGRES and settings.CELERY_BROKER_URL.startswith("redis://")),
        reason="needs PostgreSQL and Redis (the CI pass)",
    ),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary"),
    pytest.mark.django_db(transaction=True),
]


def _database_url() -> str:
    db = connection.settings_dict
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def broker():
    redis = PrivateRedis(free_port(6390, 6399))
    redis.start()
    yield redis
    redis.cleanup()


@pytest.fixture
def scene(dammam):
    inspector = make_user(Membership.Role.INSPECTOR, dammam, username="redis_fault_inspector")
    supervisor = make_user(Membership.Role.SUPERVISOR, dammam, username="redis_fault_supervisor")
    DeviceFactory(user=supervisor, token=f"supervisor-phone-{uuid.uuid4().hex}")
    shop = EstablishmentFactory(municipality=dammam, category=CategoryFactory())
    version = ChecklistVersionFactory()
    ChecklistItemFactory(version=version, code="EXPIRED", severity=ChecklistItem.Severity.CRITICAL, fine_sar=5000)
    return inspector, supervisor, shop, version


def _visit(shop, version) -> dict:
    finished = timezone.now() - timedelta(minutes=5)
    return {
        "client_id": str(uuid.uuid4()),
        "establishment_id": shop.pk,
        "checklist_version_id": version.pk,
        "started_at": (finished - timedelta(minutes=10)).isoformat(),
        "finished_at": finished.isoformat(),
        "location": {"lat": shop.lat, "lon": shop.lon, "accuracy_m": 5.0},
        "outcome": "violations",
        "answers": [{"item_code": "EXPIRED", "value": "no"}],
    }


def test_broker_down_visits_accepted_health_degraded_alert_sent_after(broker, scene, tmp_path):
    inspector, supervisor, shop, version = scene
    env = service_env(
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=broker.url,
        REDIS_URL=f"redis://127.0.0.1:{broker.port}/1",  # the cache: it must not take the API down with it
        LOGIN_MAX_FAILURES="1000",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    server = Gunicorn(env, free_port(8660, 8679), tmp_path / "gunicorn.log", workers=2)
    worker = None
    server.start()
    try:
        # Signed with the same key the server uses (the default development key in both processes).
        tokens = {"access": token_pair_for(user=inspector).access}
        status, me = request("GET", server.base + "me", token=tokens["access"])
        assert status == 200, me
        status, health = request("GET", server.base + "health")
        assert status == 200 and health["broker"] == "ok", health

        broker.stop()

        status, health = request("GET", server.base + "health", timeout=30)
        assert status == 200, health  # the database answers: still up, only degraded
        assert health["status"] == "degraded" and health["broker"].startswith("down"), health

        # Signing in still works (the failure counters are skipped while the cache is down). The
        # server knows PBKDF2 only (the test settings hash with MD5), so the password is set so.
        hasher = PBKDF2PasswordHasher()
        User.objects.filter(pk=inspector.pk).update(password=hasher.encode("pass12345", hasher.salt(), iterations=1000))
        status, fresh = request(
            "POST", server.base + "auth/token", {"username": inspector.username, "password": "pass12345"}
        )
        assert status == 200 and fresh["access"], fresh

        started = time.perf_counter()
        status, answer = request(
            "POST", server.base + "visits/sync", {"visits": [_visit(shop, version)]}, token=tokens["access"]
        )
        took = time.perf_counter() - started
        assert status == 200, answer
        (result,) = answer["results"]
        assert result["status"] == "created", result
        assert took < 15, f"the sync waited {took:.1f} s on the dead broker"
        visit = Visit.objects.get(pk=result["visit_id"])
        alert = Notification.objects.get(recipient=supervisor, kind="critical_finding")
        assert alert.status == Notification.Status.PENDING and alert.payload
        assert visit.findings.count() == 1

        # Redis comes back; a real worker runs, and the sweeper re-queues what waited in the outbox.
        broker.start()
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend", "worker", "-l", "warning", "-c", "1"]
            + ["--without-heartbeat", "--without-gossip", "--without-mingle", "-P", "solo"],
            cwd=ROOT,
            env=env,
            stdout=open(tmp_path / "worker.log", "w"),  # noqa: SIM115 - the process owns it
            stderr=subprocess.STDOUT,
        )
        status, health = request("GET", server.base + "health")
        assert health["broker"] == "ok", health
        sweep = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SWEEP],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sweep.returncode == 0, sweep.stderr[-2000:]

        def sent():
            alert.refresh_from_db()
            return alert.status == Notification.Status.SENT

        assert wait_for(sent, timeout=60), (
            alert.status,
            alert.last_error,
            (tmp_path / "worker.log").read_text()[-2000:],
        )
        assert Notification.objects.filter(recipient=supervisor, kind="critical_finding").count() == 1
        assert alert.deliveries.count() == 1
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        server.stop()


# The sweeper's own code, with its age cut-off at zero (the periodic task waits a minute for rows
# that are simply in flight; here the row is known to be stranded).
SWEEP = """
from datetime import timedelta
from notifications.services import notifications_sweep
print("requeued", notifications_sweep(older_than=timedelta(0)))
"""
