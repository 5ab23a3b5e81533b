"""Inspectors with workload and last seen, today's board, consistency, and the risk queue that says why."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from inspections.domain.consistency import poisson_interval, standardise
from inspections.domain.risk import RiskInputs, risk_assess, risk_class
from inspections.models import Answer, Finding, RoundStop, Visit
from inspections.services.rounds import riyadh_today
from tests.factories import (
    ChecklistItemFactory,
    ChecklistVersionFactory,
    EstablishmentFactory,
    RoundFactory,
    VisitFactory,
)


def test_risk_factors_add_up_and_explain():
    today = date(2026, 11, 30)
    quiet = risk_assess(RiskInputs(last_inspection=today - timedelta(days=10), category_rate=0.1), today=today)
    bad = risk_assess(
        RiskInputs(
            violations=[("critical", today - timedelta(days=20)), ("major", today - timedelta(days=20))],
            last_inspection=today - timedelta(days=200),
            category_rate=0.4,
            licensed_on=today - timedelta(days=60),
            open_findings=2,
        ),
        today=today,
    )
    assert bad.score > quiet.score + 40
    assert abs(sum(f.points for f in bad.factors) - bad.score) < 0.05
    assert [f.name for f in bad.factors] == [
        "violations",
        "time_since_inspection",
        "category",
        "licence_age",
        "open_findings",
    ]
    old = risk_assess(RiskInputs(violations=[("critical", today - timedelta(days=720))]), today=today)
    recent = risk_assess(RiskInputs(violations=[("critical", today)]), today=today)
    assert recent.factors[0].points > 3 * old.factors[0].points  # recency matters
    assert risk_class(61, high=60, medium=30) == "high" and risk_class(10, high=60, medium=30) == "low"


def test_consistency_by_indirect_standardisation():
    rates = {"bakery": 0.5, "grocery": 0.1}
    # Ten bakeries and ten groceries: expected 6 violations; 12 found -> twice the expected.
    visits = [("bakery", i < 8) for i in range(10)] + [("grocery", i < 4) for i in range(10)]
    figure = standardise(visits, rates)
    assert figure.expected == 6 and figure.observed == 12 and figure.ratio == 2
    assert figure.low > 1 and figure.signal == "higher"
    low, high = poisson_interval(10)
    assert 4.7 < low < 4.9 and 18.2 < high < 18.5  # the exact Poisson interval is 4.80-18.39


@pytest.fixture
def today_round(dammam, inspector):
    version = ChecklistVersionFactory()
    shops = [EstablishmentFactory(municipality=dammam) for _ in range(3)]
    round_ = RoundFactory(municipality=dammam, inspector=inspector, checklist=version.checklist, date=riyadh_today())
    stops = [RoundStop.objects.create(round=round_, establishment=shop, position=i) for i, shop in enumerate(shops, 1)]
    return {"round": round_, "stops": stops, "shops": shops, "version": version}


def test_inspectors_with_progress_and_last_seen(api, supervisor, inspector, inspector_khobar, today_round):
    VisitFactory(establishment=today_round["shops"][0], inspector=inspector, round_stop=today_round["stops"][0])
    RoundStop.objects.filter(pk=today_round["stops"][0].pk).update(status="visited")
    draft = RoundFactory(
        municipality=today_round["round"].municipality,
        inspector=inspector,
        checklist=today_round["version"].checklist,
        is_draft=True,
    )
    RoundStop.objects.create(round=draft, establishment=today_round["shops"][1], position=1)
    listed = api.as_user(supervisor).get("inspectors").json()
    assert [row["username"] for row in listed["items"]] == ["insp_dammam"]  # not Khobar's
    row = listed["items"][0]
    assert row["workload"] == {
        "today_stops": 3,
        "today_visited": 1,
        "today_pending": 2,
        "today_missed": 0,
        "week_stops": 3,
    }
    assert row["last_seen"]["establishment_id"] == today_round["shops"][0].pk
    assert api.as_user(inspector).get("inspectors").status_code == 403


def test_board_shows_a_visit_just_synced_and_what_needs_me(api, supervisor, inspector, today_round):
    shop = today_round["shops"][1]
    item = ChecklistItemFactory(version=today_round["version"], severity="critical")
    visit = VisitFactory(
        establishment=shop, inspector=inspector, outcome=Visit.Outcome.VIOLATIONS, geo_status="out_of_range"
    )
    answer = Answer.objects.create(visit=visit, item=item, item_code=item.code, value="no", failed=True)
    Finding.objects.create(
        visit=visit,
        answer=answer,
        establishment=shop,
        municipality=shop.municipality,
        item_code=item.code,
        severity="critical",
        due_date=riyadh_today(),
        opened_at=timezone.now(),
    )
    board = api.as_user(supervisor).get("board").json()
    assert board["inspectors"][0]["last_seen"]["visit_id"] == visit.pk
    assert [f["item_code"] for f in board["critical_findings"]] == [item.code]
    assert [v["id"] for v in board["flagged_visits"]] == [visit.pk] and board["flagged_count"] == 1


def test_risk_queue_is_ranked_with_reasons(api, supervisor, dammam, khobar, inspector, today_round):
    response = api.as_user(supervisor).get(f"municipalities/{dammam.pk}/risk")
    assert response.status_code == 200
    rows = response.json()["items"]
    assert len(rows) == 3 and {f["name"] for f in rows[0]["factors"]} >= {"violations", "open_findings"}
    assert api.as_user(supervisor).get(f"municipalities/{khobar.pk}/risk").status_code == 404
    assert api.as_user(supervisor).get(f"municipalities/{dammam.pk}/risk", {"limit": 0}).status_code == 422
    assert api.as_user(inspector).get(f"municipalities/{dammam.pk}/risk").status_code == 403


def test_consistency_endpoint(api, supervisor, dammam, inspector, today_round):
    for index in range(6):
        VisitFactory(
            establishment=today_round["shops"][index % 3],
            inspector=inspector,
            outcome="violations" if index < 3 else "compliant",
        )
    rows = api.as_user(supervisor).get("inspectors/consistency").json()
    assert rows[0]["observed"] == 3 and rows[0]["expected"] == 3 and rows[0]["signal"] == "as_expected"
    assert api.as_user(supervisor).get("inspectors/consistency", {"days": 1}).status_code == 422
