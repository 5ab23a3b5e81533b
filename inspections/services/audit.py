"""The append-only audit trail. Services write every audit row through here, inside their
transaction: `audit_record` for one event, `audit_record_many` for a batch (one INSERT)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from inspections.models import AuditEvent
from inspections.services.sync_sql import insert_returning


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


@dataclass(frozen=True)
class AuditEntry:
    """One row of a batch: `object_type` is the target's `label_lower` (e.g. "inspections.visit")."""

    action: str
    object_type: str
    object_id: int | str
    actor_id: int | None = None
    municipality_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


AUDIT_FIELDS = ["actor_id", "action", "object_type", "object_id", "municipality_id", "details", "at"]


def audit_record_many(entries: Sequence[AuditEntry]) -> None:
    """Record a batch of events in one INSERT (set-based services: visit sync, findings, follow-ups)."""
    if not entries:
        return
    now = timezone.now()
    insert_returning(
        AuditEvent,
        AUDIT_FIELDS,
        [
            (
                entry.actor_id,
                entry.action,
                entry.object_type,
                str(entry.object_id),
                entry.municipality_id,
                entry.details,
                entry.at or now,
            )
            for entry in entries
        ],
    )
