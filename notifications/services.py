"""Notifications: events write outbox rows in the caller's transaction; dispatch sends them.

Events (`notify_*`, called by other apps inside their own transactions, plus the scheduled
`notifications_*` jobs) render the title and body in the recipient's language, write one
`Notification` row per recipient (its `dedupe_key` is unique, so an event that runs twice
notifies once) and queue `notifications.send` on commit. A broker that cannot be reached
never fails the caller: the error is logged and the sweeper queues the row later.

Dispatch (`notification_send`, run by the task) claims the row with a lease, creates one
`Delivery` per active device (unique per notification and device) and sends the pending ones
through the push backend (console or FCM). See docs/notifications.md for the guarantee.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from notifications import messages
from notifications.models import Delivery, Device, Notification
from notifications.push import PushMessage, get_backend

logger = logging.getLogger(__name__)
User = get_user_model()
Kind = Notification.Kind

BATCH_SIZE = 500  # FCM's send_each limit
CLAIM_SECONDS = getattr(settings, "NOTIFICATIONS_CLAIM_SECONDS", 120)  # > the send task's hard time limit
SWEEP_AFTER_SECONDS = getattr(settings, "NOTIFICATIONS_SWEEP_AFTER_SECONDS", 60)
MAX_ATTEMPTS = getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 12)
MAX_DEVICES_PER_USER = getattr(settings, "NOTIFICATIONS_MAX_DEVICES_PER_USER", 10)


class RetryLater(Exception):  # noqa: N818 - a signal to the task, not an error of the caller
    """Some deliveries hit a transient FCM error (quota, unavailable, internal): try again later."""


# --- writing the outbox ------------------------------------------------------------------------


def _language_of(user) -> str:
    membership = getattr(user, "membership", None)
    return messages.language_or_default(getattr(membership, "language", None))


def _name(thing, language: str) -> str:
    if thing is None:
        return ""
    if language == "en":
        return getattr(thing, "name_en", "") or getattr(thing, "name_ar", "") or str(thing)
    return getattr(thing, "name_ar", "") or getattr(thing, "name_en", "") or str(thing)


def _strings(payload: dict) -> dict[str, str]:
    """FCM data values must be strings; so are ours, in the inbox too (one shape for the app)."""
    return {str(key): "" if value is None else str(value) for key, value in payload.items()}


def _stamp(*parts) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:16]


def notification_create(
    *,
    recipient,
    kind: str,
    dedupe_key: str,
    payload: dict,
    context: dict,
    message: str | None = None,
) -> Notification | None:
    """Write one outbox row for `recipient` (rendered in their language) and queue it on commit.

    Runs in the caller's transaction. Returns None when the row already existed (same dedupe key)
    or the recipient is missing or inactive.
    """
    if recipient is None or not recipient.is_active:
        return None
    language = _language_of(recipient)
    text = messages.render(message or kind, language, **context)
    data = _strings({"kind": kind, **payload})
    # A savepoint so that a concurrent duplicate (IntegrityError) never breaks the caller's transaction.
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            dedupe_key=dedupe_key[:200],
            defaults={
                "recipient": recipient,
                "kind": kind,
                "title": text.title[:200],
                "body": text.body,
                "payload": data,
                "language": language,
            },
        )
    if not created:
        return None
    notification_queue_on_commit(notification_id=notification.pk)
    return notification


def notification_queue_on_commit(*, notification_id: int) -> None:
    """Queue dispatch after the surrounding transaction commits (never if it rolls back)."""
    from notifications.tasks import send_notification

    send_notification.delay_on_commit(notification_id)


def _round_context(round, language: str) -> dict:
    return {
        "date": round.date.isoformat() if hasattr(round.date, "isoformat") else str(round.date),
        "municipality": _name(round.municipality, language),
        "stops": round.stops.exclude(status="cancelled").count(),
    }


def _round_payload(round) -> dict:
    return {"round_id": round.pk, "date": round.date, "link": f"jawla://rounds/{round.pk}"}


def _notify_round(
    *, round, recipient, kind: str, dedupe_key: str, message: str | None = None, extra=None
) -> Notification | None:
    if recipient is None:
        return None
    language = _language_of(recipient)
    context = _round_context(round, language)
    context.update((extra or {}).get("context", {}))
    if "changes" in (extra or {}):
        context["changes"] = messages.change_words(extra["changes"], language)
    payload = _round_payload(round)
    payload.update((extra or {}).get("payload", {}))
    return notification_create(
        recipient=recipient, kind=kind, dedupe_key=dedupe_key, payload=payload, context=context, message=message
    )


def notify_round_assigned(*, round) -> None:
    """Tell the round's inspector about a new round (once per round and inspector)."""
    _notify_round(
        round=round,
        recipient=round.inspector,
        kind=Kind.ROUND_ASSIGNED,
        dedupe_key=f"round_assigned:{round.pk}:{round.inspector_id}",
    )


def notify_round_changed(*, round, previous_inspector=None, changes: dict | None = None) -> None:
    """Tell the inspector (and a previous inspector on reassignment) that a round changed.

    On reassignment the new inspector hears "new round" and the previous one "given to another
    inspector". The dedupe key covers the changes and the round's `updated_at`, so calling this
    twice for the same change notifies once while a later change notifies again.
    """
    reassigned = previous_inspector is not None and previous_inspector.pk != round.inspector_id
    if not reassigned and set(changes or {}) == {"follow_up_added"}:
        _notify_follow_ups_added(round=round, added=list(changes["follow_up_added"]))
        return
    stamp = _stamp(changes, getattr(round, "updated_at", None))
    if reassigned:
        notify_round_assigned(round=round)
        _notify_round(
            round=round,
            recipient=previous_inspector,
            kind=Kind.ROUND_CHANGED,
            message="round_unassigned",
            dedupe_key=f"round_unassigned:{round.pk}:{previous_inspector.pk}:{stamp}",
            extra={"payload": {"change": "unassigned"}},
        )
        other_changes = {key: value for key, value in (changes or {}).items() if key != "inspector"}
        if not other_changes:
            return
    _notify_round(
        round=round,
        recipient=round.inspector,
        kind=Kind.ROUND_CHANGED,
        dedupe_key=f"round_changed:{round.pk}:{round.inspector_id}:{stamp}",
        extra={"changes": changes or {}, "payload": {"change": ",".join(sorted(map(str, changes or {})))}},
    )


@transaction.atomic
def _notify_follow_ups_added(*, round, added: list) -> None:
    """One notification per round and Riyadh day for follow-ups added (findings open them one visit at a
    time, so a busy round used to fill the inbox). The first is sent; later ones the same day update its
    text and count in the inbox without a second push, so the phone hears once."""
    dedupe_key = f"round_follow_ups:{round.pk}:{round.inspector_id}:{timezone.localdate().isoformat()}"
    existing = Notification.objects.select_for_update().filter(dedupe_key=dedupe_key).first()
    if existing is None:
        _notify_round(
            round=round,
            recipient=round.inspector,
            kind=Kind.ROUND_CHANGED,
            message="round_follow_ups_added",
            dedupe_key=dedupe_key,
            extra={
                "context": {"count": len(added)},
                "payload": {"change": "follow_up_added", "establishment_ids": ",".join(map(str, added))},
            },
        )
        return
    known = [pk for pk in existing.payload.get("establishment_ids", "").split(",") if pk]
    merged = known + [str(pk) for pk in added if str(pk) not in known]
    context = _round_context(round, existing.language) | {"count": len(merged)}
    text = messages.render("round_follow_ups_added", existing.language, **context)
    existing.title, existing.body = text.title[:200], text.body
    existing.payload = {**existing.payload, "establishment_ids": ",".join(merged)}
    existing.save(update_fields=["title", "body", "payload"])  # not re-queued: delivered once


def notify_round_cancelled(*, round) -> None:
    """Tell the inspector a round was cancelled."""
    _notify_round(
        round=round,
        recipient=round.inspector,
        kind=Kind.ROUND_CANCELLED,
        dedupe_key=f"round_cancelled:{round.pk}:{round.inspector_id}",
    )


def supervisors_of(*, municipality_id: int):
    """Active supervisors whose scope covers the municipality (directly or through its Amanah)."""
    from inspections.models import Membership, Municipality

    parent_id = Municipality.objects.filter(pk=municipality_id).values_list("parent_id", flat=True).first()
    amanah_ids = [i for i in (municipality_id, parent_id) if i]
    return (
        User.objects.filter(is_active=True, membership__role=Membership.Role.SUPERVISOR)
        .filter(Q(membership__municipalities=municipality_id) | Q(membership__amanah_id__in=amanah_ids))
        .select_related("membership")
        .distinct()
        .order_by("pk")
    )


def notify_critical_finding(*, finding) -> None:
    """Tell the supervisors of the finding's municipality at once (one row per supervisor)."""
    answer = getattr(finding, "answer", None)
    item = getattr(answer, "item", None)
    for supervisor in supervisors_of(municipality_id=finding.municipality_id):
        language = _language_of(supervisor)
        item_text = getattr(item, "text_en" if language == "en" else "text_ar", "") if item is not None else ""
        notification_create(
            recipient=supervisor,
            kind=Kind.CRITICAL_FINDING,
            dedupe_key=f"critical_finding:{finding.pk}:{supervisor.pk}",
            context={
                "establishment": _name(finding.establishment, language),
                "municipality": _name(finding.municipality, language),
                "item": item_text or finding.item_code,
            },
            payload={
                "finding_id": finding.pk,
                "visit_id": finding.visit_id,
                "establishment_id": finding.establishment_id,
                "severity": finding.severity,
                "link": f"jawla://findings/{finding.pk}",
            },
        )


# --- scheduled events (called by the beat tasks; each is idempotent through dedupe keys) --------


@transaction.atomic
def notifications_remind_rounds(*, day: date) -> int:
    """Morning reminder: each inspector with a round today hears how many stops wait."""
    from inspections.models import Round

    rounds = Round.objects.filter(date=day, status__in=[Round.Status.PLANNED, Round.Status.IN_PROGRESS])
    created = 0
    for round in rounds.select_related("inspector__membership", "municipality"):
        result = _notify_round(
            round=round,
            recipient=round.inspector,
            kind=Kind.ROUND_REMINDER,
            dedupe_key=f"round_reminder:{round.pk}:{round.inspector_id}:{day.isoformat()}",
        )
        created += result is not None
    return created


@transaction.atomic
def notifications_close_day(*, day: date) -> int:
    """End of day: close the day's rounds (stops still pending become missed) and tell the
    supervisors of each round that ended with stops not visited."""
    from inspections.models import Round, RoundStop

    try:
        from inspections.services.rounds import rounds_close_day
    except ImportError:  # the rounds service is another issue's; without it only report
        rounds_close_day = None
    if rounds_close_day is not None:
        rounds_close_day(day=day)
    open_statuses = [RoundStop.Status.PENDING, RoundStop.Status.MISSED]
    rounds = (
        Round.objects.filter(date=day)
        .exclude(status=Round.Status.CANCELLED)
        .annotate(
            open_stops=Count("stops", filter=Q(stops__status__in=open_statuses)),
            all_stops=Count("stops", filter=~Q(stops__status=RoundStop.Status.CANCELLED)),
        )
        .filter(open_stops__gt=0)
        .select_related("inspector", "municipality")
    )
    created = 0
    for round in rounds:
        for supervisor in supervisors_of(municipality_id=round.municipality_id):
            language = _language_of(supervisor)
            inspector = round.inspector.get_full_name() or round.inspector.get_username()
            result = notification_create(
                recipient=supervisor,
                kind=Kind.STOPS_OPEN,
                dedupe_key=f"stops_open:{round.pk}:{supervisor.pk}:{day.isoformat()}",
                context={
                    "inspector": inspector,
                    "date": day.isoformat(),
                    "municipality": _name(round.municipality, language),
                    "open": round.open_stops,
                    "stops": round.all_stops,
                },
                payload={**_round_payload(round), "open_stops": round.open_stops},
            )
            created += result is not None
    return created


@transaction.atomic
def notifications_follow_ups_due(*, day: date) -> int:
    """Each inspector with open findings due today hears how many follow-ups are due (one row a day)."""
    from inspections.models import Finding

    findings = (
        Finding.objects.filter(status=Finding.Status.OPEN, due_date=day)
        .select_related("visit", "follow_up_stop__round")
        .order_by("pk")
    )
    per_inspector: dict[int, list[int]] = {}
    for finding in findings:
        stop = finding.follow_up_stop
        inspector_id = stop.round.inspector_id if stop is not None else finding.visit.inspector_id
        per_inspector.setdefault(inspector_id, []).append(finding.pk)
    created = 0
    for inspector in User.objects.filter(pk__in=per_inspector).select_related("membership"):
        finding_ids = per_inspector[inspector.pk]
        result = notification_create(
            recipient=inspector,
            kind=Kind.FOLLOW_UP_DUE,
            dedupe_key=f"follow_up_due:{inspector.pk}:{day.isoformat()}",
            context={"count": len(finding_ids)},
            payload={
                "date": day,
                "finding_ids": ",".join(map(str, finding_ids)),
                "link": f"jawla://findings?due={day.isoformat()}",
            },
        )
        created += result is not None
    return created


@transaction.atomic
def notifications_weekly_summary(*, day: date) -> int:
    """Leadership hears the last 7 days (up to and including `day`) in their scope, once per ISO week."""
    from inspections.models import Finding, Membership, Visit
    from inspections.selectors.scope import visible_to

    start = timezone.make_aware(timezone.datetime.combine(day - timedelta(days=6), timezone.datetime.min.time()))
    end = start + timedelta(days=7)
    year, week, _weekday = day.isocalendar()
    leaders = User.objects.filter(is_active=True, membership__role=Membership.Role.LEADERSHIP).select_related(
        "membership"
    )
    created = 0
    for leader in leaders:
        visits = visible_to(Visit.objects.filter(finished_at__gte=start, finished_at__lt=end), user=leader)
        totals = visits.aggregate(visits=Count("*"), violations=Count("pk", filter=Q(has_violation=True)))
        findings = visible_to(Finding.objects.all(), user=leader)
        opened = findings.filter(opened_at__gte=start, opened_at__lt=end).count()
        open_critical = findings.filter(status=Finding.Status.OPEN, severity="critical").count()
        result = notification_create(
            recipient=leader,
            kind=Kind.WEEKLY_SUMMARY,
            dedupe_key=f"weekly_summary:{year}-W{week:02d}:{leader.pk}",
            context={**totals, "opened": opened, "open_critical": open_critical},
            payload={
                "week": f"{year}-W{week:02d}",
                "visits": totals["visits"],
                "violations": totals["violations"],
                "opened": opened,
                "open_critical": open_critical,
                "link": "jawla://analytics",
            },
        )
        created += result is not None
    return created


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
