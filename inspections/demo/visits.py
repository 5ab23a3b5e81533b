"""Demo data: six weeks of past visits for every demo inspector (part of `manage.py seed_demo`).

The visits go through the real sync service (`visit_sync`), so findings, follow-up stops, risk
scores, audit events and critical-finding notifications are exactly what production would write.
Idempotent: client ids are uuid5 of (inspector, day, slot), so a second run answers `duplicate`.

The mix is plausible and uneven on purpose (the heatmap needs contrast): each municipality has
its own base violation rate (about 10-40%) scaled per category; 3% of visits find the shop
closed and 1.5% are refused entry; violating establishments are revisited 2-9 working days later,
through their follow-up stop when it is the same inspector's, and most failed items are fixed.
"""

import random
import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from inspections.demo.records import demo_ids, demo_only, municipalities_watched_by_others
from inspections.domain.calendar import riyadh_today
from inspections.models import (
    Checklist,
    ChecklistItem,
    ChecklistVersion,
    Establishment,
    Membership,
    RoundStop,
)

User = get_user_model()
NAMESPACE = uuid.UUID("6f1c2d4e-9a7b-4c3d-8e5f-0a1b2c3d4e5f")
WEEKS = 6
SEVERITY_WEIGHT = {"minor": 5, "major": 3, "critical": 1}


def _working_days(today: date) -> list[date]:
    days = []
    for offset in range(WEEKS * 7, 0, -1):
        day = today - timedelta(days=offset)
        if day.weekday() not in (4, 5):  # Friday and Saturday off (Sunday-Thursday week)
            days.append(day)
    return days


def _checklists() -> dict[int, dict]:
    """Published versions with their items: {checklist_id: {version_id, category_ids, items}}."""
    versions = {}
    for version in ChecklistVersion.objects.filter(
        status=ChecklistVersion.Status.PUBLISHED, checklist__is_active=True, checklist_id__in=demo_ids(Checklist)
    ).select_related("checklist"):
        versions[version.checklist_id] = {
            "version_id": version.pk,
            "category_ids": set(version.checklist.categories.values_list("id", flat=True)),
            "items": [],
        }
    items = ChecklistItem.objects.filter(version_id__in=[v["version_id"] for v in versions.values()]).prefetch_related(
        "categories"
    )
    by_version = {entry["version_id"]: entry for entry in versions.values()}
    for item in items:
        by_version[item.version_id]["items"].append(
            {
                "code": item.code,
                "type": item.answer_type,
                "choices": list(item.choices or []),
                "failing": list(item.failing_choices or []),
                "min": item.min_value,
                "max": item.max_value,
                "severity": item.severity,
                "category_ids": {category.pk for category in item.categories.all()},
            }
        )
    return versions


def _value(item: dict, *, fail: bool):
    if item["type"] == ChecklistItem.AnswerType.NUMBER:
        low, high = item["min"], item["max"]
        if fail:
            return (high + 3) if high is not None else (low - 3)
        if low is not None and high is not None:
            return round((low + high) / 2, 1)
        return (high - 1) if high is not None else ((low + 1) if low is not None else 1)
    if item["type"] == ChecklistItem.AnswerType.CHOICE:
        if fail:
            return item["failing"][0]
        return next(choice for choice in item["choices"] if choice not in item["failing"])
    return "no" if fail else "yes"


def _can_fail(item: dict) -> bool:
    if item["type"] == ChecklistItem.AnswerType.NUMBER:
        return item["min"] is not None or item["max"] is not None
    if item["type"] == ChecklistItem.AnswerType.CHOICE:
        return bool(item["failing"]) and any(choice not in item["failing"] for choice in item["choices"])
    return True


def seed(*, stdout=None) -> None:
    from inspections.services.visits import visit_sync

    checklists = _checklists()
    if not checklists:
        return
    inspectors = list(
        demo_only(User.objects.all())
        .filter(is_active=True, membership__role=Membership.Role.INSPECTOR)
        .order_by("username")
    )
    today = riyadh_today()
    now = timezone.now()
    days = _working_days(today)
    rng_rates = random.Random("jawla-demo-rates")
    municipality_rate: dict[int, float] = {}
    category_factor: dict[int, float] = {}

    watched = municipalities_watched_by_others()
    if watched and stdout is not None:
        stdout.write(f"  no demo visits in {len(watched)} municipalities that users the demo did not create oversee")
    establishments_of: dict[int, list[Establishment]] = {}
    for inspector in inspectors:
        municipality_ids = list(
            inspector.membership.municipalities.exclude(pk__in=watched).values_list("id", flat=True)
        )
        establishments_of[inspector.pk] = list(
            Establishment.objects.filter(
                municipality_id__in=municipality_ids, status=Establishment.Status.ACTIVE, pk__in=demo_ids(Establishment)
            )
            .order_by("id")
            .only("id", "lat", "lon", "municipality_id", "category_id")
        )
        for municipality_id in sorted(municipality_ids):
            municipality_rate.setdefault(municipality_id, rng_rates.uniform(0.10, 0.40))
    for establishment_list in establishments_of.values():
        for establishment in establishment_list:
            category_factor.setdefault(establishment.category_id, 0.0)
    for category_id in sorted(category_factor):
        category_factor[category_id] = rng_rates.uniform(0.6, 1.5)

    revisit_due: dict[int, tuple[date, int, set[str]]] = {}  # establishment -> (day, inspector, failed codes)
    stored = duplicates = 0
    for day_number, day in enumerate(days, start=1):
        if stdout is not None and day_number > 1 and day.weekday() == 6:  # each Sunday: the week before is done
            week = (today - day).days // 7
            stdout.write(f"  past visits: {WEEKS - week} of {WEEKS} weeks, {stored} stored so far...")
            stdout.flush()
        for inspector in inspectors:
            candidates = establishments_of[inspector.pk]
            if not candidates:
                continue
            rng = random.Random(f"{inspector.username}:{day.isoformat()}")
            due = [
                establishment
                for establishment in candidates
                if establishment.pk in revisit_due
                and revisit_due[establishment.pk][0] <= day
                and revisit_due[establishment.pk][1] == inspector.pk
            ]
            count = rng.randint(4, 8)
            chosen = due[: count // 2] + rng.sample(candidates, min(count, len(candidates)))
            seen: set[int] = set()
            plan = [e for e in chosen if not (e.pk in seen or seen.add(e.pk))][:count]
            batch = []
            clock = timezone.make_aware(datetime.combine(day, time(8, 0))) + timedelta(minutes=rng.randint(0, 40))
            for slot, establishment in enumerate(plan):
                applicable = [
                    entry
                    for entry in checklists.values()
                    if not entry["category_ids"] or establishment.category_id in entry["category_ids"]
                ]
                if not applicable:
                    continue
                checklist_entry = applicable[rng.randrange(len(applicable))]
                started = clock + timedelta(minutes=rng.randint(10, 25))
                finished = started + timedelta(minutes=rng.randint(8, 20))
                clock = finished
                if finished >= now:
                    continue
                payload = _visit(
                    rng=rng,
                    inspector=inspector,
                    day=day,
                    slot=slot,
                    establishment=establishment,
                    checklist_entry=checklist_entry,
                    started=started,
                    finished=finished,
                    violation_rate=min(
                        0.7,
                        municipality_rate[establishment.municipality_id] * category_factor[establishment.category_id],
                    ),
                    previously_failed=revisit_due.get(establishment.pk, (None, None, set()))[2],
                )
                failed = {a["item_code"] for a in payload["answers"] if a.pop("_failed", False)}
                if failed:
                    revisit_due[establishment.pk] = (
                        day + timedelta(days=rng.randint(2, 9)),
                        inspector.pk,
                        failed,
                    )
                elif payload["outcome"] == "compliant":
                    revisit_due.pop(establishment.pk, None)
                batch.append(payload)
            if not batch:
                continue
            _attach_follow_up_stops(inspector=inspector, batch=batch, checklists=checklists)
            for result in visit_sync(inspector=inspector, visits=batch):
                if result.status == "created":
                    stored += 1
                elif result.status == "duplicate":
                    duplicates += 1
                elif stdout is not None:
                    stdout.write(f"  demo visit rejected: {result.errors}")
    if stdout is not None:
        stdout.write(f"  {stored} past visits stored, {duplicates} already there ({len(inspectors)} inspectors)")


def _visit(
    *, rng, inspector, day, slot, establishment, checklist_entry, started, finished, violation_rate, previously_failed
):
    client_id = uuid.uuid5(NAMESPACE, f"{inspector.username}:{day.isoformat()}:{slot}")
    roll = rng.random()
    location = _location(rng, establishment)
    payload = {
        "client_id": str(client_id),
        "establishment_id": establishment.pk,
        "checklist_version_id": checklist_entry["version_id"],
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "answers": [],
    }
    if location is not None:
        payload["location"] = location
    if roll < 0.03:
        payload["outcome"] = "closed"
        payload["notes"] = "المحل مغلق / shop closed"
        return payload
    if roll < 0.045:
        payload["outcome"] = "refused_entry"
        return payload
    items = [
        item
        for item in checklist_entry["items"]
        if not item["category_ids"] or establishment.category_id in item["category_ids"]
    ]
    failing: set[str] = set()
    # A revisit: most previously failed items are fixed, a few are not.
    for code in previously_failed:
        if rng.random() < 0.2:
            failing.add(code)
    if not previously_failed and rng.random() < violation_rate:
        candidates = [item for item in items if _can_fail(item)]
        if candidates:
            weights = [SEVERITY_WEIGHT.get(item["severity"], 1) for item in candidates]
            for _ in range(rng.choices([1, 1, 1, 2, 2, 3])[0]):
                failing.add(rng.choices(candidates, weights)[0]["code"])
    failing &= {item["code"] for item in items if _can_fail(item)}
    for item in items:
        fail = item["code"] in failing
        payload["answers"].append({"item_code": item["code"], "value": _value(item, fail=fail), "_failed": fail})
    payload["outcome"] = "violations" if failing else "compliant"
    return payload


def _location(rng, establishment):
    roll = rng.random()
    if roll < 0.04:
        return None  # no GPS fix indoors
    lat = establishment.lat + rng.gauss(0, 0.00012)
    lon = establishment.lon + rng.gauss(0, 0.00012)
    accuracy = round(rng.uniform(4, 25), 1)
    if roll < 0.08:
        accuracy = round(rng.uniform(120, 400), 1)
    elif roll < 0.11:
        lat += 0.003  # parked down the road: out of range
    return {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": accuracy}


def _attach_follow_up_stops(*, inspector, batch: list[dict], checklists: dict) -> None:
    """Revisits go through the establishment's pending follow-up stop when it is this inspector's."""
    version_checklist = {entry["version_id"]: checklist_id for checklist_id, entry in checklists.items()}
    pending = defaultdict(list)
    for stop_id, establishment_id, checklist_id in RoundStop.objects.filter(
        establishment_id__in=[visit["establishment_id"] for visit in batch],
        is_follow_up=True,
        status=RoundStop.Status.PENDING,
        round__inspector=inspector,
    ).values_list("id", "establishment_id", "round__checklist_id"):
        pending[establishment_id].append((stop_id, checklist_id))
    used = set()
    for visit in batch:
        for stop_id, checklist_id in pending.get(visit["establishment_id"], []):
            if stop_id not in used and version_checklist.get(visit["checklist_version_id"]) == checklist_id:
                visit["round_stop_id"] = stop_id
                used.add(stop_id)
                break
