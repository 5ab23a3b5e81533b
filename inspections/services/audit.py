"""The append-only audit trail. Services call `audit_record` inside their transaction."""

from typing import Any

from django.db import models

from inspections.models import AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model,
    municipality_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` did `action` (e.g. "round.created") to `target`."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        municipality_id=municipality_id,
        details=details or {},
    )
