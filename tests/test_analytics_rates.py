"""GET analytics/violation-rates: figures and Wilson intervals checked against values computed here."""

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from inspections.models import Membership, Visit
from tests.factories import (
    CategoryFactory,
    ChecklistItemFactory,
    ChecklistVersionFactory,
    EstablishmentFactory,
    VisitFactory,
    make_user,
)

RIYADH = ZoneInfo("Asia/Riyadh")
OUT = Visit.Outcome


def wilson(k: int, n: int) -> tuple[float, float]:
    """Written out independently of analytics.selectors (Wilson score interval, z = 1.96)."""
    z = 1.96
    p = k / n
    centre = p + z**2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - margin) / (1 + z**2 / n), (centre + margin) / (1 + z**2 / n)


def at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=RIYADH)


def visits(establishment, outcomes, when):
    for outcome in outcomes:
        VisitFactory(establishment=establishment, outcome=outcome, finished_at=when)


@pytest.fixture
def world(dammam, khobar):
    grocery = CategoryFactory(code="grocery", name_en="Grocery", name_ar="بقالة")
    bakery = CategoryFactory(code="bakery", name_en="Bakery", name_ar="مخبز")
    d_shop = EstablishmentFactory(municipality=dammam, category=grocery)
    d_bakery = EstablishmentFactory(municipality=dammam, category=bakery)
    k_shop = EstablishmentFactory(municipality=khobar, category=grocery)
    # Dammam, November: 7 completed (3 violating) + 2 not completed (left out of every rate).
    visits(d_shop, [OUT.VIOLATIONS, OUT.VIOLATIONS, OUT.COMPLIANT, OUT.COMPLIANT, OUT.COMPLIANT], at(2026, 11, 3))
    visits(d_bakery, [OUT.VIOLATIONS, OUT.COMPLIANT], at(2026, 11, 4))
    visits(d_shop, [OUT.CLOSED, OUT.REFUSED_ENTRY], at(2026, 11, 5))
    # Dammam, October: 4 completed, 4 violating.
    visits(d_shop, [OUT.VIOLATIONS] * 4, at(2026, 10, 10))
    # Khobar, November: 10 completed, 1 violating.
    visits(k_shop, [OUT.VIOLATIONS] + [OUT.COMPLIANT] * 9, at(2026, 11, 6))
    return {"grocery": grocery, "bakery": bakery, "d_shop": d_shop, "k_shop": k_shop}


def rows_by_key(response):
    assert response.status_code == 200, response.content
    return {row["key"]: row for row in response.json()}


def assert_row(row, visits_n, violating):
    assert row["visits"] == visits_n
    assert row["violating_visits"] == violating
    assert row["rate"] == pytest.approx(violating / visits_n)
    low, high = wilson(violating, visits_n)
    assert row["ci_low"] == pytest.approx(low, abs=1e-4)
    assert row["ci_high"] == pytest.approx(high, abs=1e-4)
    assert row["ci_low"] <= row["rate"] <= row["ci_high"]


def test_rates_by_municipality_match_hand_computed_wilson(api, leader, world, dammam, khobar):
    rows = rows_by_key(api.as_user(leader).get("analytics/violation-rates", {"group_by": "municipality"}))
    assert set(rows) == {str(dammam.id), str(khobar.id)}
    assert_row(rows[str(dammam.id)], 11, 7)  # closed and refused entry are not completed visits
    assert_row(rows[str(khobar.id)], 10, 1)
    assert rows[str(dammam.id)]["label"] == "Dammam"
    # Hand-checked figure for 1 of 10: Wilson 95% is about [0.0179, 0.4042].
    assert rows[str(khobar.id)]["ci_low"] == pytest.approx(0.0179, abs=1e-3)
    assert rows[str(khobar.id)]["ci_high"] == pytest.approx(0.4042, abs=1e-3)


def test_labels_follow_accept_language(api, leader, world, dammam):
    client = api.as_user(leader)
    client.language = "ar"
    rows = rows_by_key(client.get("analytics/violation-rates", {"group_by": "municipality"}))
    assert rows[str(dammam.id)]["label"] == "الدمام"


def test_date_filter_and_category(api, leader, world, dammam):
    client = api.as_user(leader)
    rows = rows_by_key(
        client.get("analytics/violation-rates", {"group_by": "municipality", "from": "2026-11-01", "to": "2026-11-30"})
    )
    assert_row(rows[str(dammam.id)], 7, 3)
    rows = rows_by_key(client.get("analytics/violation-rates", {"group_by": "category"}))
    assert_row(rows[str(world["grocery"].id)], 19, 7)
    assert_row(rows[str(world["bakery"].id)], 2, 1)
    rows = rows_by_key(
        client.get("analytics/violation-rates", {"group_by": "municipality", "category": world["bakery"].id})
    )
    assert list(rows) == [str(dammam.id)]
    assert_row(rows[str(dammam.id)], 2, 1)


def test_day_boundaries_are_riyadh_days(api, leader, dammam):
    shop = EstablishmentFactory(municipality=dammam)
    # 23:30 Riyadh on 30 November is 20:30 UTC: it belongs to 30 November, not 1 December.
    VisitFactory(establishment=shop, outcome=OUT.VIOLATIONS, finished_at=datetime(2026, 11, 30, 23, 30, tzinfo=RIYADH))
    client = api.as_user(leader)
    rows = rows_by_key(client.get("analytics/violation-rates", {"from": "2026-11-30", "to": "2026-11-30"}))
    assert rows[str(dammam.id)]["visits"] == 1
    assert client.get("analytics/violation-rates", {"from": "2026-12-01"}).json() == []


def test_month_and_hijri_month(api, leader, world):
    client = api.as_user(leader)
    rows = rows_by_key(client.get("analytics/violation-rates", {"group_by": "month"}))
    assert set(rows) == {"2026-10", "2026-11"}
    assert_row(rows["2026-10"], 4, 4)
    assert_row(rows["2026-11"], 17, 4)
    assert rows["2026-11"]["label"].startswith("November 2026")
    # Umm al-Qura: 10 Oct 2026 is 28 Rabi al-Thani 1448; 3-6 Nov 2026 are 22-25 Jumada al-Ula 1448.
    client.language = "ar"
    rows = rows_by_key(client.get("analytics/violation-rates", {"group_by": "hijri_month"}))
    assert set(rows) == {"1448-04", "1448-05"}
    assert_row(rows["1448-05"], 17, 4)
    assert rows["1448-05"]["label"] == "جمادى الأولى 1448 هـ"


def test_by_inspector(api, leader, dammam):
    shop = EstablishmentFactory(municipality=dammam)
    ali = make_user(Membership.Role.INSPECTOR, dammam, username="ali")
    for outcome in (OUT.VIOLATIONS, OUT.COMPLIANT, OUT.COMPLIANT):
        VisitFactory(establishment=shop, inspector=ali, outcome=outcome)
    rows = rows_by_key(api.as_user(leader).get("analytics/violation-rates", {"group_by": "inspector"}))
    assert_row(rows[str(ali.id)], 3, 1)


def test_item_rate_denominator_is_visits_that_answered_the_item(api, leader, dammam):
    from inspections.models import Answer

    version = ChecklistVersionFactory()
    masks = ChecklistItemFactory(version=version, code="MASKS", text_en="Staff wear masks", text_ar="ارتداء الكمامات")
    sanitiser = ChecklistItemFactory(version=version, code="SANITISER", text_en="Sanitiser at the door")
    shop = EstablishmentFactory(municipality=dammam)
    # 6 completed visits: all answer MASKS (2 fail); only 3 answer SANITISER (1 fails) and 1 says N/A.
    for index in range(6):
        visit = VisitFactory(
            establishment=shop, checklist_version=version, outcome=OUT.VIOLATIONS if index < 2 else OUT.COMPLIANT
        )
        Answer.objects.create(
            visit=visit, item=masks, item_code="MASKS", value="no" if index < 2 else "yes", failed=index < 2
        )
        if index in (0, 2, 3):
            Answer.objects.create(
                visit=visit,
                item=sanitiser,
                item_code="SANITISER",
                value="no" if index == 0 else "yes",
                failed=index == 0,
            )
        if index == 4:
            Answer.objects.create(visit=visit, item=sanitiser, item_code="SANITISER", value="na", failed=False)
    # A refused entry with a failed answer is not a completed visit.
    refused = VisitFactory(establishment=shop, checklist_version=version, outcome=OUT.REFUSED_ENTRY)
    Answer.objects.create(visit=refused, item=masks, item_code="MASKS", value="no", failed=True)
    rows = rows_by_key(api.as_user(leader).get("analytics/violation-rates", {"group_by": "item"}))
    assert_row(rows["MASKS"], 6, 2)
    assert_row(rows["SANITISER"], 3, 1)
    assert rows["MASKS"]["label"] == "Staff wear masks"


def test_supervisor_sees_only_their_municipality(api, supervisor, world, dammam, khobar):
    rows = rows_by_key(api.as_user(supervisor).get("analytics/violation-rates", {"group_by": "municipality"}))
    assert list(rows) == [str(dammam.id)]
    # Asking for another municipality gives nothing, not its figures.
    response = api.as_user(supervisor).get("analytics/violation-rates", {"municipality": khobar.id})
    assert response.status_code == 200 and response.json() == []
    rows = rows_by_key(api.as_user(supervisor).get("analytics/violation-rates", {"group_by": "category"}))
    assert_row(rows[str(world["grocery"].id)], 9, 6)


@pytest.mark.parametrize("path", ["analytics/violation-rates", "analytics/heatmap", "analytics/overdue-findings"])
def test_inspector_is_refused(api, inspector, world, path):
    response = api.as_user(inspector).get(path)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_anonymous_is_401(api, world):
    assert api.get("analytics/violation-rates").status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "planet"},
        {"from": "2026-13-01"},
        {"from": "yesterday"},
        {"from": "2026-11-10", "to": "2026-11-01"},
        {"municipality": "abc"},
        {"municipality": "-4"},
        {"checklist": "1.5"},
    ],
)
def test_bad_query_params_are_422_json(api, leader, world, params):
    response = api.as_user(leader).get("analytics/violation-rates", params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["detail"]


@pytest.mark.parametrize("params", [{}, {"from": "2026-10-01", "to": "2026-11-30"}, {"from": "2026-10-31"}])
def test_months_are_riyadh_months(api, leader, dammam, params):
    """A visit at 23:30 on 31 October (Riyadh) is October's, one at 01:00 on 1 November November's,
    though both are 31 October in UTC."""
    shop = EstablishmentFactory(municipality=dammam)
    VisitFactory(establishment=shop, outcome=OUT.VIOLATIONS, finished_at=datetime(2026, 10, 31, 23, 30, tzinfo=RIYADH))
    VisitFactory(establishment=shop, outcome=OUT.COMPLIANT, finished_at=datetime(2026, 11, 1, 1, 0, tzinfo=RIYADH))
    VisitFactory(establishment=shop, outcome=OUT.COMPLIANT, finished_at=datetime(2026, 11, 1, 2, 0, tzinfo=RIYADH))
    rows = rows_by_key(api.as_user(leader).get("analytics/violation-rates", {"group_by": "month", **params}))
    assert set(rows) == {"2026-10", "2026-11"}
    assert_row(rows["2026-10"], 1, 1)
    assert_row(rows["2026-11"], 2, 0)
