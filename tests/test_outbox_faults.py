"""Faults: the broker is down when a notification is created (the sweeper delivers it once the broker
is back), and a worker is SIGKILLed in the middle of a send (nothing is lost; one delivery per device).

These run a real worker against Redis: a private redis-server for the outage (so it can be stopped
without touching anyone else's), the environment's Redis for the crash. Skipped on the embedded default.
"""

import os
import shutil
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from backend.celery import app
from inspections.alerts.policy import notify_round_assigned
from notifications import services
from notifications.models import Delivery, Notification
from tests.factories import DeviceFactory, RoundFactory, RoundStopFactory
from tests.fake_fcm import FakeFCMServer, Worker, free_port, postgres_url, wait_for, worker_env, write_service_account
from tests.faults_support import PrivateRedis

needs_services = pytest.mark.skipif(
    not (settings.IS_POSTGRES and settings.CELERY_BROKER_URL.startswith("redis://")),
    reason="needs PostgreSQL and Redis (the CI pass)",
)
pytestmark = [pytest.mark.services, needs_services, pytest.mark.django_db(transaction=True)]


@contextmanager
def producing_to(broker_url: str):
    """This process publishes to `broker_url` (for real, not inline) for the duration. Celery reads
    CELERY_BROKER_URL from the environment before its configuration, so both are switched."""
    before = (app.conf.broker_url, app.conf.task_always_eager, os.environ.get("CELERY_BROKER_URL"))
    os.environ["CELERY_BROKER_URL"] = broker_url
    app.conf.broker_url = broker_url
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = before[:2]
        if before[2] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = before[2]
        app._pool = None
        app.amqp._producer_pool = None


@pytest.fixture
def fake_fcm():
    with FakeFCMServer(free_port(8440)) as fake:
        yield fake


@pytest.fixture
def make_worker(fake_fcm, tmp_path):
    credentials = write_service_account(tmp_path / "sa.json", fake=fake_fcm)
    workers = []

    def start(broker_url: str) -> Worker:
        env = worker_env(
            fake=fake_fcm,
            credentials_file=credentials,
            broker_url=broker_url,
            database_url=postgres_url(connection.settings_dict),
        )
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log").start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _assign(dammam, inspector) -> Notification:
    with transaction.atomic():
        round_ = RoundFactory(municipality=dammam, inspector=inspector)
        RoundStopFactory(round=round_)
        notify_round_assigned(round=round_)
    return Notification.objects.get(kind="round_assigned")


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary for a private broker")
def test_created_while_the_broker_is_down_then_delivered_by_the_sweeper(
    make_worker, fake_fcm, tmp_path, dammam, inspector
):
    broker = PrivateRedis(free_port(8450))
    broker.start()
    phone = DeviceFactory(user=inspector)
    try:
        worker = make_worker(broker.url)
        with producing_to(broker.url):
            broker.stop()  # the broker goes away
            started = time.monotonic()
            notification = _assign(dammam, inspector)  # the cause commits; queueing fails and is logged
            elapsed = time.monotonic() - started
            assert elapsed < 10, f"the request waited {elapsed:.1f}s for the broker"
            notification.refresh_from_db()
            assert notification.status == Notification.Status.PENDING
            assert services.notifications_sweep(older_than=timedelta(0)) == 0  # still down: nothing, no error

            broker.start()  # the broker comes back; the worker reconnects
            assert services.notifications_sweep(older_than=timedelta(0)) == 1
            sent = wait_for(lambda: Notification.objects.filter(pk=notification.pk, status="sent").exists(), 60)
            assert sent, worker.output()
    finally:
        broker.cleanup()
    assert fake_fcm.accepted_tokens() == [phone.token]
    assert Delivery.objects.get(notification=notification).status == "sent"


def test_a_worker_killed_mid_send_loses_nothing_and_the_device_gets_one_delivery(
    make_worker, fake_fcm, dammam, inspector
):
    phone = DeviceFactory(user=inspector)
    fake_fcm.delay[phone.token] = 8.0  # FCM holds its answer: the worker is inside send_each
    with producing_to(settings.CELERY_BROKER_URL):
        with app.connection_for_write() as conn:
            app.control.purge(connection=conn)
        first = make_worker(settings.CELERY_BROKER_URL)
        notification = _assign(dammam, inspector)
        assert fake_fcm.request_seen.wait(30), first.output()
        first.kill()  # SIGKILL the worker and its pool child mid-send

        notification.refresh_from_db()
        assert notification.status == Notification.Status.PENDING  # not lost, not marked sent
        assert notification.claimed_until is not None
        delivery = Delivery.objects.get(notification=notification)
        assert delivery.status == "pending" and delivery.attempts == 1

        # The dead worker's lease (NOTIFICATIONS_CLAIM_SECONDS, 120 s) runs out; until then a sweep skips it.
        assert services.notifications_sweep(older_than=timedelta(0)) == 0
        Notification.objects.filter(pk=notification.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))

        second = make_worker(settings.CELERY_BROKER_URL)
        assert services.notifications_sweep(older_than=timedelta(0)) == 1
        sent = wait_for(lambda: Notification.objects.filter(pk=notification.pk, status="sent").exists(), 60)
        assert sent, second.output()

    delivery.refresh_from_db()
    assert Delivery.objects.filter(notification=notification).count() == 1
    assert delivery.status == "sent" and delivery.attempts == 2
    # FCM may have accepted the in-flight request before the worker died (the documented at-least-once
    # window): every copy carries the same collapse key and notification id, so the phone shows one.
    copies = [m for m in fake_fcm.received if (m.get("token") or m.get("fid")) == phone.token]
    assert 1 <= len(copies) <= 2
    assert {m["android"]["collapse_key"] for m in copies} == {f"jawla-{notification.pk}"}
    assert {m["data"]["notification_id"] for m in copies} == {str(notification.pk)}
