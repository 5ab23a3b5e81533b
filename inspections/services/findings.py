"""Findings (violations): opened by failed items, closed by a later visit that passes the item.

Rules (applied set-based to each synced batch, inside its transaction):

- A failed answer opens a finding (severity and fine from the item; due date = the local date
  the visit finished + FINDING_DUE_DAYS[severity]) unless an open finding already exists for the
  same establishment and item code: a repeated failure (a visit finished after the finding opened)
  opens no second one but is recorded on it (`repeat_count`, `last_seen_visit`, an AuditEvent
  "finding.repeated"), and a repeated critical failure alerts the supervisors again.
- An answer that passes the item (not failed and not "na") closes the open finding of that
  establishment and item code when the passing visit finished after the finding was opened
  (`opened_at` is the failing visit's `finished_at`, `closed_at` the closing visit's): an
  older visit synced late never closes a newer finding. An AuditEvent "finding.closed" is written.
- A visit that leaves new open findings gets one follow-up stop (the rounds service's
  `follow_ups_schedule`) due by its earliest due date; the findings point to it. The stop is placed
  just after the batch commits (a FollowUpPending row written here, a task queued on commit, the
  sweeper for a task that never ran): placing a stop in a round is most of the cost of a violation.
- Critical findings notify the municipality's supervisors in the same transaction (all the batch's
  alerts in one write: alerts.policy.notify_critical_findings).
- The establishment's risk score is recomputed from its findings (see `risk_score`) plus the extra
  factors of apps built on inspections (settings.RISK_EXTRA_FACTORS, the same points the ranked
  queue adds; see `establishments_risk_refresh`). With settings.RISK_DEFERRED (on by default on
  PostgreSQL) the batch only lists the establishments in RiskPending, and `establishments_risk_flush`
  (the task inspections.risk_flush, every 5 s) recomputes them: the stored score lags the findings by
  one interval while a worker runs, and GET health reports the backlog late after RISK_BACKLOG_BOUND.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from inspections.alerts.policy import notify_critical_findings
from inspections.domain.risk import extra_points
from inspections.models import ChecklistItem, Establishment, Finding, RiskPending
from inspections.selectors.risk import extra_factors
from inspections.services.audit import AuditEntry
from inspections.services.rounds.follow_ups import follow_ups_request
from inspections.services.sync_sql import insert_returning, update_rows
from inspections.tasks import follow_ups_place_on_commit

SEVERITY_WEIGHT = {"minor": 1.0, "major": 3.0, "critical": 10.0}
HISTORY_FACTOR = 0.5  # a closed finding counts half of an open one...
HISTORY_HALF_LIFE_DAYS = 90.0  # ...and halves again every 90 days after it was opened
RISK_MAX = 100.0


def risk_score(*, findings: list[tuple[str, str, datetime]], now: datetime) -> float:
    """Risk of an establishment from its findings `(severity, status, opened_at)`.

    risk = Σ open weight(severity) + Σ closed weight(severity) × 0.5 × 2^(−age_days / 90),
    weights minor 1, major 3, critical 10, capped at 100. Two open majors and a critical
    closed a quarter ago: 3 + 3 + 10 × 0.5 × 0.5 = 8.5.
    """
    score = 0.0
    for severity, status, opened_at in findings:
        weight = SEVERITY_WEIGHT.get(severity, 1.0)
        if status == Finding.Status.OPEN:
            score += weight
        else:
            age_days = max((now - opened_at).total_seconds() / 86400.0, 0.0)
            score += weight * HISTORY_FACTOR * 2 ** (-age_days / HISTORY_HALF_LIFE_DAYS)
    return round(min(score, RISK_MAX), 2)


def finding_due_date(*, severity: str, finished_at: datetime) -> date:
    return timezone.localdate(finished_at) + timedelta(days=settings.FINDING_DUE_DAYS.get(severity, 14))


@dataclass
class _OpenFinding:
    opened_at: datetime
    db_id: int | None = None
    new: dict | None = None  # a finding of this batch, not inserted yet
    severity: str = ""
    last_seen_at: datetime | None = None  # when the latest repeating visit finished
    repeats: list[int] = field(default_factory=list)  # visits of this batch that failed the item again
    last_seen_visit_id: int | None = None
    stored_repeats: int = 0  # repeat_count as stored (a finding of an earlier batch)


def _establishments_lock(establishment_ids: set[int]) -> None:
    """Row locks in id order, FOR NO KEY UPDATE (compatible with the KEY SHARE locks of foreign keys):
    concurrent batches on the same establishments queue here instead of deadlocking later, and the
    open findings read next cannot change under the caller (no finding is opened twice). (One
    statement that also finds the establishments with open findings, EXISTS under FOR UPDATE,
    measured slower than two: 10.5-10.8 against 9.2-9.9 ms of findings per batch, bench/sync.py.)"""
    list(
        Establishment.objects.filter(id__any=establishment_ids)
        .order_by("id")
        .select_for_update(no_key=True)
        .values_list("id", flat=True)
    )


def _open_of(establishment_ids: set[int]):
    """The open findings of these establishments, unordered."""
    return Finding.objects.filter(establishment_id__any=establishment_ids, status=Finding.Status.OPEN).order_by()


def _open_findings(establishment_ids: set[int]) -> list[tuple]:
    """The open findings of these establishments: (id, establishment id, item code, opened at,
    severity, when the latest repeating visit finished, repeat count, that visit's id)."""
    return list(
        _open_of(establishment_ids).values_list(
            "id",
            "establishment_id",
            "item_code",
            "opened_at",
            "severity",
            "last_seen_visit__finished_at",
            "repeat_count",
            "last_seen_visit_id",
        )
    )


def findings_apply(*, inspector, visits: list, now: datetime) -> list[AuditEntry]:
    """Open, close and follow up findings for the visits just stored (CheckedVisit objects with ids).
    Returns the audit entries of the findings closed or failed again, for the sync to record with its
    own in one insert."""
    failing = {visit.establishment["id"] for visit in visits if any(answer.failed for answer in visit.answers)}
    passing = {
        visit.establishment["id"]
        for visit in visits
        if any(not answer.failed and answer.value != "na" for answer in visit.answers)
    }
    if not failing and not passing:
        return []
    if failing:
        # Lock every establishment the batch answered for, then read their open findings once: the
        # passing ones without open findings are locked too (a concurrent batch on the same shop
        # waits), which costs less than the read that would find them first.
        _establishments_lock(failing | passing)
        rows = _open_findings(failing | passing)
        touched = failing | {row[1] for row in rows}
    else:
        # Passing visits only: most shops have no open finding, so find those that do before locking.
        touched = set(_open_of(passing).values_list("establishment_id", flat=True))
        if not touched:
            return []
        _establishments_lock(touched)
        rows = _open_findings(touched)
    open_now: dict[tuple[int, str], _OpenFinding] = {
        (row[1], row[2]): _OpenFinding(
            opened_at=row[3],
            db_id=row[0],
            severity=row[4],
            last_seen_at=row[5],
            stored_repeats=row[6],
            last_seen_visit_id=row[7],
        )
        for row in rows
    }
    repeated: list[_OpenFinding] = []
    new_findings: list[dict] = []
    db_closes: list[tuple[_OpenFinding, int, datetime]] = []  # (stored finding, visit id, closed_at)

    for visit in sorted(visits, key=lambda v: (v.payload.finished_at, v.visit_id)):
        establishment_id = visit.establishment["id"]
        if establishment_id not in touched:
            continue
        finished_at = visit.payload.finished_at
        for answer in visit.answers:
            key = (establishment_id, answer.item.code)
            current = open_now.get(key)
            if answer.failed:
                if current is None:
                    finding = {
                        "visit": visit,
                        "answer": answer,
                        "opened_at": finished_at,
                        "due_date": finding_due_date(severity=answer.item.severity, finished_at=finished_at),
                        "closed_at": None,
                        "closed_by": None,
                    }
                    new_findings.append(finding)
                    open_now[key] = _OpenFinding(opened_at=finished_at, new=finding, severity=answer.item.severity)
                elif current.opened_at < finished_at:
                    # Failed again while open: counted on the finding, not a second finding.
                    if not current.repeats:
                        repeated.append(current)
                    current.repeats.append(visit.visit_id)
                    if current.last_seen_at is None or current.last_seen_at < finished_at:
                        current.last_seen_at, current.last_seen_visit_id = finished_at, visit.visit_id
            elif answer.value != "na" and current is not None and current.opened_at < finished_at:
                if current.db_id is not None:
                    db_closes.append((current, visit.visit_id, finished_at))
                else:
                    current.new["closed_at"] = finished_at
                    current.new["closed_by"] = visit.visit_id
                del open_now[key]

    # One follow-up per establishment whose visits leave new open findings: recorded here, placed in a
    # round after commit (rounds.follow_ups.follow_ups_place_pending; the sweeper if the task is lost).
    by_visit: dict[int, list[dict]] = defaultdict(list)
    for finding in new_findings:
        if finding["closed_by"] is None:
            by_visit[finding["visit"].visit_id].append(finding)
    if by_visit:
        _follow_ups_request(inspector=inspector, by_visit=by_visit, now=now)

    repeats_of = {id(entry.new): entry for entry in repeated if entry.new is not None}
    inserted = insert_returning(
        Finding,
        [
            "visit_id",
            "answer_id",
            "establishment_id",
            "municipality_id",
            "item_code",
            "severity",
            "fine_sar",
            "due_date",
            "status",
            "opened_at",
            "closed_at",
            "closed_by_visit_id",
            "follow_up_stop_id",
            "repeat_count",
            "last_seen_visit_id",
        ],
        [
            (
                finding["visit"].visit_id,
                finding["answer"].answer_id,
                finding["visit"].establishment["id"],
                finding["visit"].establishment["municipality_id"],
                finding["answer"].item.code,
                finding["answer"].item.severity,
                finding["answer"].item.fine_sar,
                finding["due_date"],
                Finding.Status.OPEN if finding["closed_by"] is None else Finding.Status.CLOSED,
                finding["opened_at"],
                finding["closed_at"],
                finding["closed_by"],
                None,  # follow_up_stop: set when the follow-up is placed
                len(repeats_of[id(finding)].repeats) if id(finding) in repeats_of else 0,
                repeats_of[id(finding)].last_seen_visit_id if id(finding) in repeats_of else None,
            )
            for finding in new_findings
        ],
        returning=("id", "answer_id"),
    )
    finding_ids = {answer_id: finding_id for finding_id, answer_id in inserted}

    # Findings stored earlier, closed or failed again (or both) by this batch: status, closing visit,
    # repeat count and latest visit in one statement (the establishment is locked, so the stored
    # values read above are current and a column this batch does not change is written back as read).
    closes = {entry.db_id: (closed_at, visit_id) for entry, visit_id, closed_at in db_closes}
    stored = {entry.db_id: entry for entry in repeated if entry.db_id is not None}
    stored.update((entry.db_id, entry) for entry, _visit_id, _at in db_closes)
    update_rows(
        Finding,
        ["status", "closed_at", "closed_by_visit_id", "repeat_count", "last_seen_visit_id"],
        [
            (
                finding_id,
                Finding.Status.CLOSED if finding_id in closes else Finding.Status.OPEN,
                *closes.get(finding_id, (None, None)),
                entry.stored_repeats + len(entry.repeats),
                entry.last_seen_visit_id,
            )
            for finding_id, entry in stored.items()
        ],
    )
    closed_events = [(entry.db_id, visit_id) for entry, visit_id, _at in db_closes] + [
        (finding_ids[finding["answer"].answer_id], finding["closed_by"])
        for finding in new_findings
        if finding["closed_by"] is not None
    ]
    municipality_of = {visit.visit_id: visit.establishment["municipality_id"] for visit in visits}
    audit = [
        AuditEntry(
            actor_id=inspector.pk,
            action="finding.closed",
            object_type="inspections.finding",
            object_id=finding_id,
            municipality_id=municipality_of.get(visit_id),
            details={"closed_by_visit_id": visit_id},
            at=now,
        )
        for finding_id, visit_id in closed_events
    ] + [
        AuditEntry(
            actor_id=inspector.pk,
            action="finding.repeated",
            object_type="inspections.finding",
            object_id=entry.db_id if entry.db_id is not None else finding_ids[entry.new["answer"].answer_id],
            municipality_id=municipality_of.get(visit_id),
            details={"visit_id": visit_id},
            at=now,
        )
        for entry in repeated
        for visit_id in entry.repeats
    ]

    establishments_risk_stale(establishment_ids=touched, now=now)

    critical_ids = [
        finding_ids[finding["answer"].answer_id]
        for finding in new_findings
        if finding["answer"].item.severity == ChecklistItem.Severity.CRITICAL and finding["closed_by"] is None
    ]
    repeated_critical = {
        entry.db_id if entry.db_id is not None else finding_ids[entry.new["answer"].answer_id]: entry.repeats
        for entry in repeated
        if entry.severity == ChecklistItem.Severity.CRITICAL
    }
    if critical_ids or repeated_critical:
        # One read of the findings and one write of every alert (the supervisors read once per municipality).
        found = Finding.objects.select_related("establishment", "municipality", "answer__item").in_bulk(
            set(critical_ids) | set(repeated_critical)
        )
        notify_critical_findings(
            opened=[found[finding_id] for finding_id in critical_ids],
            repeated=[
                (found[finding_id], visit_id)
                for finding_id, visit_ids in repeated_critical.items()
                for visit_id in visit_ids
            ],
        )
    return audit


def _follow_ups_request(*, inspector, by_visit: dict[int, list[dict]], now: datetime) -> None:
    """Record one follow-up per establishment (due by the earliest due date of its visits' new open
    findings) and queue its placement for when the batch commits.

    An establishment with several violating visits in the batch gets one stop; the scheduler returns
    an existing pending follow-up stop instead of adding one."""
    due: dict[int, date] = {}
    visit_ids: dict[int, list[int]] = defaultdict(list)
    for visit_id, findings in by_visit.items():
        establishment_id = findings[0]["visit"].establishment["id"]
        earliest = min(finding["due_date"] for finding in findings)
        due[establishment_id] = min(due.get(establishment_id, earliest), earliest)
        visit_ids[establishment_id].append(visit_id)
    ids = follow_ups_request(
        requests=[(pk, due[pk], inspector.pk, sorted(visit_ids[pk])) for pk in sorted(due)], now=now
    )
    follow_ups_place_on_commit(ids)


def establishments_risk_refresh(*, establishment_ids, now: datetime) -> None:
    """Recompute the stored risk score of these establishments (one read of findings, one call per
    configured extra factor, one update): their findings' score plus other apps' factors
    (settings.RISK_EXTRA_FACTORS, e.g. confirmed public reports), each capped by the same rule as the
    ranked queue (inspections.domain.risk.extra_points), the total at RISK_MAX.

    Apps that change a factor call this for the establishments concerned (community does when a case
    closes confirmed); inspections imports none of them.
    """
    ids = sorted(set(establishment_ids))
    history: dict[int, list] = defaultdict(list)
    for establishment_id, severity, status, opened_at in Finding.objects.filter(establishment_id__any=ids).values_list(
        "establishment_id", "severity", "status", "opened_at"
    ):
        history[establishment_id].append((severity, status, opened_at))
    extras = extra_factors(ids)
    update_rows(
        Establishment,
        ["risk_score"],
        [
            (
                establishment_id,
                round(
                    min(
                        risk_score(findings=history[establishment_id], now=now)
                        + extra_points(extras.get(establishment_id, {})),
                        RISK_MAX,
                    ),
                    2,
                ),
            )
            for establishment_id in ids
        ],
    )


def establishments_risk_stale(*, establishment_ids, now: datetime) -> None:
    """The findings of these establishments changed in the caller's transaction: recompute their risk
    now, or list them for `establishments_risk_flush` when settings.RISK_DEFERRED is on.

    The listing is an upsert that locks each RiskPending row until the caller commits (a conflict
    updates the row instead of skipping it): a flush that already read the row cannot delete it and
    miss these findings, since it locks the establishment first (as the caller did) and deletes only
    rows of establishments it holds."""
    ids = sorted({int(pk) for pk in establishment_ids})
    if not ids:
        return
    if not settings.RISK_DEFERRED:
        establishments_risk_refresh(establishment_ids=ids, now=now)
        return
    insert_returning(
        RiskPending,
        ["establishment_id", "queued_at"],
        [(pk, now) for pk in ids],
        returning=("establishment_id",),
        conflict_field="establishment_id",
        lock_conflicting=True,
    )


# Establishments a transaction: a sync that meets one of them waits for at most one such transaction.
RISK_FLUSH_BATCH = 200
# The flush runs every 5 s (backend/schedules.py); a score still waiting after this long means no flush
# runs (worker or beat down): GET health reports the backlog late.
RISK_BACKLOG_BOUND = timedelta(seconds=60)


def establishments_risk_flush(*, batch: int = RISK_FLUSH_BATCH) -> int:
    """Recompute the risk of every establishment listed in RiskPending, `batch` a transaction; returns
    how many were recomputed. The body of the task inspections.risk_flush.

    Each transaction locks the listed establishments in id order (as the visit sync does), skipping
    those a sync holds (their rows stay for the next run, after that sync commits), deletes the rows
    of those it holds and recomputes them from the committed findings. A row whose establishment is
    gone is dropped."""
    done = 0
    while True:
        with transaction.atomic():
            listed = list(
                RiskPending.objects.order_by("establishment_id").values_list("establishment_id", flat=True)[:batch]
            )
            if not listed:
                return done
            held = list(
                Establishment.objects.filter(id__any=listed)
                .order_by("id")
                .select_for_update(no_key=True, skip_locked=True)
                .values_list("id", flat=True)
            )
            skipped = set(listed) - set(held)  # held by a sync, or gone
            in_sync = set()
            if skipped:  # one more read only when the lock skipped some
                in_sync = set(Establishment.objects.filter(id__in=skipped).values_list("id", flat=True))
            RiskPending.objects.filter(establishment_id__in=[pk for pk in listed if pk not in in_sync]).delete()
            establishments_risk_refresh(establishment_ids=held, now=timezone.now())
            done += len(held)
        if len(listed) < batch or not held:  # drained, or every listed establishment is in a sync
            return done


def establishments_risk_backlog(*, now: datetime) -> tuple[int, float | None, timedelta]:
    """(establishments waiting, seconds since the oldest was listed, the bound) for GET health."""
    row = RiskPending.objects.aggregate(pending=Count("establishment_id"), oldest=Min("queued_at"))
    if not row["pending"]:
        return 0, None, RISK_BACKLOG_BOUND
    return row["pending"], max((now - row["oldest"]).total_seconds(), 0.0), RISK_BACKLOG_BOUND
