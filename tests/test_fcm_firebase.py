"""The real firebase-admin code path (OAuth JWT exchange, FCM v1 messages:send through send_each)
against the local fake on 127.0.0.1: shapes, success, dead tokens, transient errors and retries."""

import pytest

from backend.celery import app
from inspections.alerts import policy as alerts
from notifications import fcm, services
from notifications.models import Delivery, Device, Notification
from notifications.push import PushMessage, PushResult
from tests.factories import DeviceFactory, RoundFactory, RoundStopFactory
from tests.fake_fcm import PROJECT_ID, FakeFCMServer, free_port, point_firebase_at, write_service_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_fcm(settings, tmp_path):
    with FakeFCMServer(free_port(8401)) as fake:
        point_firebase_at(fake.fcm_url_template)
        settings.PUSH_BACKEND = "notifications.fcm.send_batch"
        settings.FCM_CREDENTIALS_FILE = str(write_service_account(tmp_path / "service-account.json", fake=fake))
        fcm.reset()
        yield fake
        fcm.reset()


@pytest.fixture
def inline_retries():
    """Inline tasks retry inline only when errors do not propagate (a worker retries after the backoff)."""
    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


@pytest.fixture
def round_(dammam, inspector):
    round_ = RoundFactory(municipality=dammam, inspector=inspector)
    RoundStopFactory(round=round_)
    return round_


def _assign(round_, capture) -> Notification:
    with capture(execute=True):
        alerts.notify_round_assigned(round=round_)
    return Notification.objects.get(kind="round_assigned")


def test_good_tokens_are_sent_through_oauth_and_messages_send(
    fake_fcm, round_, inspector, django_capture_on_commit_callbacks
):
    phones = [DeviceFactory(user=inspector, platform="android"), DeviceFactory(user=inspector, platform="ios")]
    notification = _assign(round_, django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.SENT and notification.sent_at is not None
    assert fake_fcm.shape_errors == []
    assert fake_fcm.token_requests >= 1  # the JWT exchange happened (signature checked by the fake)
    assert sorted(fake_fcm.accepted_tokens()) == sorted(d.token for d in phones)
    message = fake_fcm.accepted[0]
    assert message["notification"] == {"title": notification.title, "body": notification.body}
    assert message["data"]["notification_id"] == str(notification.pk)
    assert message["data"]["round_id"] == str(round_.pk) and message["data"]["kind"] == "round_assigned"
    assert message["android"]["collapse_key"] == f"jawla-{notification.pk}"
    assert message["apns"]["headers"]["apns-collapse-id"] == f"jawla-{notification.pk}"
    deliveries = Delivery.objects.filter(notification=notification)
    assert {d.status for d in deliveries} == {"sent"}
    assert all(d.message_id.startswith(f"projects/{PROJECT_ID}/messages/") for d in deliveries)


def test_unregistered_token_deactivates_the_device(fake_fcm, round_, inspector, django_capture_on_commit_callbacks):
    good = DeviceFactory(user=inspector)
    dead = DeviceFactory(user=inspector)
    fake_fcm.dead.add(dead.token)
    notification = _assign(round_, django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.SENT
    dead.refresh_from_db()
    good.refresh_from_db()
    assert (
        dead.is_active is False
        and "UnregisteredError" in dead.deactivated_reason
        or "NOT_FOUND" in (dead.deactivated_reason)
    )
    assert good.is_active is True
    assert Delivery.objects.get(device=dead).status == "failed"
    assert fake_fcm.accepted_tokens() == [good.token]
    # The next notification does not try the dead device again.
    alerts.notify_round_cancelled(round=round_)
    assert fake_fcm.received_tokens().count(dead.token) == 1


def test_only_dead_devices_means_no_device(fake_fcm, round_, inspector, django_capture_on_commit_callbacks):
    dead = DeviceFactory(user=inspector)
    fake_fcm.dead.add(dead.token)
    notification = _assign(round_, django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.NO_DEVICE
    assert not Device.objects.get().is_active


def test_invalid_argument_on_the_token_deactivates_but_a_bad_payload_does_not(
    fake_fcm, round_, inspector, django_capture_on_commit_callbacks
):
    bad_token = DeviceFactory(user=inspector)
    rejected = DeviceFactory(user=inspector)
    fake_fcm.script[bad_token.token] = ["invalid_token"]
    fake_fcm.script[rejected.token] = ["invalid_payload"]
    notification = _assign(round_, django_capture_on_commit_callbacks)
    bad_token.refresh_from_db()
    rejected.refresh_from_db()
    assert bad_token.is_active is False
    assert rejected.is_active is True  # other errors are recorded, the device kept
    assert Delivery.objects.get(device=rejected).status == "failed"
    assert Delivery.objects.get(device=rejected).error.startswith("InvalidArgumentError")
    assert notification.status == Notification.Status.FAILED
    assert notification.last_error


def test_unavailable_once_is_retried_and_delivered(fake_fcm, round_, inspector, django_capture_on_commit_callbacks):
    phone = DeviceFactory(user=inspector)
    fake_fcm.script[phone.token] = ["unavailable"]
    notification = _assign(round_, django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.SENT
    assert fake_fcm.received_tokens() == [phone.token, phone.token]  # the 503, then the retry
    assert fake_fcm.accepted_tokens() == [phone.token]
    assert Delivery.objects.get().status == "sent"


def test_quota_exceeded_is_retried_by_the_task_and_delivered_once(
    fake_fcm, round_, inspector, django_capture_on_commit_callbacks, inline_retries
):
    phone = DeviceFactory(user=inspector)
    other = DeviceFactory(user=inspector)
    fake_fcm.script[phone.token] = ["quota"]
    notification = _assign(round_, django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 2  # the task ran again (Celery retry, inline under pytest)
    assert fake_fcm.received_tokens().count(phone.token) == 2
    # The device that succeeded the first time is not sent the notification again.
    assert fake_fcm.received_tokens().count(other.token) == 1
    assert sorted(fake_fcm.accepted_tokens()) == sorted([phone.token, other.token])
    assert Delivery.objects.get(device=phone).attempts == 2
    assert Delivery.objects.get(device=other).attempts == 1


def test_fcm_module_classifies_each_answer(fake_fcm):
    fake_fcm.dead.add("dead")
    fake_fcm.script.update({"busy": ["internal", "internal", "internal", "internal", "internal"], "q": ["quota"]})
    batch = [
        PushMessage(token=t, title="t", body="b", data={"kind": "x", "notification_id": "1"}, collapse_key="c")
        for t in ("ok", "dead", "q")
    ]
    results = fcm.send_batch(batch)
    assert [r.outcome for r in results] == ["sent", "invalid_token", "retry"]
    with pytest.raises(ValueError):
        fcm.send_batch(batch * 167)  # 501 messages


def test_batches_of_at_most_500(monkeypatch, round_, inspector, django_capture_on_commit_callbacks):
    Device.objects.bulk_create([Device(user=inspector, token=f"bulk-{n}", platform="android") for n in range(1001)])
    sizes = []

    def recording_backend(batch):
        sizes.append(len(batch))
        return [PushResult(outcome="sent", message_id="m") for _ in batch]

    monkeypatch.setattr(services, "get_backend", lambda: recording_backend)
    notification = _assign(round_, django_capture_on_commit_callbacks)
    assert sizes == [500, 500, 1]
    assert notification.status == Notification.Status.SENT
    assert Delivery.objects.filter(status="sent").count() == 1001
