"""A round's status follows its stops: visits mark stops visited, the end of the day marks the
rest missed, and the status is derived from the stops by one rule (`status_from_stops`).

planned (nothing happened yet) → in_progress (some stops done, some pending) → done (every stop
visited) or partly_done (nothing pending, some missed); cancelled is a planning command.
"""

from __future__ import annotations

from datetime import date as Date

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from inspections.alerts.policy import alerts_stops_open
from inspections.models import Round, RoundStop
from inspections.services.audit import audit_record
from inspections.services.rounds.common import OPEN_STATUSES


def status_from_stops(counts: dict[str, int]) -> str | None:
    """The round status for its stops counted by status (cancelled stops do not count); None when
    no stop counts (every stop removed): such a round keeps its status until cancelled or closed."""
    if not any(counts.get(status, 0) for status in RoundStop.Status if status != RoundStop.Status.CANCELLED):
        return None
    pending = counts.get(RoundStop.Status.PENDING, 0)
    visited = counts.get(RoundStop.Status.VISITED, 0)
    missed = counts.get(RoundStop.Status.MISSED, 0)
    if pending == 0:
        return Round.Status.DONE if missed == 0 else Round.Status.PARTLY_DONE
    if visited or missed:
        return Round.Status.IN_PROGRESS
    return Round.Status.PLANNED


def _stops_recount(round: Round, *, now, close: bool) -> tuple[str | None, int]:
    """Mark the pending stops that have a visit as visited (and, when closing the day, the other
    pending ones as missed); return (the status derived from the stops, stops marked missed)."""
    round.stops.filter(status=RoundStop.Status.PENDING, visits__isnull=False).update(
        status=RoundStop.Status.VISITED, updated_at=now
    )
    missed = 0
    if close:
        missed = round.stops.filter(status=RoundStop.Status.PENDING).update(
            status=RoundStop.Status.MISSED, updated_at=now
        )
    counts = dict(
        round.stops.exclude(status=RoundStop.Status.CANCELLED)
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    return status_from_stops(counts), missed


def _refresh_status_locked(round: Round) -> None:
    """Mark pending stops that have a visit as visited, then derive the round's status."""
    now = timezone.now()
    status, _missed = _stops_recount(round, now=now, close=False)
    if status is None:
        return  # a round whose every stop was removed stays as it is until cancelled or closed
    if status != round.status:
        previous = round.status
        round.status = status
        Round.objects.filter(pk=round.pk).update(status=status, updated_at=now)
        audit_record(
            actor=None,
            action="round.status_changed",
            target=round,
            municipality_id=round.municipality_id,
            details={"from": previous, "to": status},
        )
    else:
        Round.objects.filter(pk=round.pk).update(updated_at=now)


@transaction.atomic
def round_refresh_status(*, round_id: int) -> None:
    """Re-derive a round's status from its stops (after a visit marked a stop visited).

    planned → in_progress at the first visited stop → done when no stop is pending. Stops with a
    visit are marked visited here too, so the call is safe to repeat. Always bumps `updated_at`
    so the phone's delta sync sees the visited stop. A cancelled or closed round is left alone.
    """
    round = Round.objects.select_for_update().filter(pk=round_id).first()
    if round is None or round.status not in OPEN_STATUSES:
        return
    _refresh_status_locked(round)


@transaction.atomic
def rounds_day_close(*, day: Date) -> int:
    """The end-of-day job: close the rounds of `day` and earlier (rounds_close_day), then tell the
    supervisors of each round of `day` that ended with stops not visited. Returns the alerts written."""
    rounds_close_day(day=day)
    return alerts_stops_open(day=day)


@transaction.atomic
def rounds_close_day(*, day: Date) -> list[Round]:
    """End of day (Asia/Riyadh): the pending stops of open rounds dated `day` or earlier become missed;
    those rounds become done (every stop visited) or partly done. Returns the rounds closed.

    Idempotent: a second run finds no open round and returns [].
    """
    rounds = list(
        Round.objects.select_for_update()
        .filter(date__lte=day, status__in=OPEN_STATUSES, is_draft=False)
        .order_by("date", "id")
    )
    closed = []
    now = timezone.now()
    for round in rounds:
        status, missed = _stops_recount(round, now=now, close=True)
        previous = round.status
        round.status = status or Round.Status.DONE
        round.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=None,
            action="round.closed",
            target=round,
            municipality_id=round.municipality_id,
            details={"from": previous, "to": round.status, "missed_stops": missed, "day": day.isoformat()},
        )
        closed.append(round)
    return closed
