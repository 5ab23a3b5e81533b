"""GET analytics/overdue-findings, and the PostgreSQL covering index behind the rates."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from inspections.models import Answer, Finding, Visit
from tests.factories import ChecklistItemFactory, EstablishmentFactory, UserFactory, VisitFactory


def finding(municipality, *, due_in_days: int, status=Finding.Status.OPEN, code="MASKS"):
    item = ChecklistItemFactory(code=code, text_en="Staff wear masks", text_ar="ارتداء الكمامات")
    shop = EstablishmentFactory(municipality=municipality, name_ar="مطعم الواحة", name_en="Oasis")
    visit = VisitFactory(establishment=shop, checklist_version=item.version, outcome=Visit.Outcome.VIOLATIONS,
                         inspector=UserFactory())  # fmt: skip
    answer = Answer.objects.create(visit=visit, item=item, item_code=code, value="no", failed=True)
    return Finding.objects.create(
        visit=visit, answer=answer, establishment=shop, municipality=municipality, item_code=code,
        severity="critical", due_date=timezone.localdate() + timedelta(days=due_in_days), status=status,
        opened_at=visit.finished_at,
    )  # fmt: skip


def test_only_open_findings_past_due_in_scope(api, supervisor, dammam, khobar):
    late = finding(dammam, due_in_days=-3)
    finding(dammam, due_in_days=0)  # due today: not yet overdue
    finding(dammam, due_in_days=-5, status=Finding.Status.CLOSED)
    finding(khobar, due_in_days=-9)  # another municipality
    response = api.as_user(supervisor).get("analytics/overdue-findings")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["id"] == late.id and row["days_overdue"] == 3
    assert row["item"] == "Staff wear masks" and row["establishment"] == "Oasis"
    assert row["due_date_hijri"].endswith(" AH")


def test_overdue_in_arabic_with_hijri_due_date(api, leader, dammam, khobar):
    finding(dammam, due_in_days=-1)
    finding(khobar, due_in_days=-2)
    client = api.as_user(leader)
    client.language = "ar"
    body = client.get("analytics/overdue-findings", {"limit": 1}).json()
    assert body["count"] == 2 and len(body["results"]) == 1
    assert body["results"][0]["days_overdue"] == 2  # oldest due first
    assert body["results"][0]["establishment"] == "مطعم الواحة"
    assert body["results"][0]["due_date_hijri"].endswith(" هـ")
    assert client.get("analytics/overdue-findings", {"limit": 0}).status_code == 422


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="the partial covering index is PostgreSQL-only")
@pytest.mark.django_db
def test_completed_visits_covering_index_exists():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'analytics_visit_completed_idx'")
        [(definition,)] = cursor.fetchall()
    assert "INCLUDE" in definition and "compliant" in definition and "violations" in definition


def test_offset_pages_through_every_overdue_finding_oldest_first(api, supervisor, dammam):
    made = [finding(dammam, due_in_days=-days) for days in range(1, 6)]  # due 1..5 days ago
    client = api.as_user(supervisor)
    pages = [client.get("analytics/overdue-findings", {"limit": 2, "offset": offset}).json() for offset in (0, 2, 4, 6)]
    assert [page["count"] for page in pages] == [5, 5, 5, 5]
    ids = [row["id"] for page in pages for row in page["results"]]
    assert ids == [f.id for f in reversed(made)]  # the oldest due first, each once, the last page empty


@pytest.mark.parametrize("params", [{"offset": -1}, {"offset": "x"}, {"offset": 10**12}, {"limit": 0}])
def test_bad_paging_is_422(api, supervisor, dammam, params):
    assert api.as_user(supervisor).get("analytics/overdue-findings", params).status_code == 422
