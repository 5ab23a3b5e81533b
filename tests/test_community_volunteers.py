"""Volunteers: registered reporters with a track record (share of their reports an inspection
confirmed), ranked above anonymous reports in the triage queue; the reward report (a configurable
share of the fines their confirmed reports led to, staff excluded), exported as CSV, never paid."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from community.models import Case, Volunteer
from community.selectors.risk import confirmed_report_factor
from community.selectors.volunteers import rewards
from enforcement.services.penalties import penalties_assess_due
from inspections.models import ChecklistItem, Membership
from inspections.services.auth import token_pair_for
from tests.community_support import Open311, as_json, code_of
from tests.enforcement_support import violation
from tests.factories import RoundFactory, RoundStopFactory, UserFactory, make_user
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


def _volunteer(username: str, **user_fields) -> Volunteer:
    return Volunteer.objects.create(user=UserFactory(username=username, **user_fields))


def _report(store, *, volunteer=None, ip="10.0.1.1", service="food-hygiene"):
    headers = {}
    if volunteer is not None:
        headers["Authorization"] = f"Bearer {token_pair_for(user=volunteer.user).access}"
    response = Open311(ip=ip).post(
        "requests.json",
        {"service_code": service, "address_id": code_of(store), "description": "Dirty counter"},
        **headers,
    )
    assert response.status_code == 200, response.content
    return int(as_json(response)[0]["service_request_id"])


def _close(api, case_id, *, supervisor, inspector, version, failing: bool):
    case = Case.objects.get(pk=case_id)
    round_ = RoundFactory(municipality=case.municipality, inspector=inspector, checklist=version.checklist)
    RoundStopFactory(round=round_, establishment=shop(case.municipality, lat=case.lat + 0.01), position=1)
    assert api.as_user(supervisor).post(f"community/cases/{case_id}/triage", {"round_id": round_.pk}).status_code == 200
    stop = round_.stops.get(establishment=case.establishment)
    answers = {"EXPIRED": "no"} if failing else {}
    visit = visit_payload(case.establishment, version, round_stop=stop, **answers)
    assert api.as_user(inspector).post("visits/sync", {"visits": [visit]}).json()["results"][0]["status"] == "created"


@pytest.fixture
def version(dammam):
    version, _items = make_checklist()
    version.status = "published"
    version.save()
    # EXPIRED names a catalogue violation: a failing visit gets a 5000 SAR penalty notice (a large shop
    # in a class A municipality pays the table's maximum), which is what a reward is a share of.
    ChecklistItem.objects.filter(version=version, code="EXPIRED").update(violation_code="V-EXP")
    violation("V-EXP", grade="serious", grace=0, fine_max="5000.00", cap="20000.00")
    return version


def test_volunteers_reports_rank_above_anonymous_ones(api, dammam, supervisor):
    volunteer = _volunteer("vol_1")
    anonymous_popular = _report(shop(dammam), ip="10.0.2.1")
    _report(Case.objects.get(pk=anonymous_popular).establishment, ip="10.0.2.2")
    by_volunteer = _report(shop(dammam, lat=dammam.centre_lat + 0.01), volunteer=volunteer)
    queue = api.as_user(supervisor).get("community/cases").json()["items"]
    assert [item["id"] for item in queue] == [by_volunteer, anonymous_popular]
    assert queue[0]["volunteers"] == 1 and queue[1]["reporters"] == 2 and queue[1]["volunteers"] == 0


def test_a_bad_or_non_volunteer_token_is_refused(dammam, inspector):
    store = shop(dammam)
    data = {"service_code": "food-hygiene", "address_id": code_of(store), "description": "x"}
    bad = Open311().post("requests.json", data, Authorization="Bearer nonsense")
    assert bad.status_code == 401 and as_json(bad)[0]["code"] == 401
    staff = Open311().post("requests.json", data, Authorization=f"Bearer {token_pair_for(user=inspector).access}")
    assert staff.status_code == 403
    assert Case.objects.count() == 0


def test_track_record_rewards_and_risk(api, dammam, supervisor, inspector, version, settings):
    settings.VOLUNTEER_REWARD_SHARE = 0.25
    alice, bob = _volunteer("alice"), _volunteer("bob")
    staff = _volunteer("staffer", is_staff=True)
    municipal = Volunteer.objects.create(user=make_user(Membership.Role.INSPECTOR, dammam, username="insp_vol"))
    right = shop(dammam)
    wrong = shop(dammam, lat=dammam.centre_lat + 0.02)
    pending = shop(dammam, lat=dammam.centre_lat + 0.03)
    confirmed_case = _report(right, volunteer=alice, ip="10.0.3.1")
    _report(right, volunteer=bob, ip="10.0.3.2")
    _report(right, volunteer=staff, ip="10.0.3.3")
    _report(right, volunteer=municipal, ip="10.0.3.4")
    _report(right, ip="10.0.3.5")  # anonymous: no reward
    refuted_case = _report(wrong, volunteer=alice, ip="10.0.3.6")
    _report(pending, volunteer=alice, ip="10.0.3.7")
    _close(api, confirmed_case, supervisor=supervisor, inspector=inspector, version=version, failing=True)
    _close(api, refuted_case, supervisor=supervisor, inspector=inspector, version=version, failing=False)
    penalties_assess_due()

    mine = api.as_user(alice.user).get("community/me/reports").json()
    assert mine["track_record"] == {"reports": 3, "decided": 2, "confirmed": 1, "share_confirmed": 0.5}
    assert {r["case_id"]: r["state"] for r in mine["reports"]}[confirmed_case] == "closed"
    assert api.as_user(supervisor).get("community/me/reports").status_code == 403

    now = timezone.now()
    rows = {row.username: row for row in rewards(since=now - timedelta(days=1), until=now + timedelta(minutes=1))}
    assert set(rows) == {"alice", "bob"}  # staff and municipal users are excluded
    # the EXPIRED finding's notice is 5000 SAR; 25% shared by the case's four volunteers (staff among them)
    assert rows["alice"].fines_sar == Decimal("5000.00") and rows["alice"].reward_sar == Decimal("312.50")
    assert rows["alice"].confirmed_cases == 1

    export = api.as_user(make_user(Membership.Role.LEADERSHIP, dammam, username="boss")).get(
        "community/volunteers/rewards.csv"
    )
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {(row["username"], row["reward_sar"]) for row in table} == {("alice", "312.50"), ("bob", "312.50")}
    bad = api.as_user(make_user(Membership.Role.LEADERSHIP, dammam, username="boss2")).get(
        "community/volunteers/rewards.csv", {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    )
    assert bad.status_code == 400
    odd = api.as_user(make_user(Membership.Role.LEADERSHIP, dammam, username="boss3")).get(
        "community/volunteers/rewards.csv", {"since": "0376-11-02T09:48:28Z", "until": "0778-04-16T08:15:36.0+18:25"}
    )
    # Was a 500 (schemathesis); now refused by the query type's date span (backend/dates.py) before the view.
    assert odd.status_code == 422 and odd.json()["code"] == "validation_error"

    # the reconciler tells each volunteer of a closed case how it ended (once)
    from community.services.cases import cases_reconcile
    from notifications.models import Notification

    assert cases_reconcile() == 2 and cases_reconcile() == 0
    alice_told = Notification.objects.filter(recipient=alice.user, kind="report_closed")
    assert alice_told.count() == 2
    assert "المخالفات المرصودة: 1" in alice_told.get(payload__case_id=str(confirmed_case)).body  # Arabic by default
    assert not Notification.objects.filter(kind="report_closed", recipient__username="insp_dammam").exists()

    factors = confirmed_report_factor([right.pk, wrong.pk, pending.pk])
    assert factors == {right.pk: 2.0}  # only the confirmed report raises the shop's risk
