"""Visit sync: store a batch of visits recorded offline on a phone, set-based.

One batch = one transaction and a fixed handful of queries whatever its size: each visit is
validated in Python against prefetched establishments, checklist versions and round stops,
then one INSERT per table (visits, answers, findings, audit events) with
`ON CONFLICT (client_id) DO NOTHING` on visits. A visit whose client_id is already stored
(a retry, even one racing the first attempt in another transaction) is answered `duplicate`
with the stored visit's id; one stored by another inspector is `rejected` without its id.

Over 500 lines because validation and storing share the prefetched state of one batch (versions,
establishments, stops, replays) in one transaction; the pure rules it applies live elsewhere
(inspections.domain.answers, services.geoverify, services.rounds for follow-ups).
"""

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from backend.exceptions import PermissionDeniedError
from inspections.domain.answers import answer_failed
from inspections.domain.calendar import round_day_covers
from inspections.domain.geoverify import TRAVEL_LOOKBACK, Fix, TravelPoint, geo_verify, impossible_travel_keys
from inspections.models import (
    Answer,
    Checklist,
    ChecklistItem,
    ChecklistVersion,
    Establishment,
    Finding,
    Membership,
    RoundStop,
    Visit,
)
from inspections.selectors.scope import scope_for
from inspections.services import findings as findings_service
from inspections.services.audit import AuditEntry, audit_record_many
from inspections.services.inputs import VisitSyncIn
from inspections.services.rounds import round_refresh_status
from inspections.services.sync_sql import insert_returning
from inspections.services.transactions import retry_on_deadlock
from inspections.signals import visits_stored

Outcome = Visit.Outcome
NO_ANSWERS_NEEDED = {Outcome.CLOSED, Outcome.REFUSED_ENTRY}


@dataclass
class SyncResult:
    client_id: str | None
    status: str  # created | duplicate | rejected
    visit_id: int | None = None
    errors: list[dict] = field(default_factory=list)
    # On `duplicate`: whether this replay's content differs from the stored visit's (the stored one
    # stands; the new content is not stored). None when unknown (stored before fingerprints were kept).
    payload_differed: bool | None = None

    def as_dict(self) -> dict:
        return {
            "client_id": self.client_id,
            "status": self.status,
            "visit_id": self.visit_id,
            "errors": self.errors,
            "payload_differed": self.payload_differed,
        }


def payload_fingerprint(payload: VisitSyncIn) -> str:
    """SHA-256 of the visit as parsed (canonical JSON): equal for a faithful replay, different when
    any field, answer or note changed."""
    return hashlib.sha256(payload.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class ItemInfo:
    id: int
    code: str
    answer_type: str
    choices: tuple
    failing_choices: tuple
    min_value: float | None
    max_value: float | None
    severity: str
    fine_sar: Decimal
    required: bool
    category_ids: frozenset


@dataclass
class VersionInfo:
    id: int
    checklist_id: int
    status: str
    published_at: datetime | None
    checklist_category_ids: frozenset
    items: dict[str, ItemInfo]


@dataclass
class CheckedAnswer:
    item: ItemInfo
    value: Any
    failed: bool
    note: str
    answer_id: int | None = None


@dataclass
class CheckedVisit:
    """A visit that passed validation, with everything needed to store it."""

    index: int
    payload: VisitSyncIn
    establishment: dict
    answers: list[CheckedAnswer]
    geo_status: str = ""
    geo_distance_m: float | None = None
    impossible_travel: bool = False
    visit_id: int | None = None

    @property
    def violation_count(self) -> int:
        return sum(1 for answer in self.answers if answer.failed)


def _error(loc: list, msg: str, code: str) -> dict:
    return {"loc": [str(part) for part in loc], "msg": msg, "type": code}


def _pydantic_errors(error: ValidationError) -> list[dict]:
    return [
        _error(list(detail.get("loc", [])), str(detail.get("msg", "")), str(detail.get("type", "")))
        for detail in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def _raw_client_id(raw: Any) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("client_id"), str):
        try:
            return str(uuid.UUID(raw["client_id"]))
        except ValueError:
            return None
    return None


def visit_sync(*, inspector, visits: list[Any]) -> list[SyncResult]:
    """Store a batch of visits; one result per input visit, in input order.

    Each visit is validated on its own: a rejected visit carries its errors
    (`[{loc, msg, type}]`) and never prevents the others from being stored.
    The batch is one transaction. Concurrent batches touching the same establishments may meet
    in a PostgreSQL deadlock (row locks of follow-ups, findings, risk scores); the loser's
    transaction is rolled back whole, so it is simply run again (the batch is idempotent).
    """
    return retry_on_deadlock(lambda: _visit_sync_once(inspector=inspector, visits=visits))


@transaction.atomic
def _visit_sync_once(*, inspector, visits: list[Any]) -> list[SyncResult]:
    scope = scope_for(inspector)
    if not scope.has_role(Membership.Role.INSPECTOR, Membership.Role.SUPERVISOR):
        raise PermissionDeniedError(_("Only inspectors and supervisors submit visits."))
    now = timezone.now()
    results: list[SyncResult | None] = [None] * len(visits)

    # 1. Parse every visit on its own; the first occurrence of a client_id in the batch wins.
    parsed: list[tuple[int, VisitSyncIn]] = []
    first_of: dict[uuid.UUID, int] = {}
    repeats: list[tuple[int, int]] = []
    for index, raw in enumerate(visits):
        try:
            payload = VisitSyncIn.model_validate(raw)
        except ValidationError as error:
            results[index] = SyncResult(_raw_client_id(raw), "rejected", errors=_pydantic_errors(error))
            continue
        if payload.client_id in first_of:
            repeats.append((index, first_of[payload.client_id]))
            continue
        first_of[payload.client_id] = index
        parsed.append((index, payload))

    visits_parsed = dict(parsed)

    # 2. A handful of batch reads.
    client_ids = [payload.client_id for _index, payload in parsed]
    fingerprints = {payload.client_id: payload_fingerprint(payload) for _index, payload in parsed}
    stored = {
        row[0]: row[1:]
        for row in Visit.objects.filter(client_id__any=client_ids)
        .order_by()
        .values_list("client_id", "id", "inspector_id", "municipality_id", "payload_sha256")
    }
    replays: list[tuple[SyncResult, int | None, str]] = []  # differing replays, for the audit trail
    fresh = []
    for index, payload in parsed:
        if payload.client_id in stored:
            results[index] = _replay_result(
                payload.client_id,
                *stored[payload.client_id],
                inspector=inspector,
                fingerprint=fingerprints[payload.client_id],
                replays=replays,
            )
        else:
            fresh.append((index, payload))

    establishments = {
        row["id"]: row
        for row in Establishment.objects.filter(id__any={p.establishment_id for _i, p in fresh})
        .order_by()
        .values("id", "municipality_id", "category_id", "lat", "lon", "h3_r5", "h3_r6", "h3_r7", "h3_r8", "h3_r9")
    }
    versions = _versions_load({p.checklist_version_id for _i, p in fresh})
    # The stops are locked (in id order) so that two batches racing for one stop cannot both complete it.
    stops = {
        row["id"]: row
        for row in RoundStop.objects.filter(id__any={p.round_stop_id for _i, p in fresh if p.round_stop_id})
        .order_by("id")
        .select_for_update(of=("self",), no_key=True)
        .values(
            "id",
            "establishment_id",
            "status",
            "round_id",
            "round__inspector_id",
            "round__status",
            "round__checklist_id",
            "round__date",
            "is_follow_up",
        )
    }
    # When the findings a follow-up stop re-checks were opened: the start of its window.
    follow_up_since = dict(
        Finding.objects.filter(
            follow_up_stop_id__any=[stop_id for stop_id, stop in stops.items() if stop["is_follow_up"]]
        )
        .values("follow_up_stop_id")
        .annotate(first=Min("opened_at"))
        .values_list("follow_up_stop_id", "first")
        .order_by()
    )
    for stop_id, stop in stops.items():
        stop["follow_up_since"] = follow_up_since.get(stop_id)
    claimed_stops: set[int] = set()  # a stop is completed by one visit only, in a batch too

    # 3. Validate each visit against them.
    checked: list[CheckedVisit] = []
    for index, payload in fresh:
        outcome = _visit_check(
            index=index,
            payload=payload,
            inspector=inspector,
            scope=scope,
            now=now,
            establishments=establishments,
            versions=versions,
            stops=stops,
            claimed_stops=claimed_stops,
        )
        if isinstance(outcome, CheckedVisit):
            checked.append(outcome)
            if payload.round_stop_id is not None:
                claimed_stops.add(payload.round_stop_id)
        else:
            results[index] = SyncResult(str(payload.client_id), "rejected", errors=outcome)

    # 4. Geo-verification and impossible travel (against stored visits and earlier ones of the batch).
    for visit in checked:
        location = visit.payload.location
        fix = Fix(location.lat, location.lon, location.accuracy_m) if location else None
        geo = geo_verify(
            fix=fix, establishment_lat=visit.establishment["lat"], establishment_lon=visit.establishment["lon"]
        )
        visit.geo_status, visit.geo_distance_m = geo.status, geo.distance_m
    if checked:
        _travel_flag(inspector=inspector, visits=checked)

    # 5. Set-based writes.
    if checked:
        _visits_store(
            inspector=inspector, visits=checked, now=now, results=results, fingerprints=fingerprints, replays=replays
        )

    for index, first in repeats:
        first_result = results[first]
        status = "rejected" if first_result.status == "rejected" else "duplicate"
        repeat = SyncResult(first_result.client_id, status, first_result.visit_id, list(first_result.errors))
        if status == "duplicate":
            again = VisitSyncIn.model_validate(visits[index])
            repeat.payload_differed = payload_fingerprint(again) != fingerprints[again.client_id]
            if repeat.payload_differed:
                first_payload = visits_parsed[first]
                municipality_id = (
                    stored[again.client_id][2]
                    if again.client_id in stored
                    else establishments.get(first_payload.establishment_id, {}).get("municipality_id")
                )
                replays.append((repeat, municipality_id, payload_fingerprint(again)))
        results[index] = repeat
    _replays_audit(inspector=inspector, replays=replays, now=now)
    return results


def _replays_audit(*, inspector, replays: list[tuple[SyncResult, int | None, str]], now) -> None:
    """One audit event per replay whose content differed from the stored visit (kept as it was)."""
    audit_record_many(
        [
            AuditEntry(
                actor_id=inspector.pk,
                action="visit.replay_differed",
                object_type="inspections.visit",
                object_id=result.visit_id,
                municipality_id=municipality_id,
                details={"client_id": result.client_id, "replay_sha256": replay_sha},
                at=now,
            )
            for result, municipality_id, replay_sha in replays
        ]
    )


def _replay_result(
    client_id: uuid.UUID,
    visit_id: int,
    owner_id: int,
    municipality_id: int | None = None,
    stored_fingerprint: str = "",
    *,
    inspector,
    fingerprint: str = "",
    replays: list | None = None,
) -> SyncResult:
    if owner_id == inspector.pk:
        result = SyncResult(str(client_id), "duplicate", visit_id)
        if stored_fingerprint and fingerprint:
            result.payload_differed = stored_fingerprint != fingerprint
            if result.payload_differed and replays is not None:
                replays.append((result, municipality_id, fingerprint))
        return result
    # Never reveal another inspector's visit: no id, no details.
    return SyncResult(
        str(client_id),
        "rejected",
        errors=[_error(["client_id"], _("This client_id is already used by another visit."), "client_id_conflict")],
    )


def _versions_load(version_ids: set[int]) -> dict[int, VersionInfo]:
    if not version_ids:
        return {}
    rows = list(
        ChecklistVersion.objects.filter(id__in=version_ids)
        .order_by()
        .values("id", "checklist_id", "status", "published_at")
    )
    checklist_categories = defaultdict(set)
    for checklist_id, category_id in (
        Checklist.categories.through.objects.filter(checklist_id__in={row["checklist_id"] for row in rows})
        .order_by()
        .values_list("checklist_id", "category_id")
    ):
        checklist_categories[checklist_id].add(category_id)
    item_categories = defaultdict(set)
    for item_id, category_id in (
        ChecklistItem.categories.through.objects.filter(checklistitem__version_id__in=version_ids)
        .order_by()
        .values_list("checklistitem_id", "category_id")
    ):
        item_categories[item_id].add(category_id)
    versions = {
        row["id"]: VersionInfo(
            id=row["id"],
            checklist_id=row["checklist_id"],
            status=row["status"],
            published_at=row["published_at"],
            checklist_category_ids=frozenset(checklist_categories[row["checklist_id"]]),
            items={},
        )
        for row in rows
    }
    for item in (
        ChecklistItem.objects.filter(version_id__in=version_ids)
        .order_by("version_id", "position", "id")  # Meta.ordering's, without joining version and checklist
        .values(
            "id",
            "version_id",
            "code",
            "answer_type",
            "choices",
            "failing_choices",
            "min_value",
            "max_value",
            "severity",
            "fine_sar",
            "required",
        )
    ):
        versions[item["version_id"]].items[item["code"]] = ItemInfo(
            id=item["id"],
            code=item["code"],
            answer_type=item["answer_type"],
            choices=tuple(item["choices"] or ()),
            failing_choices=tuple(item["failing_choices"] or ()),
            min_value=item["min_value"],
            max_value=item["max_value"],
            severity=item["severity"],
            fine_sar=item["fine_sar"],
            required=item["required"],
            category_ids=frozenset(item_categories[item["id"]]),
        )
    return versions


def _visit_check(
    *, index, payload: VisitSyncIn, inspector, scope, now, establishments, versions, stops, claimed_stops=frozenset()
) -> CheckedVisit | list[dict]:
    """The visit ready to store, or its errors."""
    errors: list[dict] = []

    # Clocks: device times, recorded offline possibly days ago.
    if payload.started_at > payload.finished_at:
        errors.append(_error(["started_at"], _("started_at is after finished_at."), "clock_order"))
    if payload.finished_at > now + settings.VISIT_MAX_FUTURE_SKEW:
        errors.append(
            _error(["finished_at"], _("finished_at is in the future: check the phone's clock."), "clock_future")
        )
    if payload.finished_at < now - settings.VISIT_MAX_AGE:
        errors.append(
            _error(
                ["finished_at"],
                _(
                    "The visit finished more than %(days)s days ago: older visits are refused "
                    "(the limit is the VISIT_MAX_AGE_DAYS setting)."
                )
                % {"days": settings.VISIT_MAX_AGE.days},
                "clock_too_old",
            )
        )
    if payload.finished_at - payload.started_at > settings.VISIT_MAX_DURATION:
        # Refused, not flagged: a stored visit is evidence and is never updated in place, so a wrong
        # start time would stay wrong for good; refused, the phone keeps the visit and its inspector
        # can correct the clock (docs/visits.md).
        errors.append(
            _error(
                ["started_at"],
                _("The visit lasts longer than %(hours)s hours: check the phone's clock.")
                % {"hours": int(settings.VISIT_MAX_DURATION.total_seconds() // 3600)},
                "duration_too_long",
            )
        )

    # Establishment in the inspector's scope (out of scope looks exactly like unknown).
    establishment = establishments.get(payload.establishment_id)
    if establishment is None or not scope.covers(establishment["municipality_id"]):
        errors.append(_error(["establishment_id"], _("Unknown establishment."), "unknown_establishment"))
        establishment = None

    version = versions.get(payload.checklist_version_id)
    if version is None or version.status == ChecklistVersion.Status.DRAFT:
        errors.append(_error(["checklist_version_id"], _("Unknown checklist version."), "unknown_checklist_version"))
        version = None
    elif version.status == ChecklistVersion.Status.RETIRED and (
        version.published_at is None or version.published_at > payload.started_at
    ):
        # A retired version is accepted only for visits started while it could have been on the phone.
        errors.append(_error(["checklist_version_id"], _("This checklist version is retired."), "retired_version"))
        version = None
    elif (
        establishment is not None
        and version.checklist_category_ids
        and establishment["category_id"] not in version.checklist_category_ids
    ):
        errors.append(
            _error(
                ["checklist_version_id"],
                _("This checklist does not apply to the establishment's category."),
                "checklist_not_applicable",
            )
        )
        version = None

    if payload.round_stop_id is not None:
        stop = stops.get(payload.round_stop_id)
        if stop is None or stop["round__inspector_id"] != inspector.pk:
            errors.append(_error(["round_stop_id"], _("Unknown round stop."), "unknown_round_stop"))
        elif stop["establishment_id"] != payload.establishment_id:
            errors.append(
                _error(["round_stop_id"], _("The round stop is for another establishment."), "round_stop_mismatch")
            )
        elif stop["status"] == RoundStop.Status.CANCELLED or stop["round__status"] == "cancelled":
            errors.append(_error(["round_stop_id"], _("The round stop was cancelled."), "round_stop_cancelled"))
        elif stop["status"] == RoundStop.Status.VISITED or stop["id"] in claimed_stops:
            errors.append(
                _error(["round_stop_id"], _("Another visit already completed this round stop."), "round_stop_visited")
            )
        elif not round_day_covers(
            round_day=stop["round__date"],
            finished_at=payload.finished_at,
            tz=timezone.get_default_timezone(),
            tolerance=settings.ROUND_STOP_DAY_TOLERANCE,
            follow_up_since=stop["follow_up_since"],
        ):
            errors.append(
                _error(
                    ["round_stop_id"],
                    _("The visit was not made on the round's day (%(day)s).")
                    % {"day": stop["round__date"].isoformat()},
                    "round_stop_other_day",
                )
            )
        elif version is not None and stop["round__checklist_id"] != version.checklist_id:
            errors.append(
                _error(
                    ["checklist_version_id"],
                    _("The round uses another checklist."),
                    "round_checklist_mismatch",
                )
            )

    answers: list[CheckedAnswer] = []
    if version is not None and establishment is not None:
        answers = _answers_check(payload=payload, version=version, establishment=establishment, errors=errors)

    if errors:
        return errors
    return CheckedVisit(index=index, payload=payload, establishment=establishment, answers=answers)


def _answers_check(*, payload: VisitSyncIn, version: VersionInfo, establishment: dict, errors: list) -> list:
    category_id = establishment["category_id"]
    answers: list[CheckedAnswer] = []
    seen: set[str] = set()
    for position, answer in enumerate(payload.answers):
        loc = ["answers", position]
        item = version.items.get(answer.item_code)
        if item is None:
            errors.append(_error([*loc, "item_code"], _("Unknown item code."), "unknown_item"))
            continue
        if answer.item_code in seen:
            errors.append(_error([*loc, "item_code"], _("The item is answered twice."), "duplicate_item"))
            continue
        seen.add(answer.item_code)
        if item.category_ids and category_id not in item.category_ids:
            errors.append(
                _error(
                    [*loc, "item_code"],
                    _("The item does not apply to the establishment's category."),
                    "item_not_applicable",
                )
            )
            continue
        failed = answer_failed(item, answer.value)
        if failed is None:
            errors.append(_error([*loc, "value"], _("The value does not fit the item's answer type."), "invalid_value"))
            continue
        answers.append(CheckedAnswer(item=item, value=answer.value, failed=failed, note=answer.note))

    failed_count = sum(1 for answer in answers if answer.failed)
    outcome = payload.outcome
    if outcome in NO_ANSWERS_NEEDED:
        if failed_count:
            errors.append(
                _error(["outcome"], _("A closed or refused visit cannot record failed items."), "outcome_mismatch")
            )
        return answers
    missing = [
        item.code
        for item in version.items.values()
        if item.required and item.code not in seen and (not item.category_ids or category_id in item.category_ids)
    ]
    if missing:
        errors.append(
            _error(
                ["answers"],
                _("Required items are not answered: %(codes)s") % {"codes": ", ".join(missing)},
                "missing_items",
            )
        )
    if outcome == Outcome.VIOLATIONS and not failed_count:
        errors.append(
            _error(["outcome"], _("Outcome 'violations' needs at least one failed item."), "outcome_mismatch")
        )
    if outcome == Outcome.COMPLIANT and failed_count:
        errors.append(_error(["outcome"], _("Outcome 'compliant' cannot have failed items."), "outcome_mismatch"))
    return answers


def _travel_flag(*, inspector, visits: list[CheckedVisit]) -> None:
    first = min(visit.payload.finished_at for visit in visits)
    last = max(visit.payload.finished_at for visit in visits)
    # Only visits with a fix can be "the previous visit": those stored between the batch's first and
    # last visit, plus the latest one before the first (within the look-back).
    with_fix = Visit.objects.filter(inspector=inspector, lat__isnull=False).values_list(
        "started_at", "finished_at", "lat", "lon"
    )
    rows = list(with_fix.filter(finished_at__gte=first, finished_at__lte=last))
    rows += list(
        with_fix.filter(finished_at__lt=first, finished_at__gte=first - TRAVEL_LOOKBACK).order_by("-finished_at")[:1]
    )
    stored = [TravelPoint(key=None, started_at=row[0], finished_at=row[1], lat=row[2], lon=row[3]) for row in rows]
    new = [
        TravelPoint(
            key=visit.index,
            started_at=visit.payload.started_at,
            finished_at=visit.payload.finished_at,
            lat=visit.payload.location.lat if visit.payload.location else None,
            lon=visit.payload.location.lon if visit.payload.location else None,
        )
        for visit in visits
    ]
    flagged = impossible_travel_keys(new=new, stored=stored)
    for visit in visits:
        visit.impossible_travel = visit.index in flagged


VISIT_FIELDS = [
    "client_id",
    "establishment_id",
    "round_stop_id",
    "inspector_id",
    "checklist_version_id",
    "municipality_id",
    "category_id",
    "started_at",
    "finished_at",
    "received_at",
    "lat",
    "lon",
    "accuracy_m",
    "outcome",
    "notes",
    "geo_status",
    "geo_distance_m",
    "impossible_travel",
    "has_violation",
    "violation_count",
    "h3_r5",
    "h3_r6",
    "h3_r7",
    "h3_r8",
    "h3_r9",
    "payload_sha256",
]


def _visits_store(
    *, inspector, visits: list[CheckedVisit], now, results: list, fingerprints: dict, replays: list
) -> None:
    # Sorted by client_id: concurrent batches take the unique-index locks in the same order (no deadlock).
    visits.sort(key=lambda visit: visit.payload.client_id)
    rows = []
    for visit in visits:
        payload, establishment, location = visit.payload, visit.establishment, visit.payload.location
        count = visit.violation_count
        rows.append(
            (
                payload.client_id,
                payload.establishment_id,
                payload.round_stop_id,
                inspector.pk,
                payload.checklist_version_id,
                establishment["municipality_id"],
                establishment["category_id"],
                payload.started_at,
                payload.finished_at,
                now,
                location.lat if location else None,
                location.lon if location else None,
                location.accuracy_m if location else None,
                payload.outcome,
                payload.notes,
                visit.geo_status,
                visit.geo_distance_m,
                visit.impossible_travel,
                count > 0,
                count,
                establishment["h3_r5"],
                establishment["h3_r6"],
                establishment["h3_r7"],
                establishment["h3_r8"],
                establishment["h3_r9"],
                fingerprints[payload.client_id],
            )
        )
    inserted = dict(
        insert_returning(Visit, VISIT_FIELDS, rows, returning=("client_id", "id"), conflict_field="client_id")
    )
    created: list[CheckedVisit] = []
    lost = []
    for visit in visits:
        visit_id = inserted.get(visit.payload.client_id)
        if visit_id is None:
            lost.append(visit)
        else:
            visit.visit_id = visit_id
            created.append(visit)
            results[visit.index] = SyncResult(str(visit.payload.client_id), "created", visit_id)
    if lost:
        # Stored meanwhile by a concurrent request (the insert waited for it and skipped the row).
        raced = {
            row[0]: row[1:]
            for row in Visit.objects.filter(client_id__any=[visit.payload.client_id for visit in lost])
            .order_by()
            .values_list("client_id", "id", "inspector_id", "municipality_id", "payload_sha256")
        }
        for visit in lost:
            results[visit.index] = _replay_result(
                visit.payload.client_id,
                *raced[visit.payload.client_id],
                inspector=inspector,
                fingerprint=fingerprints[visit.payload.client_id],
                replays=replays,
            )
    if not created:
        return

    answer_rows = [
        (visit.visit_id, answer.item.id, answer.item.code, answer.value, answer.failed, answer.note)
        for visit in created
        for answer in visit.answers
    ]
    # Only the failed answers' ids come back: their findings point to them (a batch of 100 visits
    # writes 1,000 answers and fails a few dozen).
    answer_ids = {
        (visit_id, item_id): answer_id
        for answer_id, visit_id, item_id in insert_returning(
            Answer,
            ["visit_id", "item_id", "item_code", "value", "failed", "note"],
            answer_rows,
            returning=("id", "visit_id", "item_id"),
            returning_if="failed",
        )
    }
    for visit in created:
        for answer in visit.answers:
            if answer.failed:
                answer.answer_id = answer_ids[(visit.visit_id, answer.item.id)]

    received = [
        AuditEntry(
            actor_id=inspector.pk,
            action="visit.received",
            object_type="inspections.visit",
            object_id=visit.visit_id,
            municipality_id=visit.establishment["municipality_id"],
            details={"client_id": str(visit.payload.client_id), "geo_status": visit.geo_status},
            at=now,
        )
        for visit in created
    ]

    # Findings first (they lock establishments in id order), rounds last: one lock order for every batch.
    # The visits' audit events and the findings' are written together.
    audit_record_many(received + findings_service.findings_apply(inspector=inspector, visits=created, now=now))

    stop_ids = sorted({visit.payload.round_stop_id for visit in created if visit.payload.round_stop_id})
    if stop_ids:
        RoundStop.objects.filter(id__any=stop_ids).exclude(status=RoundStop.Status.VISITED).update(
            status=RoundStop.Status.VISITED, updated_at=now
        )
        _rounds_refresh(RoundStop.objects.filter(id__any=stop_ids).values_list("round_id", flat=True).distinct())
    visits_stored.send(sender=Visit, visit_ids=[visit.visit_id for visit in created])  # roll-ups: locks taken last


def _rounds_refresh(round_ids) -> None:
    for round_id in sorted(set(round_ids)):
        round_refresh_status(round_id=round_id)
