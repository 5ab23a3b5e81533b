"""What `GET health` reports: can we reach the database and the Celery broker, and is the work that
bounded-lag tasks owe being done?

Bounded time: the broker probe connects once with a short timeout (HEALTH_PROBE_TIMEOUT_SECONDS, no
retries), and callers that arrive while a probe is running wait for that probe's answer instead of
starting their own (one probe in flight per process), so an outage cannot hold many threads for long.
Anonymous callers get "ok"/"down" only; the reasons and the redacted broker address are for admins.

Backlogs: work the visit sync leaves to a task, with the bound its guarantee promises (follow-ups
waiting for placement; risk scores waiting for a recompute; the roll-ups of visits just synced,
settings.HEALTH_BACKLOGS for other apps' queues). A backlog whose oldest item is older than its bound
means the task is not running (worker or beat down): the status is "degraded" and admins see which
backlog, how many items, how old.
"""

import threading
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu import Connection

from inspections.services.findings import establishments_risk_backlog
from inspections.services.rounds.follow_ups import FOLLOW_UP_SWEEP_AFTER, follow_ups_backlog

# The sweeper places rows older than FOLLOW_UP_SWEEP_AFTER every minute (backend/schedules.py).
FOLLOW_UPS_BOUND = FOLLOW_UP_SWEEP_AFTER + timedelta(seconds=150)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the reason is reported
        return f"down: {type(error).__name__}"
    return "ok"


def _broker_probe() -> str:
    timeout = settings.HEALTH_PROBE_TIMEOUT_SECONDS
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=timeout,
            transport_options={
                **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "max_retries": 0,
            },
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            conn.default_channel  # noqa: B018 - opens a channel: a server that accepts and never answers fails here
    except Exception as error:  # noqa: BLE001
        return f"down: {type(error).__name__}"
    return "ok"


class _SingleFlight:
    """Run `probe` once for all the callers that arrive while it runs."""

    def __init__(self, probe):
        self._probe = probe
        self._lock = threading.Lock()
        self._done: threading.Event | None = None
        self._result = "down: unknown"
        self.probes = 0  # how many probes ran (tests read it)

    def __call__(self) -> str:
        with self._lock:
            running = self._done
            if running is None:
                self._done = running = threading.Event()
                leader = True
            else:
                leader = False
        if not leader:
            running.wait(settings.HEALTH_PROBE_TIMEOUT_SECONDS * 3)
            return self._result if running.is_set() else "down: timeout"
        try:
            self.probes += 1
            self._result = self._probe()
        finally:
            with self._lock:
                self._done = None
            running.set()
        return self._result


broker_status = _SingleFlight(_broker_probe)


def backlogs() -> dict[str, dict]:
    """{name: {pending, oldest_seconds, bound_seconds, late}} for each queue a task works off."""
    now = timezone.now()
    measured = {
        "follow_ups": (*follow_ups_backlog(now=now), FOLLOW_UPS_BOUND),
        "risk": establishments_risk_backlog(now=now),
    }
    for name, path in getattr(settings, "HEALTH_BACKLOGS", {}).items():
        measured[name] = import_string(path)(now=now)  # (pending, oldest seconds or None, bound)
    return {
        name: {
            "pending": pending,
            "oldest_seconds": None if oldest is None else round(oldest, 1),
            "bound_seconds": bound.total_seconds(),
            "late": oldest is not None and oldest > bound.total_seconds(),
        }
        for name, (pending, oldest, bound) in measured.items()
    }


def health_check(*, details: bool) -> dict:
    """Database and broker status and the backlogs' lateness; `details` adds the failure reasons, the
    (redacted) broker address and the backlogs themselves."""
    database = _database_status()
    broker = broker_status()
    queues = backlogs() if database == "ok" else {}
    late = any(queue["late"] for queue in queues.values())
    report = {
        "status": "ok" if database == "ok" and broker == "ok" and not late else "degraded",
        "database": database if details else database.split(":")[0],
        "broker": broker if details else broker.split(":")[0],
    }
    if details:
        report["broker_url"] = _redacted(settings.CELERY_BROKER_URL)
        report["backlogs"] = queues
    return report
