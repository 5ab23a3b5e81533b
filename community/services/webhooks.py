"""Signed webhooks for the municipality's other systems (penalty and licensing platforms).

- An event has a stable id derived from what happened (`msg_` + UUID5 of "type:subject"), so
  recording it twice is a no-op and a replay carries the same `webhook-id`.
- Recording an event writes one outbox row (WebhookDelivery) per active subscription to its type, in
  the caller's transaction, and queues the send on commit.
- A send claims its row (no two workers send it at once), POSTs the Standard Webhooks envelope
  `{"type", "timestamp", "data"}` signed with `webhook-id`, `webhook-timestamp`, `webhook-signature`
  (`v1,` + base64 HMAC-SHA256 of "id.timestamp.body" under the subscription's whsec_ secret), logs the
  attempt, and on failure schedules the next one with exponential backoff until WEBHOOK_MAX_ATTEMPTS.
  The sweeper re-queues whatever is due and unclaimed (a lost broker message, a dead worker).
- Events of `inspections` (visit stored, finding opened or closed) are collected by reading its
  tables (`webhooks_collect`): inspections never imports this app. Penalty and objection events are
  recorded by receivers of enforcement's signals (`enforcement.signals.penalty_issued` and
  `objection_decided`, connected in `community.receivers`), in the transaction that issued the notice
  or decided the objection: enforcement never imports this app either. Report events are recorded in
  the transaction that opens or closes the case.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError
from community.models import CollectorCursor, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "visit.stored",
    "finding.opened",
    "finding.closed",
    "penalty.issued",
    "objection.decided",
    "report.opened",
    "report.closed",
)
_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-4c55-9a1e-5d2f7b8c9e01")


def event_id_for(event_type: str, subject: str) -> str:
    return "msg_" + uuid.uuid5(_NAMESPACE, f"{event_type}:{subject}").hex


def secret_generate() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature header value for this message."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


# --- subscriptions -------------------------------------------------------------------------------


def _types_clean(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if not event_types or unknown:
        raise ApplicationError(
            _("Subscribe to one or more of: %(types)s.") % {"types": ", ".join(EVENT_TYPES)},
            code="unknown_event_type",
            extra={"errors": [{"loc": ["event_types"], "unknown": unknown}]},
        )
    return sorted(set(event_types))


@transaction.atomic
def subscription_create(*, actor, url: str, event_types: list[str], description: str = "") -> WebhookSubscription:
    if not url.startswith(("https://", "http://")):
        raise ApplicationError(_("The URL must be http(s)."), code="invalid_url")
    return WebhookSubscription.objects.create(
        url=url,
        event_types=_types_clean(event_types),
        description=description,
        secret=secret_generate(),
        created_by=actor,
    )


@transaction.atomic
def subscription_update(
    *, subscription: WebhookSubscription, event_types: list[str] | None = None, is_active: bool | None = None
) -> WebhookSubscription:
    if event_types is not None:
        subscription.event_types = _types_clean(event_types)
    if is_active is not None:
        subscription.is_active = is_active
    subscription.save()
    return subscription


# --- events and the outbox -----------------------------------------------------------------------


def _subscribers(event_type: str) -> list[WebhookSubscription]:
    # event_types is a short JSON list; filtering in Python keeps this portable (SQLite has no JSON contains).
    return [s for s in WebhookSubscription.objects.filter(is_active=True) if event_type in s.event_types]


def _queue_on_commit(delivery_ids: list[int]) -> None:
    from community.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.delay_on_commit(delivery_id)


def webhook_event_record(
    *, event_type: str, subject: str, occurred_at: datetime, payload: dict, subscribers=None
) -> WebhookEvent | None:
    """Record an event once (by its stable id) and its deliveries, in the caller's transaction.

    Returns None when nobody subscribes to the type (nothing is kept) or the event existed already.
    """
    assert event_type in EVENT_TYPES, event_type
    subscribers = _subscribers(event_type) if subscribers is None else subscribers
    if not subscribers:
        return None
    event_id = event_id_for(event_type, subject)
    body = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(id=event_id, type=event_type, occurred_at=occurred_at, payload=body)
    except IntegrityError:
        return None
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(event=event, subscription=s, next_attempt_at=now) for s in subscribers]
    )
    if not all(d.pk for d in deliveries):  # SQLite before 3.35 gives no ids back from bulk_create
        deliveries = list(WebhookDelivery.objects.filter(event=event))
    _queue_on_commit([d.pk for d in deliveries])
    return event


def penalty_event_payload(notice) -> dict:
    """What other systems get about a penalty notice: its number, legal basis, amount and dates.
    No personal data (the owner is the establishment; no reporter is involved)."""
    return {
        "notice_id": notice.pk,
        "number": notice.number,
        "finding_id": notice.finding_id,
        "visit_id": notice.visit_id,
        "establishment_id": notice.establishment_id,
        "municipality_id": notice.municipality_id,
        "violation_code": notice.violation.code,
        "legal_basis": notice.legal_basis,
        "reason": notice.reason,
        "original_amount_sar": notice.original_amount_sar,
        "amount_sar": notice.amount_sar,
        "repeat_step": notice.repeat_step,
        "closure_days": notice.closure_days,
        "licence_suspension_days": notice.licence_suspension_days,
        "offence_at": notice.offence_at,
        "issued_at": notice.issued_at,
        "due_date": notice.due_date,
        "objection_deadline": notice.objection_deadline,
        "status": notice.status,
    }


def objection_event_payload(objection) -> dict:
    """The decision and what the notice is owed now; not the owner's name or contact, not the reasons."""
    notice = objection.notice
    return {
        "objection_id": objection.pk,
        "notice_id": notice.pk,
        "number": notice.number,
        "establishment_id": notice.establishment_id,
        "municipality_id": notice.municipality_id,
        "decision": objection.decision,
        "original_amount_sar": notice.original_amount_sar,
        "amount_sar": notice.amount_sar,
        "notice_status": notice.status,
        "filed_at": objection.filed_at,
        "decided_at": objection.decided_at,
    }


def penalty_issued(*, notice) -> WebhookEvent | None:
    """The `penalty.issued` event, recorded in the transaction that issued the notice (the receiver
    of enforcement.signals.penalty_issued, connected in CommunityConfig.ready)."""
    return webhook_event_record(
        event_type="penalty.issued",
        subject=f"penalty:{notice.pk}",
        occurred_at=notice.issued_at,
        payload=penalty_event_payload(notice),
    )


def objection_decided(*, objection) -> WebhookEvent | None:
    """The `objection.decided` event, recorded in the transaction that decided the objection (the
    receiver of enforcement.signals.objection_decided)."""
    return webhook_event_record(
        event_type="objection.decided",
        subject=f"objection:{objection.pk}",
        occurred_at=objection.decided_at,
        payload=objection_event_payload(objection),
    )


# --- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    status: str  # delivered, retry, failed, skipped
    retry_in: float = 0.0


def backoff_seconds(attempts: int) -> float:
    """base × 2^(attempts-1), capped at an hour: 5 s, 10 s, 20 s, ... by default."""
    return min(settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), 3600.0)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now + timedelta(seconds=1),
    ).update(claimed_until=now + timedelta(seconds=settings.WEBHOOK_CLAIM_SECONDS))
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)


def webhook_body(event: WebhookEvent) -> bytes:
    envelope = {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.payload}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def webhook_send(*, delivery_id: int) -> SendResult:
    """Send one delivery if it is due and not claimed by another worker; log the attempt."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return SendResult("skipped")
    event, subscription = delivery.event, delivery.subscription
    body = webhook_body(event)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "Jawla-Webhooks/1",
        "webhook-id": event.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=subscription.secret, msg_id=event.id, timestamp=timestamp, body=body),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        request = urllib.request.Request(subscription.url, data=body, headers=headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status_code = response.status
    except urllib.error.HTTPError as failure:
        status_code = failure.code
    except (urllib.error.URLError, OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {failure}"[:300]
    duration_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    ok = status_code is not None and 200 <= status_code < 300
    if not ok and not error:
        error = f"HTTP {status_code}"
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, at=now, status_code=status_code, error=error if not ok else "", duration_ms=duration_ms
        )
        delivery.attempts += 1
        delivery.claimed_until = None
        if ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            result = SendResult("delivered")
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            result = SendResult("failed")
        else:
            wait = backoff_seconds(delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            result = SendResult("retry", retry_in=wait)
        delivery.save(update_fields=["attempts", "claimed_until", "status", "delivered_at", "next_attempt_at"])
    return result


def webhooks_sweep(*, limit: int = 500) -> int:
    """Queue every pending delivery that is due and not claimed (the broker lost it, a worker died)."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    from community.tasks import deliver_webhook

    for delivery_id in due:
        deliver_webhook.delay_or_log(delivery_id)
    return len(due)


@transaction.atomic
def webhooks_replay(
    *,
    event_ids: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subscription: WebhookSubscription | None = None,
) -> int:
    """Send events again (same `webhook-id`): one event, or every event that occurred in [since, until)."""
    events = WebhookEvent.objects.all()
    if event_ids:
        events = events.filter(id__in=event_ids)
    elif since is not None and until is not None:
        if until <= since:
            raise ApplicationError(_("`until` must be after `since`."), code="invalid_range")
        events = events.filter(occurred_at__gte=since, occurred_at__lt=until)
    else:
        raise ApplicationError(_("Name an event or a time range to replay."), code="nothing_to_replay")
    previous = WebhookDelivery.objects.filter(event__in=events)
    if subscription is not None:
        previous = previous.filter(subscription=subscription)
    latest = previous.values("event_id", "subscription_id").annotate(generation=Max("generation"))
    now = timezone.now()
    fresh = [
        WebhookDelivery(
            event_id=row["event_id"],
            subscription_id=row["subscription_id"],
            generation=row["generation"] + 1,
            next_attempt_at=now,
        )
        for row in latest
    ]
    WebhookDelivery.objects.bulk_create(fresh)
    ids = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, created_at__gte=now, event__in=events
        ).values_list("id", flat=True)
    )
    _queue_on_commit(ids)
    return len(fresh)


# --- collecting the inspections' events ------------------------------------------------------------

COLLECT_OVERLAP_IDS = 1000  # ids committed out of order (a slow transaction) are picked up on the next runs
COLLECT_BATCH = 5000


def _cursor(source: str, model) -> CollectorCursor:
    """The collector's position; a new cursor starts at the table's end (no flood of history)."""
    cursor = CollectorCursor.objects.select_for_update().filter(source=source).first()
    if cursor is None:
        start = model.objects.aggregate(last=Max("pk"))["last"] or 0
        cursor = CollectorCursor.objects.create(source=source, last_id=start)
    return cursor


def _without_id(row: dict, name: str) -> dict:
    return {name: row["id"], **{key: value for key, value in row.items() if key != "id"}}


def _record_missing(event_type: str, rows: list[tuple[str, datetime, dict]], subscribers) -> int:
    if not rows or not subscribers:
        return 0
    ids = {event_id_for(event_type, subject): (subject, at, payload) for subject, at, payload in rows}
    known = set(WebhookEvent.objects.filter(id__in=list(ids)).values_list("id", flat=True))
    recorded = 0
    for event_id, (subject, at, payload) in ids.items():
        if event_id not in known:
            recorded += bool(
                webhook_event_record(
                    event_type=event_type, subject=subject, occurred_at=at, payload=payload, subscribers=subscribers
                )
            )
    return recorded


@transaction.atomic
def webhooks_collect() -> int:
    """Record events for visits stored and findings opened/closed since the last run (idempotent)."""
    from inspections.models import Finding, Visit

    recorded = 0
    visits = _cursor("visit", Visit)
    rows = list(
        Visit.objects.filter(pk__gt=visits.last_id - COLLECT_OVERLAP_IDS, imported__isnull=True)  # not history
        .order_by("pk")
        .values(
            "id",
            "client_id",
            "establishment_id",
            "municipality_id",
            "round_stop_id",
            "outcome",
            "violation_count",
            "geo_status",
            "finished_at",
            "received_at",
        )[:COLLECT_BATCH]
    )
    recorded += _record_missing(
        "visit.stored",
        [(f"visit:{row['id']}", row["received_at"], _without_id(row, "visit_id")) for row in rows],
        _subscribers("visit.stored"),
    )
    if rows:
        visits.last_id = max(visits.last_id, rows[-1]["id"])
    visits.save()

    findings = _cursor("finding", Finding)
    previous_run = findings.updated_at
    columns = ("id", "visit_id", "establishment_id", "municipality_id", "item_code", "severity", "fine_sar", "due_date")
    opened = list(
        Finding.objects.filter(pk__gt=findings.last_id - COLLECT_OVERLAP_IDS, visit__imported__isnull=True)
        .order_by("pk")
        .values(*columns, "opened_at")[:COLLECT_BATCH]
    )
    recorded += _record_missing(
        "finding.opened",
        [(f"finding:{row['id']}", row["opened_at"], _without_id(row, "finding_id")) for row in opened],
        _subscribers("finding.opened"),
    )
    closed = Finding.objects.filter(
        status=Finding.Status.CLOSED, closed_at__gte=previous_run - timedelta(hours=1), visit__imported__isnull=True
    )
    closed_rows = list(closed.order_by("pk").values(*columns, "closed_at", "closed_by_visit_id")[:COLLECT_BATCH])
    recorded += _record_missing(
        "finding.closed",
        [(f"finding:{row['id']}", row["closed_at"], _without_id(row, "finding_id")) for row in closed_rows],
        _subscribers("finding.closed"),
    )
    if opened:
        findings.last_id = max(findings.last_id, opened[-1]["id"])
    findings.save()
    return recorded
