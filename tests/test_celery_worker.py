"""A real Celery worker process against the real broker (Redis in CI) delivers an assignment
notification end to end: committed outbox row → queued on commit → worker → firebase-admin → the
fake FCM; the row ends `sent` with its delivery recorded."""

import pytest
from django.conf import settings
from django.db import connection, transaction

from backend.celery import app
from notifications.models import Delivery, Notification
from notifications.services import notify_round_assigned
from tests.factories import DeviceFactory, RoundFactory, RoundStopFactory
from tests.fake_fcm import FakeFCMServer, Worker, free_port, postgres_url, wait_for, worker_env, write_service_account

needs_services = pytest.mark.skipif(
    not (settings.IS_POSTGRES and settings.CELERY_BROKER_URL.startswith("redis://")),
    reason="needs PostgreSQL and Redis (the CI pass); the embedded default runs its worker in docs' make run",
)
pytestmark = [pytest.mark.services, needs_services, pytest.mark.django_db(transaction=True)]


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
