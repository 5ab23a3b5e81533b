"""Liveness and dependencies."""

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import BaseModel

from inspections.services.health import health_check

router = Router(tags=["health"])


class BacklogOut(BaseModel):
    pending: int
    oldest_seconds: float | None
    bound_seconds: float
    late: bool


class HealthOut(BaseModel):
    status: str
    database: str
    broker: str
    broker_url: str | None = None
    backlogs: dict[str, BacklogOut] | None = None


@router.get("health", auth=None, response={200: HealthOut, 503: HealthOut}, exclude_none=True)
def health(request: HttpRequest):
    """Database and broker status: 200 while the database answers (a broker outage is reported,
    not fatal: visits are still accepted and alerts wait in the outbox), 503 when it does not.

    `degraded` too when a task's backlog is older than its bound (follow-ups waiting for placement,
    roll-ups of visits just synced: the worker or beat is not running).
    Anonymous callers (load balancers) get `ok` / `down` only; signed-in staff also get the reasons,
    the broker's address (password redacted) and each backlog (pending, oldest_seconds, bound_seconds,
    late). Answers within a few seconds even while the broker hangs (HEALTH_PROBE_TIMEOUT_SECONDS, one
    probe at a time per process)."""
    user = getattr(request, "user", None)
    report = health_check(details=bool(user is not None and user.is_authenticated and user.is_staff))
    return Status(200 if report["database"] == "ok" else 503, HealthOut(**report))
