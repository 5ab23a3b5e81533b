"""Issue 11 item 9: a repeated failure of an open finding is recorded on it (count and the latest
visit, an audit event) and a repeated critical failure alerts the supervisors again, once per visit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.models import AuditEvent, Finding
from notifications.models import Notification
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(dammam, inspector, supervisor):
    version, items = make_checklist()
    return {"version": version, "shop": shop(dammam)}


def _sync(api, user, visits):
    response = api.as_user(user).post("visits/sync", {"visits": visits})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_repeat_is_counted_with_its_latest_visit(api, setup, inspector, supervisor):
    now = timezone.now()
    first, second, third = (
        visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=days), MASKS="no")
        for days in (5, 1, 3)
    )
    [opened] = _sync(api, inspector, [first])
    [again] = _sync(api, inspector, [second])
    finding = Finding.objects.get(item_code="MASKS")
    assert (finding.repeat_count, finding.last_seen_visit_id) == (1, again["visit_id"])
    # Synced late, finished between: counted, but the latest visit stays the latest.
    [between] = _sync(api, inspector, [third])
    finding.refresh_from_db()
    assert (finding.repeat_count, finding.last_seen_visit_id) == (2, again["visit_id"])
    assert finding.visit_id == opened["visit_id"] and Finding.objects.count() == 1
    events = AuditEvent.objects.filter(action="finding.repeated", object_id=str(finding.pk))
    assert sorted(event.details["visit_id"] for event in events) == sorted([again["visit_id"], between["visit_id"]])
    listed = api.as_user(supervisor).get("findings", {"status": "open"}).json()["items"]
    assert [(row["repeat_count"], row["last_seen_visit_id"]) for row in listed] == [(2, again["visit_id"])]


def test_a_visit_older_than_the_finding_is_no_repeat(api, setup, inspector):
    now = timezone.now()
    _sync(
        api,
        inspector,
        [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=1), MASKS="no")],
    )
    _sync(
        api,
        inspector,
        [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=4), MASKS="no")],
    )
    finding = Finding.objects.get(item_code="MASKS")
    assert (finding.repeat_count, finding.last_seen_visit_id) == (0, None)


def test_a_repeated_critical_failure_alerts_the_supervisors_again(api, setup, inspector, supervisor):
    now = timezone.now()
    first = visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=2), EXPIRED="no")
    second = visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(hours=2), EXPIRED="no")
    _sync(api, inspector, [first])
    assert Notification.objects.filter(recipient=supervisor).count() == 1
    [again] = _sync(api, inspector, [second])
    notes = Notification.objects.filter(recipient=supervisor).order_by("id")
    assert notes.count() == 2
    repeat = notes.last()
    assert repeat.kind == "critical_finding"
    assert repeat.payload["visit_id"] == str(again["visit_id"]) and repeat.payload["repeat_count"] == "1"
    assert "repeated" in repeat.title.lower() or "تكرار" in repeat.title
    _sync(api, inspector, [second])  # a replay of the same visit alerts no one
    assert Notification.objects.filter(recipient=supervisor).count() == 2


def test_a_minor_repeat_is_recorded_without_an_alert(api, setup, inspector, supervisor):
    now = timezone.now()
    for days in (3, 1):
        _sync(
            api,
            inspector,
            [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=days), MASKS="no")],
        )
    assert Finding.objects.get(item_code="MASKS").repeat_count == 1
    assert Notification.objects.filter(recipient=supervisor).count() == 0


def test_a_repeat_inside_one_offline_batch(api, setup, inspector, supervisor):
    now = timezone.now()
    visits = [
        visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=days), EXPIRED="no")
        for days in (2, 1)
    ]
    results = _sync(api, inspector, visits)
    finding = Finding.objects.get(item_code="EXPIRED")
    assert (finding.repeat_count, finding.last_seen_visit_id) == (1, results[1]["visit_id"])
    kinds = list(Notification.objects.filter(recipient=supervisor).values_list("title", flat=True))
    assert len(kinds) == 2  # the critical finding, then its repetition


def test_a_stored_finding_failed_again_then_passed_in_one_batch(api, setup, inspector):
    """One offline batch fails an open finding's item again, then passes it: the finding keeps the
    repeat (count and latest visit) and is closed by the passing visit; an untouched one stays as it was."""
    now = timezone.now()
    [opened] = _sync(
        api,
        inspector,
        [
            visit_payload(
                setup["shop"], setup["version"], finished_at=now - timedelta(days=5), MASKS="no", SANITISER="no"
            )
        ],
    )
    again, passed = _sync(
        api,
        inspector,
        [
            visit_payload(
                setup["shop"], setup["version"], finished_at=now - timedelta(days=2), MASKS="no", SANITISER="no"
            ),
            visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=1), SANITISER="no"),
        ],
    )
    masks, sanitiser = Finding.objects.get(item_code="MASKS"), Finding.objects.get(item_code="SANITISER")
    assert (masks.status, masks.closed_by_visit_id, masks.closed_at) == (
        Finding.Status.CLOSED,
        passed["visit_id"],
        now - timedelta(days=1),
    )
    assert (masks.repeat_count, masks.last_seen_visit_id) == (1, again["visit_id"])
    # SANITISER failed in both later visits: open, counted twice, the latest visit the last one.
    assert (sanitiser.status, sanitiser.closed_by_visit_id) == (Finding.Status.OPEN, None)
    assert (sanitiser.repeat_count, sanitiser.last_seen_visit_id) == (2, passed["visit_id"])
    assert masks.visit_id == sanitiser.visit_id == opened["visit_id"]
    closed = AuditEvent.objects.get(action="finding.closed", object_id=str(masks.pk))
    assert closed.details == {"closed_by_visit_id": passed["visit_id"]}
