"""The Celery app. DJANGO_SETTINGS_MODULE is set before Celery() so tasks get Django's task
class (and with it `delay_on_commit`).

Broker: Redis in production (CELERY_BROKER_URL); on the embedded default kombu's `filesystem://`
transport (folders under var/broker), which needs no server, with a real worker and beat started
by `make run`. Schedules live in the database (django-celery-beat's DatabaseScheduler), one table
for every app's periodic jobs: backend/schedules.py.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

from celery import Celery  # noqa: E402
from django.db import DatabaseError  # noqa: E402
from kombu.transport import TRANSPORT_ALIASES  # noqa: E402

# `filesystem://` (the embedded default) means our subclass, which lets Ctrl-C reach an idle worker fast.
TRANSPORT_ALIASES["filesystem"] = "backend.broker:FilesystemTransport"

app = Celery("jawla")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # Every task is idempotent (it takes ids and re-fetches, or writes through unique keys), so a task
    # is acknowledged only after it ran: a worker that dies mid-task gets it redelivered.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # A lost broker connection cancels the running acks_late tasks instead of finishing them
    # unacknowledged (they would be redelivered anyway); Celery 6 makes this the default.
    worker_cancel_long_running_tasks_on_connection_loss=True,
    worker_prefetch_multiplier=1,
    task_time_limit=300,
    task_soft_time_limit=240,
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    timezone="Asia/Riyadh",
    enable_utc=True,
)
app.autodiscover_tasks()

# Options of the periodic jobs: they write through unique keys (dedupe keys, conditional updates), so a
# retry after a database hiccup is safe.
SCHEDULED_JOB = {
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 3,
}
