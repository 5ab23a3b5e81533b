"""What the demo seed created, and whether it may write at all.

The demo writes only into an empty database or one it created itself (it holds DemoRecord rows),
and every part of the seed reads its users, municipalities, categories, establishments and
checklists through `demo_only()`, so a real register imported beside the demo is never planned,
visited or notified by it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import models

from inspections.models import Category, Checklist, DemoRecord, Establishment, Membership, Municipality

User = get_user_model()
Kind = DemoRecord.Kind

KINDS: dict[type[models.Model], str] = {
    User: Kind.USER,
    Municipality: Kind.MUNICIPALITY,
    Category: Kind.CATEGORY,
    Establishment: Kind.ESTABLISHMENT,
    Checklist: Kind.CHECKLIST,
}


@dataclass(frozen=True)
class SeedVerdict:
    allowed: bool
    reason: str


def demo_seed_verdict() -> SeedVerdict:
    """May the demo write here? Yes into an empty database or one it made; no into anything else."""
    if DemoRecord.objects.exists():
        return SeedVerdict(True, "a demo database (made by seed_demo)")
    found = {f"{kind}s".replace("ys", "ies"): model.objects.count() for model, kind in KINDS.items()}
    found = {name: count for name, count in found.items() if count}
    if not found:
        return SeedVerdict(True, "an empty database")
    listed = ", ".join(f"{count} {name}" for name, count in found.items())
    return SeedVerdict(
        False,
        f"this database holds data the demo did not create ({listed}), so no demo data is written into it. "
        "For the demo, use an empty database (`make clean` removes the embedded one).",
    )


def demo_is_present() -> bool:
    return DemoRecord.objects.exists()


def demo_record(objects: Iterable[models.Model]) -> None:
    """Mark rows the seed just created as the demo's."""
    DemoRecord.objects.bulk_create(
        [DemoRecord(kind=KINDS[type(instance)], object_id=instance.pk) for instance in objects],
        ignore_conflicts=True,
    )


def demo_only(queryset: models.QuerySet) -> models.QuerySet:
    """`queryset` limited to the rows the demo created (its model's own, or the rows they point to)."""
    kind = KINDS[queryset.model]
    return queryset.filter(pk__in=DemoRecord.objects.filter(kind=kind).values("object_id"))


def demo_ids(model: type[models.Model]) -> models.QuerySet:
    """The ids of `model`'s rows that the demo created, as a subquery."""
    return DemoRecord.objects.filter(kind=KINDS[model]).values("object_id")


def municipalities_watched_by_others() -> set[int]:
    """Municipalities in the scope of an active user the demo did not create (directly or through their
    Amanah). Demo rounds and visits there would reach that user: their dashboards, rates and alerts."""
    others = Membership.objects.filter(user__is_active=True).exclude(user_id__in=demo_ids(User))
    direct = set(others.values_list("municipalities", flat=True))
    amanahs = set(others.exclude(amanah=None).values_list("amanah_id", flat=True))
    within = set(Municipality.objects.filter(parent_id__in=amanahs).values_list("id", flat=True))
    return (direct | amanahs | within) - {None}
