"""Liveness and dependencies."""

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import BaseModel

from inspections.services.health import health_check

router = Router(tags=["health"])


class HealthOut(BaseModel):
    status: str
    database: str
    broker: str
    broker_url: str


@router.get("health", auth=None, response={200: HealthOut, 503: HealthOut})
def health(request: HttpRequest):
    """Database and broker status: 200 while the database answers (a broker outage is reported,
    not fatal: visits are still accepted and alerts wait in the outbox), 503 when it does not."""
    report = health_check()
    return Status(200 if report["database"] == "ok" else 503, HealthOut(**report))
