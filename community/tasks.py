"""Celery tasks of the community app: thin and idempotent (ids in, a service call)."""

from __future__ import annotations

from celery.exceptions import MaxRetriesExceededError

from backend.celery import app
from community.services import cases, webhooks
from notifications.tasks import OutboxTask


@app.task(bind=True, base=OutboxTask, name="community.deliver_webhook", acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    result = webhooks.webhook_send(delivery_id=delivery_id)
    if result.status == "retry" and not self.request.is_eager:  # run inline (tests): the sweeper retries
        try:
            raise self.retry(countdown=result.retry_in)
        except MaxRetriesExceededError:  # the sweeper takes it from here
            return "retry"
    return result.status


@app.task(name="community.sweep_webhooks", acks_late=True)
def sweep_webhooks() -> int:
    return webhooks.webhooks_sweep()


@app.task(name="community.collect", acks_late=True)
def collect() -> int:
    """Turn what happened in inspections into webhook events, and reconcile cases with their visits."""
    return webhooks.webhooks_collect() + cases.cases_reconcile()
