"""GET analytics/indicators (and .csv, and the admins' targets) on a world whose every figure is
worked out by hand in the comments. October 2026 in Asia/Riyadh: 1 October is a Thursday, so the
month has 21 working days (Sunday to Thursday)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hijridate import Hijri

from analytics.indicators import INDICATORS
from analytics.models import IndicatorTarget
from inspections.models import Answer, Establishment, Finding, Membership, RoundStop, Visit
from tests.factories import (
    ChecklistItemFactory,
    EstablishmentFactory,
    RoundFactory,
    RoundStopFactory,
    VisitFactory,
    make_user,
)

RIYADH = ZoneInfo("Asia/Riyadh")
OUT = Visit.Outcome


def at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=RIYADH)


def finding(visit, code, *, opened, due, closed=None):
    item = ChecklistItemFactory(version=visit.checklist_version, code=code)
    answer = Answer.objects.create(visit=visit, item=item, item_code=code, value="no", failed=True)
    return Finding.objects.create(
        visit=visit, answer=answer, establishment=visit.establishment, municipality=visit.municipality,
        item_code=code, severity="major", due_date=due, opened_at=opened, closed_at=closed,
        status=Finding.Status.CLOSED if closed else Finding.Status.OPEN,
    )  # fmt: skip


@pytest.fixture
def world(dammam, khobar):
    i1 = make_user(Membership.Role.INSPECTOR, dammam, username="i1")
    i2 = make_user(Membership.Role.INSPECTOR, dammam, username="i2")
    a = EstablishmentFactory(municipality=dammam, risk_score=80)  # high risk
    b = EstablishmentFactory(municipality=dammam, risk_score=60)  # high risk
    c = EstablishmentFactory(municipality=dammam, risk_score=10)
    d = EstablishmentFactory(municipality=dammam, risk_score=0)
    e = EstablishmentFactory(municipality=dammam, status=Establishment.Status.CLOSED)  # not active
    # Completed October visits: a twice (one violating), b once, e once (violating) = 4, 2 violating.
    a_bad = VisitFactory(establishment=a, inspector=i1, outcome=OUT.VIOLATIONS, finished_at=at(2026, 10, 5))
    VisitFactory(establishment=a, inspector=i1, outcome=OUT.COMPLIANT, finished_at=at(2026, 10, 20))
    VisitFactory(establishment=b, inspector=i2, outcome=OUT.COMPLIANT, finished_at=at(2026, 10, 6))
    e_bad = VisitFactory(establishment=e, inspector=i1, outcome=OUT.VIOLATIONS, finished_at=at(2026, 10, 7))
    VisitFactory(establishment=c, inspector=i2, outcome=OUT.REFUSED_ENTRY, finished_at=at(2026, 10, 8))  # not completed
    # 01:00 Riyadh on 1 November is 22:00 UTC on 31 October: a November visit, so d is not covered.
    VisitFactory(establishment=d, inspector=i2, outcome=OUT.COMPLIANT, finished_at=at(2026, 11, 1, 1))
    march = VisitFactory(establishment=a, inspector=i1, outcome=OUT.VIOLATIONS, finished_at=at(2026, 3, 1))
    # Findings. Due in October: f1 (closed on time), f2 (closed late), f3 (still open) -> 1 of 3.
    # Opened in October: f1 (a repeat: X failed at a in March) and f2 (first time at e) -> 1 of 2.
    # Closed in October: f1 after 9 days, f2 after 18 -> median 13.5.
    finding(march, "X", opened=at(2026, 3, 1), due=date(2026, 3, 10), closed=at(2026, 3, 9))
    finding(a_bad, "X", opened=at(2026, 10, 5), due=date(2026, 10, 15), closed=at(2026, 10, 14))
    finding(e_bad, "Y", opened=at(2026, 10, 7), due=date(2026, 10, 20), closed=at(2026, 10, 25))
    finding(march, "Z", opened=at(2026, 9, 10), due=date(2026, 10, 3))
    # Follow-up stops on an October round: visited, missed, cancelled -> 1 of 2 (cancelled left out).
    round = RoundFactory(municipality=dammam, inspector=i1, date=date(2026, 10, 12))
    for status in (RoundStop.Status.VISITED, RoundStop.Status.MISSED, RoundStop.Status.CANCELLED):
        RoundStopFactory(round=round, establishment=c, is_follow_up=True, status=status)
    RoundStopFactory(round=round, establishment=d, is_follow_up=False, status=RoundStop.Status.MISSED)
    return {"dammam": dammam, "khobar": khobar}


def table(client, **params):
    response = client.get("analytics/indicators", params)
    assert response.status_code == 200, response.content
    return response.json()


def by_key(body):
    return {row["key"]: row["indicators"] for row in body["rows"]}


def test_october_by_hand(api, leader, world):
    body = table(api.as_user(leader), month="2026-10")
    assert body["period"] == {
        "key": "2026-10", "calendar": "gregorian", "first": "2026-10-01", "last": "2026-10-31",
        "first_hijri": body["period"]["first_hijri"], "last_hijri": body["period"]["last_hijri"], "working_days": 21,
    }  # fmt: skip
    dammam = by_key(body)[str(world["dammam"].id)]
    value = {code: figure["value"] for code, figure in dammam.items()}
    assert value["coverage"] == 2 / 4
    assert value["coverage_high_risk"] == 2 / 2
    assert value["violation_rate"] == 2 / 4
    assert value["corrected_on_time"] == pytest.approx(1 / 3)
    assert value["follow_ups_on_time"] == 1 / 2
    assert value["repeat_violation_rate"] == 1 / 2
    assert value["median_days_to_closure"] == 13.5
    assert value["inspections_per_inspector_day"] == pytest.approx(4 / (2 * 21))
    coverage = dammam["coverage"]
    assert (coverage["numerator"], coverage["denominator"]) == (2, 4)
    # Wilson 95% for 2 of 4, worked out by hand: [0.1500, 0.8500].
    assert coverage["ci_low"] == pytest.approx(0.1500, abs=1e-3)
    assert coverage["ci_high"] == pytest.approx(0.8500, abs=1e-3)
    assert dammam["median_days_to_closure"]["ci_low"] is None  # not a proportion: no interval


def test_a_municipality_without_establishments_and_an_empty_month(api, leader, world):
    khobar = by_key(table(api.as_user(leader), month="2026-10"))[str(world["khobar"].id)]
    assert khobar["coverage"] == {
        "value": None, "numerator": 0, "denominator": 0, "ci_low": None, "ci_high": None, "target": None,
        "amber_margin": None, "target_scope": None, "target_class": None, "target_scope_label": None, "light": None,
    }  # fmt: skip
    assert khobar["inspections_per_inspector_day"]["value"] is None
    empty = by_key(table(api.as_user(leader), month="2025-01"))[str(world["dammam"].id)]
    assert empty["coverage"]["value"] == 0.0  # four active shops, none inspected
    assert empty["violation_rate"]["value"] is None
    assert empty["median_days_to_closure"]["value"] is None


def test_amanah_and_total_sum_their_municipalities(api, leader, world, amanah):
    client = api.as_user(leader)
    amanah_row = by_key(table(client, month="2026-10", group_by="amanah"))[str(amanah.id)]
    total = by_key(table(client, month="2026-10", group_by="total"))["total"]
    for rows in (amanah_row, total):
        assert (rows["coverage"]["numerator"], rows["coverage"]["denominator"]) == (2, 4)
        assert rows["violation_rate"]["value"] == 2 / 4


def test_a_supervisor_sees_only_their_municipality(api, supervisor_khobar, world):
    rows = by_key(table(api.as_user(supervisor_khobar), month="2026-10"))
    assert list(rows) == [str(world["khobar"].id)]


def test_hijri_month_bounds_follow_umm_al_qura(api, leader, world):
    body = table(api.as_user(leader), hijri_month="1448-05")
    first, following = Hijri(1448, 5, 1).to_gregorian(), Hijri(1448, 6, 1).to_gregorian()
    assert body["period"]["calendar"] == "hijri"
    assert body["period"]["first"] == date(first.year, first.month, first.day).isoformat()
    assert date.fromordinal(date.fromisoformat(body["period"]["last"]).toordinal() + 1) == date(
        following.year, following.month, following.day
    )
    # Its figures count its own days: the visits of 5-8 October fall before 1 Jumada al-Ula 1448.
    dammam = by_key(body)[str(world["dammam"].id)]
    assert dammam["violation_rate"]["denominator"] == 2  # a's visit of 20 October and d's of 1 November


def test_targets_and_traffic_lights(api, admin_user, leader, world):
    admin = api.as_user(admin_user)
    assert admin.raw("PUT", "analytics/indicators/targets/coverage", b'{"target": 0.5}').status_code == 200
    body = b'{"target": 0.3, "amber_margin": 0.1}'
    assert admin.raw("PUT", "analytics/indicators/targets/violation_rate", body).status_code == 200
    body = b'{"target": 0.4, "amber_margin": 0.1}'
    assert admin.raw("PUT", "analytics/indicators/targets/corrected_on_time", body).status_code == 200
    dammam = by_key(table(api.as_user(leader), month="2026-10"))[str(world["dammam"].id)]
    assert (dammam["coverage"]["target"], dammam["coverage"]["light"]) == (0.5, "green")  # 0.50 meets 0.50
    assert dammam["violation_rate"]["light"] == "red"  # 0.50 against at most 0.30, margin 0.10
    assert dammam["corrected_on_time"]["light"] == "amber"  # 0.33 against 0.40, within 0.10
    assert dammam["follow_ups_on_time"]["light"] is None  # no target set


def test_csv_has_one_line_per_group_and_indicator(api, leader, world):
    response = api.as_user(leader).get("analytics/indicators.csv", {"month": "2026-10"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("calendar,period,group,label,indicator,value")
    assert len(lines) == 1 + 2 * len(INDICATORS)  # Dammam and Khobar, every indicator each
    assert any(
        line.startswith(f"gregorian,2026-10,{world['dammam'].id},") and ",coverage,0.5," in line for line in lines
    )


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-10", "hijri_month": "1448-05"},
        {"month": "2026-13"},
        {"month": "10-2026"},
        {"month": "0001-01"},
        {"hijri_month": "1600-01"},
        {"month": "2026-10", "group_by": "inspector"},
    ],
)
def test_bad_periods_are_422(api, leader, world, params):
    response = api.as_user(leader).get("analytics/indicators", params)
    assert response.status_code == 422, response.content
    assert response.json()["detail"] or response.json().get("message")


def test_inspectors_may_not_read_indicators(api, inspector, world):
    assert api.as_user(inspector).get("analytics/indicators", {"month": "2026-10"}).status_code == 403


@pytest.mark.parametrize(
    ("who", "code", "body", "status"),
    [
        ("supervisor", "coverage", b'{"target": 0.5}', 403),
        ("leader", "coverage", b'{"target": 0.5}', 403),
        ("admin_user", "nonsense", b'{"target": 0.5}', 404),
        ("admin_user", "coverage", b'{"target": 1.5}', 400),
        ("admin_user", "coverage", b'{"target": -1}', 422),
        ("admin_user", "coverage", b'{"target": "high"}', 422),
        ("admin_user", "coverage", b'{"target": 0.5, "extra": 1}', 422),
        ("admin_user", "coverage", b'"0.5"', 422),
        ("admin_user", "coverage", b"null", 422),
        ("admin_user", "coverage", b"", 422),
    ],
)
def test_bad_targets_write_nothing(api, request, world, who, code, body, status):
    user = request.getfixturevalue(who)
    response = api.as_user(user).raw("PUT", f"analytics/indicators/targets/{code}", body)
    assert response.status_code == status, response.content
    assert IndicatorTarget.objects.count() == 0


def test_violation_rate_and_inspections_agree_with_the_dashboards_rates(api, leader, world):
    """The indicators and the overview read the same roll-ups: for October, each municipality's
    completed and violating visits are the overview's rates for 1-31 October."""
    client = api.as_user(leader)
    rows = by_key(table(client, month="2026-10"))
    response = client.get(
        "analytics/violation-rates", {"group_by": "municipality", "from": "2026-10-01", "to": "2026-10-31"}
    )
    assert response.status_code == 200
    rates = {row["key"]: row for row in response.json()}
    assert rates  # the world has October visits
    for key, rate in rates.items():
        figure = rows[key]["violation_rate"]
        assert (figure["numerator"], figure["denominator"]) == (rate["violating_visits"], rate["visits"])
        assert rows[key]["inspections_per_inspector_day"]["numerator"] == rate["visits"]
