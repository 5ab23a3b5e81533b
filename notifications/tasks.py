"""Celery tasks of the notifications app: thin (take an id or a day, call a service) and idempotent,
so `acks_late` redeliveries and retries are safe."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from backend.celery import app
from notifications import services

logger = logging.getLogger(__name__)

# Publishing while the broker is down must not hold a request for long: one quick retry, then the
# error is logged and the sweeper queues the row once the broker is back.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 600


class OutboxTask(app.Task):
    """A task queued from the outbox: `delay_on_commit` never fails the committing caller."""

    def delay_or_log(self, notification_id: int | list[int]) -> bool:
        try:
            self.apply_async(args=[notification_id], retry_policy=PUBLISH_RETRY_POLICY)
        except (OperationalError, ConnectionError, OSError) as error:
            logger.warning(
                "could not queue notification %s (%s: %s); the sweeper will queue it",
                notification_id,
                type(error).__name__,
                error,
            )
            return False
        return True

    def delay_on_commit(self, notification_id: int | list[int]) -> None:  # type: ignore[override]
        transaction.on_commit(partial(self.delay_or_log, notification_id))


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with full jitter: 5 s, 10 s, 20 s, ... capped at 10 minutes."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**retries)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


@app.task(
    bind=True,
    base=OutboxTask,
    name="notifications.send",
    acks_late=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,  # below NOTIFICATIONS_CLAIM_SECONDS, so a claim never outlives its worker
)
def send_notification(self, notification_id: int) -> str:
    try:
        return services.notification_send(notification_id=notification_id).status
    except services.RetryLater as error:
        countdown = backoff_seconds(self.request.retries)
        services.notification_retry_scheduled(
            notification_id=notification_id, at=timezone.now() + timedelta(seconds=countdown)
        )
        raise self.retry(exc=error, countdown=countdown) from error


@app.task(base=OutboxTask, name="notifications.send_each", acks_late=True, soft_time_limit=60, time_limit=90)
def send_each(notification_ids: list[int]) -> int:
    """Queue one `notifications.send` per id. A transaction that wrote many notifications (a visit
    batch's critical alerts: one per finding and supervisor) publishes this one message on commit
    instead of one per row, so the request does not wait for the broker that many times. A publish
    that fails here is left to the sweeper, as one that fails on commit is."""
    return sum(send_notification.delay_or_log(notification_id) for notification_id in notification_ids)


@app.task(name="notifications.sweep", acks_late=True, soft_time_limit=100, time_limit=120)
def sweep_outbox() -> int:
    return services.notifications_sweep()
