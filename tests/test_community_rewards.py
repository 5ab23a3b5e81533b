"""The volunteers' reward report reads the enforcement app's penalty notices: a reward is
VOLUNTEER_REWARD_SHARE of what the notices of the closing visit amount to *after* objection
decisions (cancelled: nothing, reduced: the reduced amount), split among the case's volunteers,
staff excluded. The figures below are computed by hand from the catalogue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from community.models import Case, Volunteer
from community.selectors.volunteers import rewards
from enforcement.models import PenaltyNotice
from enforcement.services.objections import objection_decide, objection_file
from enforcement.services.penalties import penalties_assess_due
from inspections.models import ChecklistItem, Membership
from inspections.services.auth import token_pair_for
from tests.community_support import Open311, as_json, code_of
from tests.enforcement_support import violation
from tests.factories import RoundFactory, RoundStopFactory, UserFactory, make_user
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(dammam):
    version, _items = make_checklist()
    version.status = "published"
    version.save()
    # The checklist's own fine_sar (EXPIRED 5000, SANITISER 500) is NOT what a reward is computed from:
    # the catalogue's amounts below are, through the notices they produce.
    ChecklistItem.objects.filter(version=version, code="EXPIRED").update(violation_code="V-EXP")
    ChecklistItem.objects.filter(version=version, code="SANITISER").update(violation_code="V-SAN")
    violation("V-EXP", grade="serious", grace=0, fine_max="2000.00", cap="10000.00")
    violation("V-SAN", grade="serious", grace=0, fine_max="800.00", cap="10000.00")
    return version


def _volunteer(username: str, **user_fields) -> Volunteer:
    return Volunteer.objects.create(user=UserFactory(username=username, **user_fields))


def _report(store, volunteer, ip):
    headers = {"Authorization": f"Bearer {token_pair_for(user=volunteer.user).access}"}
    data = {"service_code": "expired-products", "address_id": code_of(store), "description": "Expired milk"}
    response = Open311(ip=ip).post("requests.json", data, **headers)
    assert response.status_code == 200, response.content
    return int(as_json(response)[0]["service_request_id"])


def _close(api, case_id, *, supervisor, inspector, version, **answers):
    case = Case.objects.get(pk=case_id)
    round_ = RoundFactory(municipality=case.municipality, inspector=inspector, checklist=version.checklist)
    RoundStopFactory(round=round_, establishment=shop(case.municipality, lat=case.lat + 0.01), position=1)
    assert api.as_user(supervisor).post(f"community/cases/{case_id}/triage", {"round_id": round_.pk}).status_code == 200
    stop = round_.stops.get(establishment=case.establishment)
    visit = visit_payload(case.establishment, version, round_stop=stop, **answers)
    result = api.as_user(inspector).post("visits/sync", {"visits": [visit]}).json()["results"][0]
    assert result["status"] == "created", result
    return result["visit_id"]


def _object(notice, *, decision, decider, amount=None):
    objection = objection_file(notice=notice, owner_name="Owner", reasons="We disagree.")
    objection_decide(objection=objection, decider=decider, decision=decision, reasons="Reviewed.", amount_sar=amount)


def test_rewards_follow_the_notices_after_objection_decisions(api, dammam, supervisor, inspector, version, settings):
    settings.VOLUNTEER_REWARD_SHARE = 0.1
    fair = make_user(Membership.Role.SUPERVISOR, dammam, username="sup_fair")  # no part in the inspections
    alice, bob, carol = _volunteer("alice"), _volunteer("bob"), _volunteer("carol")
    staffer = _volunteer("staffer", is_staff=True)
    municipal = Volunteer.objects.create(user=make_user(Membership.Role.INSPECTOR, dammam, username="insp_vol"))
    one, two, three, four = (shop(dammam, lat=dammam.centre_lat + 0.01 * n) for n in range(4))

    # Case A: alice, bob and a staff member report shop one; the visit fails EXPIRED and SANITISER.
    case_a = _report(one, alice, "10.0.5.1")
    _report(one, bob, "10.0.5.2")
    _report(one, staffer, "10.0.5.3")
    visit_a = _close(
        api, case_a, supervisor=supervisor, inspector=inspector, version=version, EXPIRED="no", SANITISER="no"
    )
    # Case B: alice alone; the visit fails EXPIRED.
    case_b = _report(two, alice, "10.0.5.4")
    visit_b = _close(api, case_b, supervisor=supervisor, inspector=inspector, version=version, EXPIRED="no")
    # Case C: carol and a municipal user; the visit fails EXPIRED.
    case_c = _report(three, carol, "10.0.5.5")
    _report(three, municipal, "10.0.5.6")
    _close(api, case_c, supervisor=supervisor, inspector=inspector, version=version, EXPIRED="no")
    # Case D: carol; the visit finds nothing (not confirmed: no reward, whatever happens elsewhere).
    case_d = _report(four, carol, "10.0.5.7")
    _close(api, case_d, supervisor=supervisor, inspector=inspector, version=version)

    assert penalties_assess_due()["penalised"] == 4
    notices = {(n.visit_id, n.violation.code): n for n in PenaltyNotice.objects.select_related("violation")}
    assert notices[(visit_a, "V-EXP")].amount_sar == Decimal("2000.00")  # large shop, class A: fine_max
    assert notices[(visit_a, "V-SAN")].amount_sar == Decimal("800.00")
    # Objections: case A's SANITISER notice reduced to 300.00; case B's notice cancelled.
    _object(notices[(visit_a, "V-SAN")], decision="reduced", decider=fair, amount=Decimal("300.00"))
    _object(notices[(visit_b, "V-EXP")], decision="cancelled", decider=fair)

    now = timezone.now()
    rows = {row.username: row for row in rewards(since=now - timedelta(days=1), until=now + timedelta(minutes=1))}
    assert set(rows) == {"alice", "bob", "carol"}  # the staff member and the municipal user are excluded
    # A: 2000.00 + 300.00 = 2300.00; 10% = 230.00 split by three volunteers (the staffer's third unpaid)
    #    = 76.666… each. B: cancelled, 0.00. C: 2000.00; 10% = 200.00 split by two = 100.00.
    assert (rows["alice"].confirmed_cases, rows["alice"].fines_sar, rows["alice"].reward_sar) == (
        2,
        Decimal("2300.00"),
        Decimal("76.67"),
    )
    assert (rows["bob"].confirmed_cases, rows["bob"].fines_sar, rows["bob"].reward_sar) == (
        1,
        Decimal("2300.00"),
        Decimal("76.67"),
    )
    assert (rows["carol"].confirmed_cases, rows["carol"].fines_sar, rows["carol"].reward_sar) == (
        1,
        Decimal("2000.00"),
        Decimal("100.00"),
    )
    assert all(isinstance(row.reward_sar, Decimal) for row in rows.values())


def test_no_notice_no_reward(api, dammam, supervisor, inspector, version):
    """A confirmed report whose findings have no notice yet (or never will) earns nothing for now."""
    dave = _volunteer("dave")
    case = _report(shop(dammam), dave, "10.0.6.1")
    _close(api, case, supervisor=supervisor, inspector=inspector, version=version, FLOOR="dirty")  # no catalogue code
    now = timezone.now()
    (row,) = rewards(since=now - timedelta(days=1), until=now + timedelta(minutes=1))
    assert (row.username, row.confirmed_cases, row.fines_sar, row.reward_sar) == (
        "dave",
        1,
        Decimal("0.00"),
        Decimal("0.00"),
    )
