"""Deferred roll-ups under concurrency (PostgreSQL, real transactions on their own connections): flushes
racing each other, and a flush racing admin edits and deletions of the very visits it is adding. Each
visit is counted once, the figures end exact (analytics/rollups.py's guarantee)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from analytics.models import RollupPending, VisitDay
from analytics.rollups import rollups_flush
from inspections.models import Visit
from inspections.services.visits import visit_sync
from tests.concurrency_support import run_at_once
from tests.test_analytics_rollups import assert_exact
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL (concurrent writers)"),
]


def _sync(inspector, establishments, version, count: int, offset: int = 0) -> list[int]:
    now = timezone.now()
    payloads = [
        visit_payload(
            establishments[i % len(establishments)],
            version,
            finished_at=now - timedelta(hours=1 + i + offset),
            **({"MASKS": "no"} if i % 3 == 0 else {}),
        )
        for i in range(count)
    ]
    results = visit_sync(inspector=inspector, visits=payloads)
    assert {r.status for r in results} == {"created"}
    return [r.visit_id for r in results]


@override_settings(ROLLUPS_DEFERRED=True)
def test_two_flushes_at_once_add_each_pending_visit_once(dammam, inspector):
    version, _ = make_checklist()
    establishments = [shop(dammam) for _ in range(4)]
    for round_number in range(3):
        _sync(inspector, establishments, version, 60, offset=100 * round_number)
        added = run_at_once([lambda: rollups_flush(batch=25), lambda: rollups_flush(batch=25)])
        assert all(isinstance(count, int) for count in added), added
        assert sum(added) == 60, added  # shared between them, none twice
        assert not RollupPending.objects.exists()
        assert_exact(("two flushes", round_number))
    assert sum(VisitDay.objects.values_list("visits", flat=True)) == 180


@override_settings(ROLLUPS_DEFERRED=True)
def test_a_flush_racing_edits_and_deletions_of_pending_visits_counts_each_once(dammam, inspector):
    version, _ = make_checklist()
    establishments = [shop(dammam) for _ in range(4)]
    for round_number in range(6):
        ids = _sync(inspector, establishments, version, 40, offset=100 * round_number)
        # Compliant visits that closed no finding (a visit that closed one is kept: protected).
        compliant = list(
            Visit.objects.filter(id__in=ids, has_violation=False, closed_findings__isnull=True).order_by("id")
        )
        edited, deleted = compliant[:6], compliant[6:9]

        def edit(visits=edited):
            with transaction.atomic():
                for visit in visits:
                    visit.outcome = "closed" if visit.outcome != "closed" else "compliant"
                    visit.finished_at -= timedelta(hours=5)
                    visit.save()

        def delete(visits=deleted):
            with transaction.atomic():
                for visit in visits:
                    visit.delete()

        # The flush against one writer at a time (two admin transactions editing the same days'
        # roll-up rows in different orders may deadlock each other, deferred or not).
        outcomes = run_at_once([lambda: rollups_flush(batch=7), edit if round_number % 2 else delete])
        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
        assert_exact(("raced", round_number))  # pending visits left out, every other one exact
        rollups_flush()
        assert not RollupPending.objects.exists()
        assert_exact(("flushed", round_number))
    assert all(row.visits >= 0 and row.violating >= 0 for row in VisitDay.objects.all())
