"""Demo data: today's rounds (part of `manage.py seed_demo`). Idempotent: a second run adds nothing.

Every demo inspector gets one round today (Asia/Riyadh date) of 6-10 establishments of their
municipality, planned through `round_create` by the municipality's supervisor with route
optimisation, so the audit trail and the notification outbox fill in as they would in real use.
A round is a neighbourhood: the stops are the establishments nearest to a randomly picked one.
Inspectors who already have a round today are skipped.
"""

import random

from django.contrib.auth import get_user_model

from inspections.demo.records import demo_ids, demo_only, municipalities_watched_by_others
from inspections.domain.calendar import riyadh_today
from inspections.models import Checklist, ChecklistVersion, Establishment, Membership, Municipality, Round
from inspections.services.rounds import round_create

User = get_user_model()
Role = Membership.Role
MIN_STOPS, MAX_STOPS = 6, 10
CHECKLIST_CODES = ["covid19-shops", "food-hygiene-licence"]


def _planner_for(municipality: Municipality):
    """A demo supervisor of the municipality (or of its whole Amanah); the demo admin as a last resort."""
    demo_users = demo_only(User.objects.filter(is_active=True))
    supervisors = demo_users.filter(membership__role=Role.SUPERVISOR)
    return (
        supervisors.filter(membership__municipalities=municipality).order_by("id").first()
        or supervisors.filter(membership__amanah_id=municipality.parent_id).order_by("id").first()
        or demo_users.filter(membership__role=Role.ADMIN).order_by("id").first()
    )


def _neighbourhood(establishments: list[Establishment], count: int, rng: random.Random) -> list[Establishment]:
    centre = rng.choice(establishments)

    def squared_degrees(establishment: Establishment) -> float:  # ranking only: no need for geodesics here
        return (establishment.lat - centre.lat) ** 2 + (establishment.lon - centre.lon) ** 2

    return sorted(establishments, key=squared_degrees)[:count]


def seed(*, stdout=None) -> None:
    today = riyadh_today()
    published = demo_only(Checklist.objects.all()).filter(
        is_active=True, versions__status=ChecklistVersion.Status.PUBLISHED
    )
    checklists = list(published.filter(code__in=CHECKLIST_CODES).order_by("code")) or list(published.order_by("id"))
    if not checklists:
        return
    inspectors = list(
        demo_only(User.objects.all())
        .filter(is_active=True, membership__role=Role.INSPECTOR)
        .select_related("membership")
        .order_by("username")
    )
    watched = municipalities_watched_by_others()
    created = 0
    for index, inspector in enumerate(inspectors):
        if Round.objects.filter(inspector=inspector, date=today).exists():
            continue
        rng = random.Random(f"{inspector.username}:{today.isoformat()}")
        municipalities = list(inspector.membership.municipalities.exclude(pk__in=watched).order_by("code"))
        rng.shuffle(municipalities)
        checklist = checklists[index % len(checklists)]
        category_ids = list(checklist.categories.values_list("id", flat=True))
        for municipality in municipalities:
            candidates = Establishment.objects.filter(
                municipality=municipality, pk__in=demo_ids(Establishment)
            ).exclude(status=Establishment.Status.CLOSED)
            if category_ids:  # only shops the round's checklist applies to
                candidates = candidates.filter(category_id__in=category_ids)
            establishments = list(candidates.order_by("id"))
            planner = _planner_for(municipality)
            if len(establishments) < MIN_STOPS or planner is None:
                continue
            stops = _neighbourhood(establishments, rng.randint(MIN_STOPS, MAX_STOPS), rng)
            round_create(
                actor=planner,
                inspector_id=inspector.pk,
                date=today,
                checklist_id=checklist.pk,
                establishment_ids=[establishment.pk for establishment in stops],
                optimize_route=True,
                notes="Demo round",
            )
            created += 1
            break
    if stdout is not None:
        stdout.write(f"  {created} rounds for {today.isoformat()} ({len(inspectors)} inspectors)")
