"""The Celery app. DJANGO_SETTINGS_MODULE is set before Celery() so tasks get Django's task
class (and with it `delay_on_commit`)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

from celery import Celery  # noqa: E402

app = Celery("jawla")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # tasks are idempotent: a worker that dies mid-task gets its task redelivered
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=300,
    task_soft_time_limit=240,
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
)
app.autodiscover_tasks()
