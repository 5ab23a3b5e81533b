"""Dispatch rules without a worker: claims, the sweeper, a broker that cannot be reached, devices that
changed hands, giving up. (The same code runs in the real worker tests.)"""

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from inspections.alerts.policy import notify_round_assigned
from notifications import services
from notifications.models import Delivery, Device, Notification
from notifications.push import PushResult
from notifications.tasks import backoff_seconds, send_notification
from tests.factories import DeviceFactory, RoundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_log(monkeypatch):
    """A recording push backend: every token it was asked to send to."""
    tokens = []

    def backend(batch):
        tokens.extend(message.token for message in batch)
        return [PushResult(outcome="sent", message_id=f"m-{len(tokens)}") for _ in batch]

    monkeypatch.setattr(services, "get_backend", lambda: backend)
    return tokens


@pytest.fixture
def pending(dammam, inspector):
    """A committed notification whose on-commit dispatch never ran (as after a failed publish)."""
    notify_round_assigned(round=RoundFactory(municipality=dammam, inspector=inspector))
    notification = Notification.objects.get()
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    return notification


def test_broker_down_at_commit_never_fails_the_caller(
    monkeypatch, dammam, inspector, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_notification, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_round_assigned(round=RoundFactory(municipality=dammam, inspector=inspector))
    notification = Notification.objects.get()
    assert notification.status == Notification.Status.PENDING
    assert "the sweeper will queue it" in caplog.text
    # The sweeper does not give up the row while the broker is still down...
    assert services.notifications_sweep(older_than=timedelta(0)) == 0
    monkeypatch.undo()
    # ...and delivers it once the broker is back.
    assert services.notifications_sweep(older_than=timedelta(0)) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.NO_DEVICE


def test_sweeper_requeues_only_stuck_rows(pending, inspector, sent_log):
    DeviceFactory(user=inspector, token="phone")
    fresh = Notification.objects.create(recipient=inspector, kind="round_assigned", title="t", body="b", dedupe_key="x")
    assert services.notifications_sweep() == 1  # `fresh` is younger than the sweep delay
    pending.refresh_from_db()
    fresh.refresh_from_db()
    assert pending.status == Notification.Status.SENT and sent_log == ["phone"]
    assert fresh.status == Notification.Status.PENDING
    assert services.notifications_sweep() == 0  # nothing left to do: no second send
    assert sent_log == ["phone"]


def test_a_live_claim_is_left_alone_by_the_sweeper_and_by_a_duplicate_task(pending, inspector, sent_log):
    DeviceFactory(user=inspector)
    Notification.objects.filter(pk=pending.pk).update(claimed_until=timezone.now() + timedelta(seconds=60))
    assert services.notifications_sweep(older_than=timedelta(0)) == 0
    assert services.notification_send(notification_id=pending.pk).status == "skipped"
    assert sent_log == []
    # The lease runs out (the worker died): the row is taken over and sent once.
    Notification.objects.filter(pk=pending.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert services.notifications_sweep(older_than=timedelta(0)) == 1
    assert len(sent_log) == 1


def test_a_redelivered_task_after_success_sends_nothing(pending, inspector, sent_log):
    DeviceFactory(user=inspector)
    assert services.notification_send(notification_id=pending.pk).status == "sent"
    assert services.notification_send(notification_id=pending.pk).status == "skipped"
    assert send_notification.delay(pending.pk).get() == "skipped"
    assert len(sent_log) == 1


def test_a_pending_delivery_of_a_device_that_changed_hands_is_not_sent_to_the_new_owner(
    pending, inspector, supervisor, sent_log
):
    phone = DeviceFactory(user=inspector, token="handed-over")
    Delivery.objects.create(notification=pending, device=phone)  # an earlier attempt got this far
    services.device_register(user=supervisor, token="handed-over", platform="android")
    report = services.notification_send(notification_id=pending.pk)
    assert sent_log == []
    assert report.status == Notification.Status.NO_DEVICE


def test_devices_that_are_inactive_get_nothing(pending, inspector, sent_log):
    DeviceFactory(user=inspector, token="old", is_active=False)
    DeviceFactory(user=inspector, token="new")
    services.notification_send(notification_id=pending.pk)
    assert sent_log == ["new"]
    assert not Delivery.objects.filter(device__token="old").exists()


def test_gives_up_after_too_many_attempts(pending, inspector, sent_log):
    DeviceFactory(user=inspector)
    Notification.objects.filter(pk=pending.pk).update(attempts=services.MAX_ATTEMPTS)
    assert services.notification_send(notification_id=pending.pk).status == Notification.Status.FAILED
    pending.refresh_from_db()
    assert "gave up" in pending.last_error and sent_log == []
    assert services.notifications_sweep(older_than=timedelta(0)) == 0


def test_transient_errors_keep_the_delivery_pending_and_leave_the_row_to_its_retry(pending, inspector, monkeypatch):
    DeviceFactory(user=inspector)
    monkeypatch.setattr(
        services, "get_backend", lambda: lambda batch: [PushResult(outcome="retry", error="UNAVAILABLE") for _ in batch]
    )
    with pytest.raises(services.RetryLater):
        services.notification_send(notification_id=pending.pk)
    pending.refresh_from_db()
    assert pending.status == Notification.Status.PENDING and pending.claimed_until is None
    assert Delivery.objects.get().status == "pending"
    services.notification_retry_scheduled(notification_id=pending.pk, at=timezone.now() + timedelta(minutes=5))
    assert services.notifications_sweep(older_than=timedelta(0)) == 0  # its retry is due later


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    first = [backoff_seconds(0) for _ in range(50)]
    assert all(2.5 <= value <= 5 for value in first) and len(set(first)) > 1
    assert all(20 <= backoff_seconds(3) <= 40 for _ in range(50))
    assert all(300 <= backoff_seconds(20) <= 600 for _ in range(50))


def test_unregister_then_register_again(api, inspector):
    DeviceFactory(user=inspector, token="t1")
    services.device_unregister(device=Device.objects.get(token="t1"))
    device, created = services.device_register(user=inspector, token="t1", platform="web")
    assert created and device.platform == "web"


def test_many_notifications_written_together_are_queued_in_one_message_and_each_is_sent(
    monkeypatch, dammam, inspector, supervisor, sent_log, django_capture_on_commit_callbacks
):
    """notifications_create of several drafts: one publish on commit (notifications.send_each), then
    one send per row; a draft whose dedupe key exists, repeated or of an inactive recipient is skipped."""
    from notifications.tasks import send_each

    DeviceFactory(user=inspector, token="inspector-phone")
    DeviceFactory(user=supervisor, token="supervisor-phone")
    Notification.objects.create(recipient=inspector, kind="k", title="t", body="b", dedupe_key="already")
    gone = type(inspector).objects.create_user("gone", is_active=False)

    def draft(recipient, key):
        return services.NotificationDraft(
            recipient=recipient, kind="k", dedupe_key=key, title=key, body="b", language="en", payload={"n": 1}
        )

    published = []
    with monkeypatch.context() as patch:
        patch.setattr(send_each, "apply_async", lambda args, **kwargs: published.append(args[0]))
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            written = services.notifications_create(
                [
                    draft(inspector, "one"),
                    draft(supervisor, "two"),
                    draft(inspector, "already"),
                    draft(supervisor, "two"),
                    draft(gone, "three"),
                    draft(None, "four"),
                ]
            )
    assert [row.title for row in written] == ["one", "two"]
    assert len(callbacks) == 1 and published == [[row.pk for row in written]]
    assert Notification.objects.filter(dedupe_key__in=["three", "four"]).count() == 0

    assert send_each(published[0]) == 2  # the worker's side: one send task per row (eager here)
    assert sorted(sent_log) == ["inspector-phone", "supervisor-phone"]
    assert set(Notification.objects.filter(pk__in=published[0]).values_list("status", flat=True)) == {"sent"}
