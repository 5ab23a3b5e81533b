"""A real Celery worker process against the real broker (Redis in CI) delivers an assignment
notification end to end: committed outbox row → queued on commit → worker → firebase-admin → the
fake FCM; the row ends `sent` with its delivery recorded."""

import pytest
from django.conf import settings
from django.db import connection, transaction

from backend.celery import app
from inspections.alerts.policy import notify_round_assigned
from notifications.models import Delivery, Notification
from tests.factories import DeviceFactory, RoundFactory, RoundStopFactory
from tests.fake_fcm import FakeFCMServer, Worker, free_port, postgres_url, wait_for, worker_env, write_service_account

needs_services = pytest.mark.skipif(
    not (settings.IS_POSTGRES and settings.CELERY_BROKER_URL.startswith("redis://")),
    reason="needs PostgreSQL and Redis (the CI pass); the embedded default has its own test below",
)


@pytest.fixture
def publish_to_broker():
    """Under pytest tasks run inline; these tests publish to the real broker for the worker."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def fake_fcm():
    with FakeFCMServer(free_port(8420)) as fake:
        yield fake


@pytest.fixture
def worker(fake_fcm, tmp_path, publish_to_broker):
    env = worker_env(
        fake=fake_fcm,
        credentials_file=write_service_account(tmp_path / "sa.json", fake=fake_fcm),
        broker_url=settings.CELERY_BROKER_URL,
        database_url=postgres_url(connection.settings_dict),
    )
    with app.connection_for_write() as conn:  # leftovers of an earlier run would only be skipped, but be tidy
        app.control.purge(connection=conn)
    started = Worker(env, tmp_path / "worker.log").start()
    yield started
    started.stop()


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_assignment_is_delivered_end_to_end_by_a_real_worker(worker, fake_fcm, dammam, inspector):
    phone = DeviceFactory(user=inspector)
    with transaction.atomic():
        round_ = RoundFactory(municipality=dammam, inspector=inspector)
        RoundStopFactory(round=round_)
        notify_round_assigned(round=round_)
        notification = Notification.objects.get()
    sent = wait_for(lambda: Notification.objects.filter(pk=notification.pk, status="sent").exists(), timeout=30)
    assert sent, worker.output()
    delivery = Delivery.objects.get(notification=notification)
    assert delivery.device == phone and delivery.status == "sent" and delivery.message_id.startswith("projects/")
    assert fake_fcm.accepted_tokens() == [phone.token]
    assert fake_fcm.accepted[0]["data"]["round_id"] == str(round_.pk)
    assert fake_fcm.shape_errors == []


DRIVER = """
import django, json, sys
django.setup()
import tests.fake_fcm  # this process publishes to the test's broker folders
from django.db import transaction
from inspections.models import Membership
from inspections.alerts.policy import notify_round_assigned
from tests.factories import DeviceFactory, MunicipalityFactory, RoundFactory, RoundStopFactory, make_user

municipality = MunicipalityFactory(code="DAMMAM", name_en="Dammam", name_ar="الدمام")
inspector = make_user(Membership.Role.INSPECTOR, municipality, username="inspector_e2e")
phone = DeviceFactory(user=inspector)
with transaction.atomic():
    round_ = RoundFactory(municipality=municipality, inspector=inspector)
    RoundStopFactory(round=round_)
    notify_round_assigned(round=round_)
print(json.dumps({"token": phone.token, "round_id": round_.pk}))
"""


@pytest.mark.slow
@pytest.mark.skipif(settings.IS_POSTGRES, reason="the PostgreSQL pass runs the Redis variant above")
def test_embedded_default_filesystem_broker_and_sqlite_file_deliver_end_to_end(
    tmp_path, django_db_setup, django_db_blocker
):
    """What `make run` does with no configuration: kombu's filesystem broker, a SQLite file shared by
    the API process and a real worker process."""
    import json
    import sqlite3
    import subprocess
    import sys

    from tests.fake_fcm import Worker, free_port, wait_for, worker_env, write_service_account

    with FakeFCMServer(free_port(8425)) as fake:
        env = worker_env(
            fake=fake,
            credentials_file=write_service_account(tmp_path / "sa.json", fake=fake),
            broker_url="filesystem://",
            database_url=f"sqlite:///{tmp_path / 'jawla.sqlite3'}",
        )
        env["TEST_BROKER_FOLDER"] = str(tmp_path / "broker")
        env.pop("REDIS_URL", None)
        root = str(settings.BASE_DIR)
        # The migrated test database, copied into the file the processes share (faster than a migrate).
        with django_db_blocker.unblock():
            connection.ensure_connection()
            with sqlite3.connect(tmp_path / "jawla.sqlite3") as copy:
                connection.connection.backup(copy)
        worker = Worker(env, tmp_path / "worker.log").start(timeout=60)
        try:
            driver = subprocess.run(
                [sys.executable, "-c", DRIVER], cwd=root, env=env, capture_output=True, text=True, timeout=120
            )
            assert driver.returncode == 0, driver.stderr
            created = json.loads(driver.stdout.strip().splitlines()[-1])

            def status():
                with sqlite3.connect(tmp_path / "jawla.sqlite3", timeout=20) as db:
                    return db.execute("SELECT status FROM notifications_notification").fetchone()

            assert wait_for(lambda: status() == ("sent",), timeout=60), (status(), worker.output())
            with sqlite3.connect(tmp_path / "jawla.sqlite3", timeout=20) as db:
                deliveries = db.execute("SELECT status, message_id FROM notifications_delivery").fetchall()
        finally:
            worker.stop()
    assert len(deliveries) == 1 and deliveries[0][0] == "sent" and deliveries[0][1].startswith("projects/")
    assert fake.accepted_tokens() == [created["token"]]
    assert fake.accepted[0]["data"]["round_id"] == str(created["round_id"])


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_deferred_rollups_reach_the_dashboard_through_a_real_worker(worker, dammam, inspector, leader):
    """ROLLUPS_DEFERRED: visits synced through the API wait in RollupPending (the rates do not show them
    yet); the flush task, run by the real worker from the broker (as beat sends it every 5 s), adds
    them and the leadership endpoint counts them."""
    from django.test import override_settings

    from analytics.models import RollupPending
    from analytics.tasks import rollups_flush_task
    from tests.conftest import ApiClient
    from tests.visit_support import make_checklist, shop, visit_payload

    version, _ = make_checklist()
    store = shop(dammam)
    with override_settings(ROLLUPS_DEFERRED=True):
        body = {"visits": [visit_payload(store, version, MASKS="no"), visit_payload(store, version)]}
        response = ApiClient().as_user(inspector).post("visits/sync", body)
    assert response.status_code == 200, response.content
    assert RollupPending.objects.count() == 2

    def dammam_visits() -> int:
        rates = ApiClient().as_user(leader).get("analytics/violation-rates").json()
        return sum(row["visits"] for row in rates if row["key"] == str(dammam.id))

    assert dammam_visits() == 0
    rollups_flush_task.delay()
    assert wait_for(lambda: not RollupPending.objects.exists(), timeout=30), worker.output()
    assert dammam_visits() == 2


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_deferred_risk_scores_are_stored_by_a_real_worker(worker, dammam, inspector):
    """RISK_DEFERRED: a violating visit synced through the API lists its establishment in RiskPending
    (the stored score is still 0); the flush task, run by the real worker from the broker (as beat sends
    it every 5 s), stores the score of its open finding."""
    from django.test import override_settings

    from inspections.models import Establishment, RiskPending
    from inspections.tasks import risk_flush
    from tests.conftest import ApiClient
    from tests.visit_support import make_checklist, shop, visit_payload

    version, _ = make_checklist()
    store = shop(dammam)
    with override_settings(RISK_DEFERRED=True):
        response = (
            ApiClient().as_user(inspector).post("visits/sync", {"visits": [visit_payload(store, version, MASKS="no")]})
        )
    assert response.status_code == 200, response.content
    assert list(RiskPending.objects.values_list("establishment_id", flat=True)) == [store.pk]
    assert Establishment.objects.get(pk=store.pk).risk_score == 0
    risk_flush.delay()
    assert wait_for(lambda: not RiskPending.objects.exists(), timeout=30), worker.output()
    assert Establishment.objects.get(pk=store.pk).risk_score == pytest.approx(1)
