"""Notifications, a generic component: a notification for a recipient, the outbox, dispatch, the
sweeper, devices and the inbox. It knows nothing of the apps that use it.

`notification_create` (called by other apps inside their own transactions, with the kind, dedupe
key, texts already rendered in the recipient's language and a payload) writes one `Notification`
row (its `dedupe_key` is unique, so an event that runs twice notifies once) and queues
`notifications.send` on commit; `notifications_create` writes many the same way in three statements
(the visit sync's critical findings: one alert per finding and supervisor). A broker that cannot
be reached never fails the caller: the error is logged and the sweeper queues the row later.

Dispatch (`notification_send`, run by the task) claims the row with a lease, creates one
`Delivery` per active device (unique per notification and device) and sends the pending ones
through the push backend (console or FCM). See docs/notifications.md for the guarantee.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import Delivery, Device, Notification
from notifications.push import PushMessage, get_backend

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # FCM's send_each limit
CLAIM_SECONDS = getattr(settings, "NOTIFICATIONS_CLAIM_SECONDS", 120)  # > the send task's hard time limit
SWEEP_AFTER_SECONDS = getattr(settings, "NOTIFICATIONS_SWEEP_AFTER_SECONDS", 60)
MAX_ATTEMPTS = getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 12)
MAX_DEVICES_PER_USER = getattr(settings, "NOTIFICATIONS_MAX_DEVICES_PER_USER", 10)


class RetryLater(Exception):  # noqa: N818 - a signal to the task, not an error of the caller
    """Some deliveries hit a transient FCM error (quota, unavailable, internal): try again later."""


# --- writing the outbox ------------------------------------------------------------------------


def _strings(payload: dict) -> dict[str, str]:
    """FCM data values must be strings; so are ours, in the inbox too (one shape for the app)."""
    return {str(key): "" if value is None else str(value) for key, value in payload.items()}


@dataclass(frozen=True)
class NotificationDraft:
    """One notification to write: texts already rendered in the recipient's `language`."""

    recipient: Any
    kind: str
    dedupe_key: str
    title: str
    body: str
    language: str
    payload: dict


def notifications_create(drafts: Sequence[NotificationDraft]) -> list[Notification]:
    """Write the outbox rows of `drafts` in the caller's transaction and queue each new one on commit.

    Three statements whatever their number: the dedupe keys already written, one INSERT that skips a
    key written meanwhile by a concurrent transaction (no IntegrityError can break the caller's
    transaction), the new rows' ids. A draft is skipped when its dedupe key exists (in the table or
    earlier in `drafts`) or its recipient is missing or inactive. Returns the rows written, in the
    drafts' order (a row a concurrent transaction wrote with the same key meanwhile is returned and
    queued too: dispatch claims a row once, so it is still sent once)."""
    wanted: dict[str, NotificationDraft] = {}
    for draft in drafts:
        if draft.recipient is not None and draft.recipient.is_active:
            wanted.setdefault(draft.dedupe_key[:200], draft)
    if not wanted:
        return []
    existing = set(Notification.objects.filter(dedupe_key__in=list(wanted)).values_list("dedupe_key", flat=True))
    rows = [
        Notification(
            recipient=draft.recipient,
            kind=draft.kind,
            dedupe_key=key,
            title=draft.title[:200],
            body=draft.body,
            payload=_strings({"kind": draft.kind, **draft.payload}),
            language=draft.language,
        )
        for key, draft in wanted.items()
        if key not in existing
    ]
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = dict(
        Notification.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows]).values_list("dedupe_key", "id")
    )
    written = []
    for row in rows:
        if row.dedupe_key in ids:
            row.pk = ids[row.dedupe_key]
            row._state.adding = False
            written.append(row)
    if len(written) == 1:
        notification_queue_on_commit(notification_id=written[0].pk)
    elif written:
        from notifications.tasks import send_each

        send_each.delay_on_commit([row.pk for row in written])  # one publish; the worker queues each
    return written


def notification_create(
    *,
    recipient,
    kind: str,
    dedupe_key: str,
    title: str,
    body: str,
    language: str,
    payload: dict,
) -> Notification | None:
    """Write one outbox row for `recipient` and queue it on commit (`notifications_create` of one draft).

    The caller renders `title` and `body` in the recipient's `language` (the row keeps exactly what
    the phone is sent). Runs in the caller's transaction. Returns None when the row already existed
    (same dedupe key) or the recipient is missing or inactive.
    """
    written = notifications_create(
        [
            NotificationDraft(
                recipient=recipient,
                kind=kind,
                dedupe_key=dedupe_key,
                title=title,
                body=body,
                language=language,
                payload=payload,
            )
        ]
    )
    return written[0] if written else None


def notification_revise(*, dedupe_key: str, revise) -> Notification | None:
    """Update the texts or payload of an existing notification in the inbox, without sending it again.

    `revise(notification)` returns (title, body, payload) from the locked row. Returns the row, or None
    when no notification has this dedupe key (then the caller creates one)."""
    notification = Notification.objects.select_for_update().filter(dedupe_key=dedupe_key[:200]).first()
    if notification is None:
        return None
    title, body, payload = revise(notification)
    notification.title, notification.body, notification.payload = title[:200], body, _strings(payload)
    notification.save(update_fields=["title", "body", "payload"])  # not re-queued: delivered once
    return notification


def notification_queue_on_commit(*, notification_id: int) -> None:
    """Queue dispatch after the surrounding transaction commits (never if it rolls back)."""
    from notifications.tasks import send_notification

    send_notification.delay_on_commit(notification_id)


# --- dispatch -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendReport:
    status: str  # the notification's status afterwards, or "skipped" when another worker holds it
    sent: int = 0
    deactivated: int = 0
    failed: int = 0


def _claim(*, notification_id: int) -> Notification | None:
    """Take the row for this worker for CLAIM_SECONDS: one conditional UPDATE, so two workers given
    the same id (a redelivery, the sweeper) never send concurrently."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return Notification.objects.select_related("recipient").get(pk=notification_id)


def _finish(notification: Notification, *, status: str, error: str = "") -> None:
    fields = {"status": status, "claimed_until": None, "last_error": error[:2000]}
    if status == Notification.Status.SENT:
        fields["sent_at"] = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(**fields)


def _push_message(notification: Notification, device: Device) -> PushMessage:
    data = {**notification.payload, "notification_id": str(notification.pk), "kind": notification.kind}
    return PushMessage(
        token=device.token,
        platform=device.platform,
        title=notification.title,
        body=notification.body,
        data=_strings(data),
        # FCM keeps only the newest message of a collapse key on the device, and the app drops
        # a notification_id it has already shown: a re-send after a crash is not shown twice.
        collapse_key=f"jawla-{notification.pk}",
    )


def notification_send(*, notification_id: int) -> SendReport:
    """Send one notification to each of its recipient's active devices, at most once per device.

    Raises RetryLater when some devices hit a transient error; their deliveries stay pending.
    """
    notification = _claim(notification_id=notification_id)
    if notification is None:
        return SendReport(status="skipped")
    if notification.attempts > MAX_ATTEMPTS:
        Delivery.objects.filter(notification=notification, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.FAILED, error="gave up after too many attempts"
        )
        _finish(notification, status=Notification.Status.FAILED, error=f"gave up after {MAX_ATTEMPTS} attempts")
        return SendReport(status=Notification.Status.FAILED)

    devices = Device.objects.filter(user_id=notification.recipient_id, is_active=True)
    Delivery.objects.bulk_create(
        [Delivery(notification=notification, device=device) for device in devices], ignore_conflicts=True
    )
    # Only devices still owned by the recipient: a token re-registered by someone else is not theirs.
    pending = list(
        Delivery.objects.filter(
            notification=notification,
            status=Delivery.Status.PENDING,
            device__is_active=True,
            device__user_id=notification.recipient_id,
        )
        .select_related("device")
        .order_by("pk")
    )
    backend = get_backend()
    sent = deactivated = failed = 0
    retry_errors: list[str] = []
    errors: list[str] = []
    for start in range(0, len(pending), BATCH_SIZE):
        batch = pending[start : start + BATCH_SIZE]
        Delivery.objects.filter(pk__in=[d.pk for d in batch]).update(attempts=F("attempts") + 1)
        results = backend([_push_message(notification, delivery.device) for delivery in batch])
        with transaction.atomic():
            for delivery, result in zip(batch, results, strict=True):
                if result.outcome == "sent":
                    sent += 1
                    Delivery.objects.filter(pk=delivery.pk).update(
                        status=Delivery.Status.SENT, message_id=result.message_id[:200], error=""
                    )
                elif result.outcome == "invalid_token":
                    deactivated += 1
                    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, error=result.error)
                    Device.objects.filter(pk=delivery.device_id).update(
                        is_active=False, deactivated_reason=result.error[:200]
                    )
                elif result.outcome == "retry":
                    retry_errors.append(result.error)
                    Delivery.objects.filter(pk=delivery.pk).update(error=result.error)
                else:
                    failed += 1
                    errors.append(result.error)
                    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, error=result.error)

    if retry_errors:
        Notification.objects.filter(pk=notification.pk).update(claimed_until=None, last_error=retry_errors[0][:2000])
        raise RetryLater(retry_errors[0])
    already_sent = Delivery.objects.filter(notification=notification, status=Delivery.Status.SENT).exists()
    if sent or already_sent:
        status = Notification.Status.SENT
    elif failed:
        status = Notification.Status.FAILED
    else:  # no device at all, or every device's token turned out dead
        status = Notification.Status.NO_DEVICE
    _finish(notification, status=status, error=errors[0] if errors and status != Notification.Status.SENT else "")
    return SendReport(status=status, sent=sent, deactivated=deactivated, failed=failed)


def notification_retry_scheduled(*, notification_id: int, at) -> None:
    """Record when the next attempt is due, so the sweeper leaves the row to its retry until then."""
    Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING).update(queued_at=at)


def notifications_sweep(*, older_than: timedelta | None = None, limit: int = 1000) -> int:
    """Re-queue rows still pending after a delay: their on-commit queueing failed (broker down), or
    the worker that held them died (its claim has expired). Returns how many were queued."""
    from notifications.tasks import send_notification

    now = timezone.now()
    cutoff = now - (older_than if older_than is not None else timedelta(seconds=SWEEP_AFTER_SECONDS))
    ids = list(
        Notification.objects.filter(status=Notification.Status.PENDING, created_at__lte=cutoff)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=cutoff))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for notification_id in ids:
        if not send_notification.delay_or_log(notification_id):
            break  # the broker is still down: the next sweep tries again
        Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING).update(queued_at=now)
        queued += 1
    if ids:
        logger.info("notification sweeper re-queued %s of %s pending notifications", queued, len(ids))
    return queued


# --- devices and the inbox ------------------------------------------------------------------------


@transaction.atomic
def device_register(*, user, token: str, platform: str) -> tuple[Device, bool]:
    """Register (or re-register) a push token for `user`. A token registered by another user moves
    to this user (the phone changed hands or accounts); a deactivated token is reactivated."""
    device = Device.objects.select_for_update().filter(token=token).first()
    created = device is None
    if created:
        device = Device.objects.create(user=user, token=token, platform=platform)
    else:
        device.user = user
        device.platform = platform
        device.is_active = True
        device.deactivated_reason = ""
        device.save(update_fields=["user", "platform", "is_active", "deactivated_reason", "last_seen_at"])
    # A user's phones are few; tokens piling up (reinstalls) would each be sent every alert.
    stale = (
        Device.objects.filter(user=user, is_active=True)
        .order_by("-last_seen_at", "-id")
        .values_list("pk", flat=True)[MAX_DEVICES_PER_USER:]
    )
    Device.objects.filter(pk__in=list(stale)).update(is_active=False, deactivated_reason="replaced by newer devices")
    return device, created


@transaction.atomic
def device_unregister(*, device: Device) -> None:
    """Forget a device (the user logged out on that phone). Its deliveries' history goes with it."""
    device.delete()


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
