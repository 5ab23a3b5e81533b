"""GET analytics/visits: the visits behind the dashboard's figures (its drill-down lists them)."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inspections.models import AuditEvent, Visit
from tests.factories import EstablishmentFactory, UserFactory, VisitFactory


def visit(municipality, *, days_ago: int, outcome=Visit.Outcome.COMPLIANT, violations=0, inspector=None):
    shop = EstablishmentFactory(municipality=municipality, name_ar=f"محل {days_ago}", name_en=f"Shop {days_ago}")
    return VisitFactory(
        establishment=shop,
        inspector=inspector or UserFactory(first_name="Saad", last_name="Ali"),
        outcome=outcome,
        violation_count=violations,
        finished_at=timezone.now() - timedelta(days=days_ago),
    )


def test_visits_in_scope_newest_first_with_names_and_any_outcome(api, supervisor, dammam, khobar):
    older = visit(dammam, days_ago=9, outcome=Visit.Outcome.VIOLATIONS, violations=2)
    closed = visit(dammam, days_ago=5, outcome=Visit.Outcome.CLOSED)  # not in the rates, but a visit
    newest = visit(dammam, days_ago=1)
    visit(khobar, days_ago=0)  # outside the supervisor's scope
    response = api.as_user(supervisor).get("analytics/visits")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [row["id"] for row in body["items"]] == [newest.id, closed.id, older.id]
    row = body["items"][2]
    assert (row["establishment"], row["municipality"], row["inspector"]) == ("Shop 9", "Dammam", "Saad Ali")
    assert (row["outcome"], row["violation_count"]) == ("violations", 2)
    assert row["day"] == timezone.localdate(older.finished_at).isoformat() and row["day_hijri"].endswith(" AH")
    assert body["items"][1]["outcome"] == "closed"


def test_the_filters_and_paging_are_the_figures_own(api, leader, dammam, khobar):
    for days_ago in (2, 4, 6):
        visit(khobar, days_ago=days_ago)
    visit(dammam, days_ago=3)
    visit(khobar, days_ago=40)  # before 'from'
    client = api.as_user(leader)
    client.language = "ar"
    since = (timezone.localdate() - timedelta(days=30)).isoformat()
    body = client.get("analytics/visits", {"municipality": khobar.id, "from": since, "limit": 2}).json()
    assert body["count"] == 3 and len(body["items"]) == 2
    assert {row["municipality"] for row in body["items"]} == {"الخبر"}
    assert body["items"][0]["day_hijri"].endswith(" هـ") and body["items"][0]["establishment"] == "محل 2"
    rest = client.get("analytics/visits", {"municipality": khobar.id, "from": since, "limit": 2, "offset": 2}).json()
    assert [row["establishment"] for row in rest["items"]] == ["محل 6"] and rest["count"] == 3
    # A municipality outside the caller's scope shows nothing of it.
    other = api.as_user(leader)
    assert other.get("analytics/visits", {"municipality": 10**9}).json() == {"items": [], "count": 0}


def test_one_query_per_page_whatever_its_length(api, leader, dammam):
    client = api.as_user(leader)
    visit(dammam, days_ago=1)
    visit(dammam, days_ago=2)
    client.get("analytics/visits")  # warm the session and caches
    with CaptureQueriesContext(connection) as two:
        assert len(client.get("analytics/visits").json()["items"]) == 2
    for days_ago in range(3, 9):
        visit(dammam, days_ago=days_ago)
    with CaptureQueriesContext(connection) as eight:
        assert len(client.get("analytics/visits").json()["items"]) == 8
    assert len(eight.captured_queries) == len(two.captured_queries)  # names joined, not one query a row


def test_bad_input_is_a_clear_4xx_and_inspectors_are_refused(api, supervisor, inspector, dammam):
    visit(dammam, days_ago=1)
    events = AuditEvent.objects.count()
    client = api.as_user(supervisor)
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"offset": "many"},
        {"from": "2026-02-31"},
        {"from": "2026-06-02", "to": "2026-06-01"},
        {"municipality": "dammam"},
        {"municipality": 0},
        {"category": 2**63},
    ):
        response = client.get("analytics/visits", params)
        assert response.status_code == 422, (params, response.status_code)
        assert response.json()["code"] == "validation_error", params
    refused = api.as_user(inspector).get("analytics/visits")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api.get("analytics/visits").status_code == 401
    assert AuditEvent.objects.count() == events  # reading writes nothing
