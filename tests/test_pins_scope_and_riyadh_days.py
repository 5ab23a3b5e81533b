"""Issue 11 item 22 (data side): rules the suite did not pin.

- Leadership's scope: with a second Amanah and a leader of part of the first one, a leader who
  could see "everything" is caught on every read (lists, details, analytics, exports).
- Riyadh days: a visit at 01:00 Riyadh on the 1st (22:00 UTC the day before) belongs to the 1st for
  a finding's due date and for every date filter; with UTC days it would fall on the previous day.
- The visits export holds closed and refused visits (the rates leave them out)."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from inspections.models import Finding, Membership, Visit
from tests.factories import (
    AmanahFactory,
    EstablishmentFactory,
    MunicipalityFactory,
    UserFactory,
    VisitFactory,
    make_user,
)
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db
RIYADH = ZoneInfo("Asia/Riyadh")
Role = Membership.Role


# --- leadership scope over two Amanahs ----------------------------------------------------------


@pytest.fixture
def two_amanahs(amanah, dammam, khobar):
    riyadh_amanah = AmanahFactory(code="RY-AMANAH", name_ar="أمانة منطقة الرياض", name_en="Riyadh Amanah")
    olaya = MunicipalityFactory(
        code="OLAYA", name_en="Olaya", name_ar="العليا", parent=riyadh_amanah, centre_lat=24.69, centre_lon=46.68
    )
    inspector = UserFactory()
    visits = {}
    for municipality in (dammam, khobar, olaya):
        establishment = EstablishmentFactory(municipality=municipality)
        visits[municipality.code] = VisitFactory(
            establishment=establishment, inspector=inspector, outcome=Visit.Outcome.VIOLATIONS, violation_count=1
        )
    return {
        "visits": visits,
        "eastern_leader": make_user(Role.LEADERSHIP, username="eastern_leader", amanah=amanah),
        "dammam_leader": make_user(Role.LEADERSHIP, dammam, username="dammam_leader"),
        "riyadh_leader": make_user(Role.LEADERSHIP, username="riyadh_leader", amanah=riyadh_amanah),
    }


def _seen(api, user) -> dict[str, set]:
    client = api.as_user(user)
    visits = {row["id"] for row in client.get("visits", {"limit": 200}).json()["items"]}
    establishments = {row["id"] for row in client.get("establishments", {"limit": 200}).json()["items"]}
    rates = {row["key"] for row in client.get("analytics/violation-rates").json()}
    cells = [f["properties"]["visits"] for f in client.get("analytics/heatmap", {"resolution": 9}).json()["features"]]
    exported = client.get("analytics/exports/visits.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    return {
        "visits": visits,
        "establishments": establishments,
        "rates": rates,
        "heatmap_visits": {sum(cells)},
        "export": {int(row["id"]) for row in rows},
    }


@pytest.mark.parametrize(
    ("leader", "codes"),
    [("eastern_leader", {"DAMMAM", "KHOBAR"}), ("dammam_leader", {"DAMMAM"}), ("riyadh_leader", {"OLAYA"})],
)
def test_leadership_sees_its_own_part_and_nothing_else(api, two_amanahs, leader, codes):
    user = two_amanahs[leader]
    visits = two_amanahs["visits"]
    mine = {visits[code] for code in codes}
    others = set(visits.values()) - mine
    seen = _seen(api, user)
    assert seen["visits"] == {visit.pk for visit in mine}
    assert seen["establishments"] == {visit.establishment_id for visit in mine}
    assert seen["rates"] == {str(visit.municipality_id) for visit in mine}
    assert seen["heatmap_visits"] == {len(mine)}
    assert seen["export"] == {visit.pk for visit in mine}
    client = api.as_user(user)
    for visit in others:
        assert client.get(f"visits/{visit.pk}").status_code == 404
        assert client.get(f"analytics/exports/visits/{visit.pk}/report.pdf").status_code == 404
    for visit in mine:
        assert client.get(f"visits/{visit.pk}").status_code == 200


# --- Riyadh days at 01:00 on the 1st ------------------------------------------------------------


def _first_of_month_at_one() -> datetime:
    """01:00 Riyadh on the 1st of this month (of last month on the 1st itself): 22:00 UTC the day before."""
    today = timezone.localdate()
    first = today.replace(day=1) if today.day > 1 else (today - timedelta(days=1)).replace(day=1)
    return datetime(first.year, first.month, 1, 1, 0, tzinfo=RIYADH)


def test_a_findings_due_date_counts_riyadh_days(api, dammam, inspector, settings):
    version, _items = make_checklist()
    finished = _first_of_month_at_one()
    assert finished.astimezone(ZoneInfo("UTC")).day != 1  # the day before in UTC: the case UTC days get wrong
    payload = visit_payload(shop(dammam), version, finished_at=finished, MASKS="no")
    response = api.as_user(inspector).post("visits/sync", {"visits": [payload]})
    assert response.json()["results"][0]["status"] == "created"
    finding = Finding.objects.get()
    assert finding.due_date == finished.date() + timedelta(days=settings.FINDING_DUE_DAYS["minor"])


@pytest.fixture
def at_one_on_the_first(dammam, khobar):
    finished = _first_of_month_at_one()
    establishment = EstablishmentFactory(municipality=dammam)
    visit = VisitFactory(
        establishment=establishment, outcome=Visit.Outcome.VIOLATIONS, violation_count=1, finished_at=finished
    )
    return visit


def test_analytics_date_filters_count_riyadh_days(api, leader, at_one_on_the_first):
    client = api.as_user(leader)
    day = at_one_on_the_first.finished_at.astimezone(RIYADH).date()
    before = (day - timedelta(days=1)).isoformat()

    def total(query: dict) -> int:
        return sum(row["visits"] for row in client.get("analytics/violation-rates", query).json())

    assert total({"from": day.isoformat(), "to": day.isoformat()}) == 1
    assert total({"to": before}) == 0
    assert total({"from": before, "to": before}) == 0
    months = client.get("analytics/violation-rates", {"group_by": "month"}).json()
    assert [row["key"] for row in months] == [f"{day:%Y-%m}"]
    cells = client.get("analytics/heatmap", {"from": day.isoformat(), "to": day.isoformat()}).json()["features"]
    assert sum(feature["properties"]["visits"] for feature in cells) == 1
    assert client.get("analytics/heatmap", {"to": before}).json()["features"] == []
    exported = client.get("analytics/exports/visits.csv", {"from": day.isoformat(), "to": day.isoformat()})
    assert len(list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))) == 1
    listed = client.get("visits", {"date_from": day.isoformat(), "date_to": day.isoformat()}).json()
    assert listed["count"] == 1
    assert client.get("visits", {"date_to": before}).json()["count"] == 0


# --- the visits export holds every outcome ------------------------------------------------------


def test_visits_export_holds_closed_and_refused_visits(api, leader, dammam):
    establishment = EstablishmentFactory(municipality=dammam)
    inspector = UserFactory()
    by_outcome = {
        outcome: VisitFactory(establishment=establishment, inspector=inspector, outcome=outcome)
        for outcome in Visit.Outcome.values
    }
    assert set(by_outcome) == {"compliant", "violations", "closed", "refused_entry"}
    client = api.as_user(leader)
    exported = client.get("analytics/exports/visits.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert {row["outcome"]: int(row["id"]) for row in rows} == {k: v.pk for k, v in by_outcome.items()}
    geojson = client.get("analytics/exports/visits.geojson")
    features = __import__("json").loads(b"".join(geojson.streaming_content))["features"]
    assert {feature["properties"]["outcome"] for feature in features} == set(by_outcome)
    # ...while the rates count completed visits only.
    [rate] = client.get("analytics/violation-rates").json()
    assert rate["visits"] == 2
