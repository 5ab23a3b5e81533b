"""Follow-up placement after the visit sync (issue 16 item 7): the sync records the follow-up in its
own transaction and queues its placement on commit; nothing is lost when that task never runs."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from kombu.exceptions import OperationalError

from inspections import tasks
from inspections.models import Finding, FollowUpPending, Round, RoundStop
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(dammam, inspector, supervisor):
    version, _items = make_checklist()
    return {"version": version, "shops": [shop(dammam), shop(dammam)], "inspector": inspector}


def violating_sync(api, setup, *, execute: bool):
    """Sync two violating visits; `execute=False` is a crash between the commit and the task."""
    now = timezone.now()
    visits = [
        visit_payload(s, setup["version"], finished_at=now - timedelta(minutes=30 - n), MASKS="no")
        for n, s in enumerate(setup["shops"])
    ]
    with TestCase.captureOnCommitCallbacks(execute=execute) as queued:
        response = api.as_user(setup["inspector"]).post("visits/sync", {"visits": visits})
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created"] * len(setup["shops"])
    return queued


def assert_placed(setup):
    assert not FollowUpPending.objects.exists()
    stops = RoundStop.objects.filter(is_follow_up=True, status="pending")
    assert sorted(stops.values_list("establishment_id", flat=True)) == sorted(s.pk for s in setup["shops"])
    stop_of = dict(stops.values_list("establishment_id", "id"))
    findings = Finding.objects.filter(status="open")
    assert findings.count() == 2
    for finding in findings:
        assert finding.follow_up_stop_id == stop_of[finding.establishment_id]


def test_the_task_queued_on_commit_places_the_follow_ups(api, setup):
    queued = violating_sync(api, setup, execute=True)
    assert len(queued) >= 1
    assert_placed(setup)


def age_pending(seconds: int) -> None:
    FollowUpPending.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_a_crash_between_commit_and_task_is_placed_by_the_sweeper(api, setup):
    violating_sync(api, setup, execute=False)  # committed, but the task never ran
    assert FollowUpPending.objects.count() == 2  # one per establishment, durable
    assert not RoundStop.objects.filter(is_follow_up=True).exists()
    assert set(Finding.objects.values_list("follow_up_stop_id", flat=True)) == {None}

    assert tasks.follow_ups_sweep() == 0  # younger than the sweeper's margin: the task may still come
    assert FollowUpPending.objects.count() == 2
    age_pending(120)
    assert tasks.follow_ups_sweep() == 2
    assert_placed(setup)
    assert tasks.follow_ups_sweep() == 0  # idempotent: nothing left, nothing placed twice
    assert RoundStop.objects.filter(is_follow_up=True).count() == 2


def test_a_late_task_after_the_sweeper_places_nothing_twice(api, setup):
    queued = violating_sync(api, setup, execute=False)
    age_pending(120)
    assert tasks.follow_ups_sweep() == 2
    for callback in queued:  # the task finally arrives
        callback()
    assert_placed(setup)
    assert RoundStop.objects.filter(is_follow_up=True).count() == 2


def test_a_broker_outage_does_not_fail_the_sync_and_the_sweeper_places_later(api, setup, monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("broker down")

    monkeypatch.setattr(tasks.follow_ups_place, "delay", broker_down)
    violating_sync(api, setup, execute=True)
    assert FollowUpPending.objects.count() == 2
    age_pending(120)
    assert tasks.follow_ups_sweep() == 2
    assert_placed(setup)


def test_a_second_violation_before_placement_shares_the_one_follow_up(api, setup):
    violating_sync(api, setup, execute=False)
    violating_sync(api, setup, execute=False)  # the same shops fail again (repeats, no new findings)
    age_pending(120)
    tasks.follow_ups_sweep()
    assert_placed(setup)


def _placement_queries(api, setup, dammam, shops: int) -> int:
    """Queries the placement of `shops` recorded follow-ups costs; each finding ends on its stop."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inspections.services.rounds.follow_ups import follow_ups_place_pending

    setup = {**setup, "shops": [shop(dammam) for _ in range(shops)]}
    violating_sync(api, setup, execute=False)
    pending = list(FollowUpPending.objects.values_list("id", flat=True))
    assert len(pending) == shops
    with CaptureQueriesContext(connection) as queries:
        assert follow_ups_place_pending(ids=pending) == shops
    assert not FollowUpPending.objects.exists()
    stop_of = dict(
        RoundStop.objects.filter(is_follow_up=True, establishment__in=setup["shops"]).values_list(
            "establishment_id", "id"
        )
    )
    findings = Finding.objects.filter(establishment__in=setup["shops"])
    assert len(stop_of) == findings.count() == shops
    assert {(f.establishment_id, f.follow_up_stop_id) for f in findings} == set(stop_of.items())
    return len(queries)


def test_placing_more_follow_ups_costs_no_more_queries(api, setup, dammam):
    """The findings are pointed to their stops in one statement for the batch, not one per row."""
    few = _placement_queries(api, setup, dammam, 2)
    Round.objects.update(status=Round.Status.CANCELLED)  # the next batch starts a new round again
    many = _placement_queries(api, setup, dammam, 6)
    assert many == few
