"""A confirmed public report raises the establishment's risk: community's factor reaches the risk queue
(and so the planner) through settings.RISK_EXTRA_FACTORS, without inspections importing community.
A dismissed report, or one whose inspection found nothing, adds nothing."""

from datetime import date

import pytest

from community.models import Case
from inspections.domain.risk import EXTRA_FACTOR_MAX_POINTS, RiskInputs, risk_assess, with_extra_factors
from tests.community_support import Open311, as_json, code_of
from tests.factories import CategoryFactory, RoundFactory, RoundStopFactory
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


def test_extra_factors_are_capped_and_explained():
    base = risk_assess(RiskInputs(last_inspection=date(2026, 11, 1), category_rate=0.2), today=date(2026, 11, 30))
    raised = with_extra_factors(base, {"confirmed_reports": 4.0})
    assert raised.score == pytest.approx(base.score + 4.0, abs=0.01)
    assert raised.factors[-1].name == "confirmed_reports" and raised.factors[-1].points == pytest.approx(4.0)
    capped = with_extra_factors(base, {"confirmed_reports": 25.0})
    assert capped.factors[-1].points == EXTRA_FACTOR_MAX_POINTS and capped.factors[-1].value == 25.0
    full = risk_assess(
        RiskInputs(violations=[("critical", date(2026, 11, 30))] * 20, open_findings=9), today=date(2026, 11, 30)
    )
    assert with_extra_factors(full, {"a": 10, "b": 10}).score <= 100.0


@pytest.fixture
def version(dammam):
    version, _items = make_checklist()
    version.status = "published"
    version.save()
    return version


def _report(store, ip):
    data = {"service_code": "expired-products", "address_id": code_of(store), "description": "Expired milk"}
    return int(as_json(Open311(ip=ip).post("requests.json", data))[0]["service_request_id"])


def _visit(api, inspector, store, version, *, case_id=None, supervisor=None, **answers):
    stop = None
    if case_id is not None:
        round_ = RoundFactory(municipality=store.municipality, inspector=inspector, checklist=version.checklist)
        RoundStopFactory(round=round_, establishment=shop(store.municipality, lat=store.lat + 0.05), position=1)
        triaged = api.as_user(supervisor).post(f"community/cases/{case_id}/triage", {"round_id": round_.pk})
        assert triaged.status_code == 200, triaged.content
        stop = round_.stops.get(establishment=store)
    payload = visit_payload(store, version, round_stop=stop, **answers)
    assert api.as_user(inspector).post("visits/sync", {"visits": [payload]}).json()["results"][0]["status"] == "created"


def _queue(api, supervisor, municipality):
    answer = api.as_user(supervisor).get(f"municipalities/{municipality.pk}/risk", {"limit": 5000})
    assert answer.status_code == 200, answer.content
    return answer.json()["items"]


def test_a_confirmed_report_raises_the_score_and_rank_a_dismissed_or_unconfirmed_one_does_not(
    api, dammam, supervisor, inspector, version, settings
):
    category = CategoryFactory(code="grocery-risk")
    twin = shop(dammam, category=category, lat=dammam.centre_lat + 0.001)  # same history, no report
    confirmed = shop(dammam, category=category, lat=dammam.centre_lat + 0.002)
    refuted = shop(dammam, category=category, lat=dammam.centre_lat + 0.003)
    dismissed = shop(dammam, category=category, lat=dammam.centre_lat + 0.004)

    _visit(api, inspector, twin, version, EXPIRED="no")
    _visit(
        api, inspector, confirmed, version, case_id=_report(confirmed, "10.7.0.1"), supervisor=supervisor, EXPIRED="no"
    )
    _visit(api, inspector, refuted, version, case_id=_report(refuted, "10.7.0.2"), supervisor=supervisor)
    dismissed_case = _report(dismissed, "10.7.0.3")
    assert (
        api.as_user(supervisor).post(f"community/cases/{dismissed_case}/dismiss", {"reason": "Wrong shop"}).status_code
        == 200
    )
    states = dict(Case.objects.values_list("establishment_id", "pk"))
    assert set(states) == {confirmed.pk, refuted.pk, dismissed.pk}

    settings.RISK_EXTRA_FACTORS = {}
    without = {row["establishment_id"]: row for row in _queue(api, supervisor, dammam)}
    settings.RISK_EXTRA_FACTORS = {"confirmed_reports": "community.selectors.risk.confirmed_report_factor"}
    rows = _queue(api, supervisor, dammam)
    ranked = [row["establishment_id"] for row in rows]
    by_id = {row["establishment_id"]: row for row in rows}

    # The confirmed report: +2 points (CONFIRMED_REPORT_POINTS, fresh), shown among the factors.
    assert by_id[confirmed.pk]["score"] == pytest.approx(without[confirmed.pk]["score"] + 2.0, abs=0.01)
    (factor,) = [f for f in by_id[confirmed.pk]["factors"] if f["name"] == "confirmed_reports"]
    assert factor["points"] == pytest.approx(2.0, abs=0.01)
    # Its rank: level with its twin without the factor (the twin, older, first), above it with it.
    assert without[confirmed.pk]["score"] == pytest.approx(without[twin.pk]["score"], abs=0.01)
    assert ranked.index(confirmed.pk) < ranked.index(twin.pk)
    # The dismissed report and the one the inspection did not confirm change nothing.
    for store in (twin, refuted, dismissed):
        assert by_id[store.pk]["score"] == without[store.pk]["score"]
        assert "confirmed_reports" not in {f["name"] for f in by_id[store.pk]["factors"]}


def test_a_confirmed_report_raises_the_stored_risk_score_a_dismissed_one_does_not(
    api, dammam, supervisor, inspector, version, settings
):
    """Establishment.risk_score (what the field app and analytics' high-risk indicator read) takes the
    same extra factors, by the same rule: stored at the sync that closes the case, and again by the
    reconciler that announces the closed case (e.g. the factor was switched on in between)."""
    from community.services.cases import cases_reconcile
    from inspections.models import Establishment

    twin = shop(dammam, lat=dammam.centre_lat + 0.001)  # the same failing visit, no report
    confirmed = shop(dammam, lat=dammam.centre_lat + 0.002)
    dismissed = shop(dammam, lat=dammam.centre_lat + 0.003)
    late = shop(dammam, lat=dammam.centre_lat + 0.004)  # closed while the factor was off

    def stored(store):
        return Establishment.objects.get(pk=store.pk).risk_score

    _visit(api, inspector, twin, version, EXPIRED="no")
    base = stored(twin)
    assert base == pytest.approx(10.0)  # one open critical finding (inspections.services.findings.risk_score)

    _visit(
        api, inspector, confirmed, version, case_id=_report(confirmed, "10.7.1.1"), supervisor=supervisor, EXPIRED="no"
    )
    assert stored(confirmed) == pytest.approx(base + 2.0, abs=0.01)  # + CONFIRMED_REPORT_POINTS, fresh

    dismissed_case = _report(dismissed, "10.7.1.2")
    assert (
        api.as_user(supervisor).post(f"community/cases/{dismissed_case}/dismiss", {"reason": "Wrong shop"}).status_code
        == 200
    )
    _visit(api, inspector, dismissed, version, EXPIRED="no")
    assert stored(dismissed) == pytest.approx(base)

    settings.RISK_EXTRA_FACTORS = {}
    _visit(api, inspector, late, version, case_id=_report(late, "10.7.1.3"), supervisor=supervisor, EXPIRED="no")
    assert stored(late) == pytest.approx(base)
    settings.RISK_EXTRA_FACTORS = {"confirmed_reports": "community.selectors.risk.confirmed_report_factor"}
    assert cases_reconcile() == 2  # the confirmed case and the late one are announced closed
    assert stored(late) == pytest.approx(base + 2.0, abs=0.01)
    assert stored(confirmed) == pytest.approx(base + 2.0, abs=0.01)
    assert (stored(twin), stored(dismissed)) == (pytest.approx(base), pytest.approx(base))
