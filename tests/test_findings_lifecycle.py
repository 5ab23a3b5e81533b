"""Findings: opened by failed items, closed by a later passing visit, follow-ups, risk, notifications, API."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from inspections.models import AuditEvent, Finding, Membership, RoundStop
from inspections.services.findings import risk_score
from notifications.models import Notification
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(dammam, khobar, inspector, supervisor):
    version, items = make_checklist()
    return {"version": version, "items": items, "shop": shop(dammam), "inspector": inspector}


def sync(api, user, visits):
    """POST visits/sync and run what the request queued for its commit, as a real commit does (the
    follow-up placement task, eager in tests: the stop exists once the sync answered)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.as_user(user).post("visits/sync", {"visits": visits})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_failed_items_open_findings_with_severity_fine_and_due_date(api, setup):
    finished = timezone.now() - timedelta(hours=1)
    (result,) = sync(
        api,
        setup["inspector"],
        [visit_payload(setup["shop"], setup["version"], finished_at=finished, MASKS="no", FLOOR="dirty")],
    )
    findings = {f.item_code: f for f in Finding.objects.all()}
    assert set(findings) == {"MASKS", "FLOOR"}
    masks = findings["MASKS"]
    assert masks.visit_id == result["visit_id"] and masks.status == "open"
    assert (masks.severity, masks.fine_sar) == ("minor", 100)
    assert masks.due_date == timezone.localdate(finished) + timedelta(days=14)
    assert findings["FLOOR"].due_date == timezone.localdate(finished) + timedelta(days=7)
    assert masks.answer.item_code == "MASKS" and masks.answer.failed
    assert masks.municipality_id == setup["shop"].municipality_id


def test_repeat_failure_does_not_open_a_second_finding(api, setup):
    now = timezone.now()
    sync(
        api,
        setup["inspector"],
        [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=3), MASKS="no")],
    )
    sync(
        api,
        setup["inspector"],
        [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=1), MASKS="no")],
    )
    assert Finding.objects.filter(item_code="MASKS").count() == 1


def test_later_passing_visit_closes_the_finding(api, setup):
    now = timezone.now()
    (failing,) = sync(
        api,
        setup["inspector"],
        [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=3), MASKS="no")],
    )
    (passing,) = sync(
        api, setup["inspector"], [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(hours=1))]
    )
    finding = Finding.objects.get()
    assert finding.status == "closed"
    assert finding.closed_by_visit_id == passing["visit_id"]
    assert finding.closed_at is not None
    event = AuditEvent.objects.get(action="finding.closed")
    assert event.object_id == str(finding.id) and event.details["closed_by_visit_id"] == passing["visit_id"]
    assert failing["visit_id"] != passing["visit_id"]


def test_an_older_visit_synced_late_does_not_close_a_newer_finding(api, setup):
    now = timezone.now()
    sync(
        api,
        setup["inspector"],
        [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(hours=2), MASKS="no")],
    )
    sync(api, setup["inspector"], [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=2))])
    assert Finding.objects.get().status == "open"


def test_na_does_not_close_and_other_items_are_untouched(api, setup):
    now = timezone.now()
    sync(
        api,
        setup["inspector"],
        [
            visit_payload(
                setup["shop"], setup["version"], finished_at=now - timedelta(days=2), MASKS="no", SANITISER="no"
            )
        ],
    )
    sync(
        api,
        setup["inspector"],
        [
            visit_payload(
                setup["shop"], setup["version"], finished_at=now - timedelta(days=1), MASKS="na", SANITISER="yes"
            )
        ],
    )
    status = dict(Finding.objects.values_list("item_code", "status"))
    assert status == {"MASKS": "open", "SANITISER": "closed"}


def test_fail_and_close_within_one_offline_batch(api, setup):
    now = timezone.now()
    batch = [
        visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(hours=1)),  # closes it
        visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=2), MASKS="no"),  # opens
    ]
    results = sync(api, setup["inspector"], batch)
    finding = Finding.objects.get()
    assert finding.visit_id == results[1]["visit_id"]
    assert finding.status == "closed" and finding.closed_by_visit_id == results[0]["visit_id"]
    assert finding.follow_up_stop_id is None


def test_follow_up_stop_scheduled_once_per_visit(api, setup):
    sync(api, setup["inspector"], [visit_payload(setup["shop"], setup["version"], MASKS="no", SANITISER="no")])
    findings = list(Finding.objects.all())
    stops = {f.follow_up_stop_id for f in findings}
    assert len(stops) == 1 and None not in stops
    stop = RoundStop.objects.get(pk=stops.pop())
    assert stop.is_follow_up and stop.establishment_id == setup["shop"].id and stop.status == "pending"


def test_risk_score_follows_findings(api, setup):
    now = timezone.now()
    setup["shop"].refresh_from_db()
    assert setup["shop"].risk_score == 0
    sync(
        api,
        setup["inspector"],
        [
            visit_payload(
                setup["shop"], setup["version"], finished_at=now - timedelta(days=1), MASKS="no", SANITISER="no"
            )
        ],
    )
    setup["shop"].refresh_from_db()
    assert setup["shop"].risk_score == pytest.approx(1 + 3)
    sync(
        api, setup["inspector"], [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(hours=1))]
    )
    setup["shop"].refresh_from_db()
    # Both closed, opened a day ago: (1 + 3) × 0.5 × 2^(−1/90).
    assert setup["shop"].risk_score == pytest.approx(4 * 0.5 * 2 ** (-1 / 90), abs=0.02)


def test_risk_formula():
    now = timezone.now()
    findings = [("major", "open", now), ("major", "open", now), ("critical", "closed", now - timedelta(days=90))]
    assert risk_score(findings=findings, now=now) == pytest.approx(8.5)
    assert risk_score(findings=[("critical", "open", now)] * 20, now=now) == 100


def test_critical_finding_notifies_supervisors(api, setup, supervisor):
    sync(api, setup["inspector"], [visit_payload(setup["shop"], setup["version"], EXPIRED="no")])
    finding = Finding.objects.get(item_code="EXPIRED")
    assert finding.severity == "critical"
    notes = Notification.objects.filter(recipient=supervisor)
    assert notes.count() == 1
    assert str(notes.get().payload["finding_id"]) == str(finding.id)
    sync(api, setup["inspector"], [visit_payload(setup["shop"], setup["version"], MASKS="no")])
    assert Notification.objects.filter(recipient=supervisor).count() == 1  # minor: no alert


def test_a_batch_of_critical_failures_alerts_each_supervisor_once_per_finding_in_a_fixed_number_of_statements(
    api, setup, dammam, khobar, supervisor, supervisor_khobar
):
    """Critical failures in two municipalities, synced together: every supervisor hears of each
    finding of their own municipality once, in their language, and the batch costs the same number
    of statements as a batch with one critical failure (the alerts are written together)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_user

    regional = make_user(Membership.Role.SUPERVISOR, dammam, khobar, username="sup_region", language="ar")
    version = setup["version"]
    dammam_shops, khobar_shops = [shop(dammam) for _ in range(4)], [shop(khobar) for _ in range(3)]
    leader = make_user(Membership.Role.SUPERVISOR, dammam, khobar, username="sup_syncing")

    def one_batch(shops):
        """The sync request's statements (the dispatch tasks it queues run after its commit)."""
        payloads = [visit_payload(store, version, EXPIRED="no") for store in shops]
        with TestCase.captureOnCommitCallbacks(execute=False), CaptureQueriesContext(connection) as queries:
            response = api.as_user(leader).post("visits/sync", {"visits": payloads})
        assert {result["status"] for result in response.json()["results"]} == {"created"}
        return len(queries)

    sync(api, leader, [visit_payload(shop(dammam), version)])  # the caller's scope, cached from now on
    few = one_batch([dammam_shops[0], khobar_shops[0]])
    many = one_batch(dammam_shops[1:] + khobar_shops[1:])
    assert many == few  # 5 critical findings in two municipalities, as many statements as 2

    def heard(user):
        return sorted(
            str(establishment_id)
            for establishment_id in Notification.objects.filter(recipient=user, kind="critical_finding").values_list(
                "payload__establishment_id", flat=True
            )
        )

    assert heard(supervisor) == sorted(str(store.pk) for store in dammam_shops)
    assert heard(supervisor_khobar) == sorted(str(store.pk) for store in khobar_shops)
    assert heard(regional) == sorted(str(store.pk) for store in dammam_shops + khobar_shops)
    assert heard(leader) == heard(regional)
    arabic = Notification.objects.filter(recipient=regional).first()
    assert arabic.language == "ar" and arabic.title == "مخالفة حرجة"


def test_findings_api_filters_and_scope(api, setup, khobar, inspector_khobar, supervisor_khobar):
    now = timezone.now()
    khobar_version, _ = make_checklist()
    sync(
        api,
        setup["inspector"],
        [
            visit_payload(
                setup["shop"], setup["version"], finished_at=now - timedelta(days=20), MASKS="no", EXPIRED="no"
            )
        ],
    )
    sync(api, inspector_khobar, [visit_payload(shop(khobar), khobar_version, SANITISER="no")])
    client = api.as_user(setup["inspector"])
    body = client.get("findings").json()
    assert body["count"] == 2
    assert {f["item_code"] for f in body["items"]} == {"MASKS", "EXPIRED"}
    overdue = client.get("findings", {"overdue": "true"}).json()["items"]
    assert {f["item_code"] for f in overdue} == {"MASKS", "EXPIRED"} and all(f["overdue"] for f in overdue)
    assert [f["item_code"] for f in client.get("findings", {"severity": "critical"}).json()["items"]] == ["EXPIRED"]
    assert client.get("findings", {"status": "closed"}).json()["count"] == 0
    assert client.get("findings", {"establishment": setup["shop"].id}).json()["count"] == 2
    assert client.get("findings", {"severity": "huge"}).status_code == 422
    assert client.get("findings", {"overdue": "perhaps"}).status_code == 422

    masks = Finding.objects.get(item_code="MASKS")
    detail = client.get(f"findings/{masks.id}").json()
    assert detail["status"] == "open" and detail["fine_sar"] in ("100.00", 100, "100")
    khobar_finding = Finding.objects.get(item_code="SANITISER")
    response = client.get(f"findings/{khobar_finding.id}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api.as_user(supervisor_khobar).get("findings").json()["count"] == 1


def test_a_second_violation_reuses_the_pending_follow_up_stop(api, setup):
    now = timezone.now()
    sync(
        api,
        setup["inspector"],
        [visit_payload(setup["shop"], setup["version"], finished_at=now - timedelta(days=2), MASKS="no")],
    )
    sync(
        api,
        setup["inspector"],
        [
            visit_payload(
                setup["shop"], setup["version"], finished_at=now - timedelta(days=1), MASKS="no", SANITISER="no"
            )
        ],
    )
    findings = list(Finding.objects.order_by("id"))
    assert [f.item_code for f in findings] == ["MASKS", "SANITISER"]
    assert findings[0].follow_up_stop_id == findings[1].follow_up_stop_id is not None
    assert RoundStop.objects.filter(is_follow_up=True, establishment=setup["shop"]).count() == 1


def _round_notifications(user):
    return Notification.objects.filter(recipient=user, kind__in=["round_assigned", "round_changed"])


def test_one_batch_of_violations_touches_one_round_and_notifies_its_inspector_once(api, setup, dammam):
    from inspections.models import Round
    from inspections.services.rounds import next_working_day, riyadh_today
    from tests.factories import RoundFactory, RoundStopFactory

    inspector = setup["inspector"]
    planned = RoundFactory(
        municipality=dammam,
        inspector=inspector,
        checklist=setup["version"].checklist,
        date=next_working_day(riyadh_today()),
    )
    RoundStopFactory(round=planned, establishment=shop(dammam), position=1)
    shops = [setup["shop"], shop(dammam), shop(dammam), shop(dammam)]
    now = timezone.now()
    visits = [visit_payload(s, setup["version"], finished_at=now - timedelta(hours=2), MASKS="no") for s in shops]
    # a later visit of the first shop in the same batch (MASKS fixed, FLOOR dirty): still one stop for it
    visits.append(visit_payload(shops[0], setup["version"], finished_at=now - timedelta(hours=1), FLOOR="dirty"))
    notified_before = _round_notifications(inspector).count()

    sync(api, inspector, visits)

    follow_ups = RoundStop.objects.filter(is_follow_up=True, status="pending")
    assert sorted(follow_ups.values_list("establishment_id", flat=True)) == sorted(s.pk for s in shops)
    assert set(follow_ups.values_list("round_id", flat=True)) == {planned.pk}
    assert Round.objects.count() == 1
    assert list(planned.stops.order_by("position").values_list("position", flat=True)) == [1, 2, 3, 4, 5]
    changed = _round_notifications(inspector).filter(kind="round_changed")
    assert _round_notifications(inspector).count() == notified_before + 1 and changed.count() == 1
    assert AuditEvent.objects.filter(action="round.follow_up_added", object_id=str(planned.pk)).count() == 4
    stop_of = dict(follow_ups.values_list("establishment_id", "id"))
    for finding in Finding.objects.filter(status="open"):
        assert finding.follow_up_stop_id == stop_of[finding.establishment_id]

    # The same visits synced again, and new failures of the same shops: nothing is added, nobody notified.
    sync(api, inspector, visits)
    sync(
        api,
        inspector,
        [visit_payload(s, setup["version"], finished_at=now - timedelta(minutes=30), SANITISER="no") for s in shops],
    )
    assert RoundStop.objects.filter(is_follow_up=True).count() == len(shops)
    assert planned.stops.count() == 5
    assert _round_notifications(inspector).count() == notified_before + 1
    assert AuditEvent.objects.filter(action="round.follow_up_added").count() == 4


def test_one_batch_without_a_planned_round_creates_one_round(api, setup, dammam):
    from inspections.models import Round
    from inspections.services.rounds import next_working_day, riyadh_today

    inspector = setup["inspector"]
    shops = [setup["shop"], shop(dammam), shop(dammam)]
    now = timezone.now()
    sync(
        api,
        inspector,
        [visit_payload(s, setup["version"], finished_at=now - timedelta(hours=1), MASKS="no") for s in shops],
    )
    (round,) = Round.objects.all()
    assert round.inspector_id == inspector.pk and round.date == next_working_day(riyadh_today())
    assert sorted(round.stops.values_list("establishment_id", flat=True)) == sorted(s.pk for s in shops)
    assert sorted(round.stops.values_list("position", flat=True)) == [1, 2, 3]
    assert list(_round_notifications(inspector).values_list("kind", flat=True)) == ["round_assigned"]
    (created,) = AuditEvent.objects.filter(action="round.created")
    assert sorted(created.details["establishment_ids"]) == sorted(s.pk for s in shops)


def test_follow_ups_added_to_one_round_in_one_day_make_one_notification_delivered_once(api, setup, dammam):
    """Item 21: the demo inspector's inbox held 12 "round changed: follow-up added" for one round."""
    from inspections.services.rounds import next_working_day, riyadh_today
    from notifications.models import Delivery, Device
    from tests.factories import RoundFactory, RoundStopFactory

    inspector = setup["inspector"]
    Device.objects.create(user=inspector, token="phone-of-the-inspector", platform="android")
    planned = RoundFactory(
        municipality=dammam,
        inspector=inspector,
        checklist=setup["version"].checklist,
        date=next_working_day(riyadh_today()),
    )
    RoundStopFactory(round=planned, establishment=shop(dammam), position=1)
    now = timezone.now()
    shops = [setup["shop"], shop(dammam), shop(dammam)]
    for minutes, failing_shop in zip((90, 60, 30), shops, strict=True):  # three syncs, one new violation each
        sync(
            api,
            inspector,
            [visit_payload(failing_shop, setup["version"], finished_at=now - timedelta(minutes=minutes), MASKS="no")],
        )

    assert planned.stops.filter(is_follow_up=True).count() == 3
    changed = Notification.objects.get(recipient=inspector, kind="round_changed")  # one, not three
    assert "3 follow-up visit(s) added today" in changed.body or "أُضيفت اليوم 3 زيارة متابعة" in changed.body
    assert changed.payload["establishment_ids"] == ",".join(str(s.pk) for s in shops)
    assert Delivery.objects.filter(notification=changed).count() == 1  # sent to the phone once
    assert changed.status == "sent"
