"""Exports: CSV (BOM, Arabic round trip), GeoJSON and the PDF visit report (opens, holds the Hijri date)."""

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hijridate import Gregorian
from pypdf import PdfReader

from inspections.models import Answer, Finding, Visit
from tests.factories import (
    ChecklistItemFactory,
    ChecklistVersionFactory,
    EstablishmentFactory,
    UserFactory,
    VisitFactory,
)

RIYADH = ZoneInfo("Asia/Riyadh")
OUT = Visit.Outcome


@pytest.fixture
def visit(dammam, khobar):
    inspector = UserFactory(username="insp_report", first_name="سالم", last_name="")
    version = ChecklistVersionFactory()
    item = ChecklistItemFactory(version=version, code="MASKS", text_ar="ارتداء الكمامات", severity="major")
    shop = EstablishmentFactory(municipality=dammam, name_ar="بقالة النور، فرع ١", name_en='Al-Noor "One"')
    found = VisitFactory(
        establishment=shop,
        inspector=inspector,
        checklist_version=version,
        outcome=OUT.VIOLATIONS,
        violation_count=1,
        finished_at=datetime(2026, 11, 3, 10, 15, tzinfo=RIYADH),
    )
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
    VisitFactory(establishment=EstablishmentFactory(municipality=khobar, name_ar="مخبز الخبر"), inspector=inspector)
    return found


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_visits_csv_round_trips_arabic(api, leader, visit):
    response = api.as_user(leader).get("analytics/exports/visits.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = {int(row["id"]): row for row in read_csv(response)}
    assert len(rows) == 2
    row = rows[visit.id]
    assert row["establishment_ar"] == "بقالة النور، فرع ١"
    assert row["establishment_en"] == 'Al-Noor "One"'
    assert row["municipality_ar"] == "الدمام"
    assert row["outcome"] == "violations" and row["has_violation"] == "t"
    assert row["finished_at"] == "2026-11-03T07:15:00Z"


def test_visits_csv_filters_and_scope(api, leader, supervisor_khobar, visit, dammam):
    rows = read_csv(api.as_user(leader).get("analytics/exports/visits.csv", {"municipality": dammam.id}))
    assert [int(r["id"]) for r in rows] == [visit.id]
    rows = read_csv(api.as_user(supervisor_khobar).get("analytics/exports/visits.csv"))
    assert [r["municipality_ar"] for r in rows] == ["الخبر"]
    rows = read_csv(api.as_user(leader).get("analytics/exports/visits.csv", {"from": "2030-01-01"}))
    assert rows == []


def test_findings_csv_and_geojson(api, leader, visit):
    rows = read_csv(api.as_user(leader).get("analytics/exports/findings.csv"))
    assert len(rows) == 1
    assert rows[0]["item_code"] == "MASKS" and rows[0]["establishment_ar"] == "بقالة النور، فرع ١"
    assert rows[0]["due_date"] == "2026-11-10"
    response = api.as_user(leader).get("analytics/exports/findings.geojson")
    collection = json.loads(b"".join(response.streaming_content))
    assert collection["type"] == "FeatureCollection"
    feature = collection["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [visit.establishment.lon, visit.establishment.lat]}
    assert feature["properties"]["severity"] == "major"


def test_visits_geojson(api, leader, visit):
    response = api.as_user(leader).get("analytics/exports/visits.geojson")
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(b"".join(response.streaming_content).decode())
    by_id = {f["id"]: f for f in collection["features"]}
    lon, lat = by_id[visit.id]["geometry"]["coordinates"]
    assert (lat, lon) == (visit.lat, visit.lon)
    assert by_id[visit.id]["properties"]["establishment_ar"] == "بقالة النور، فرع ١"


def test_exports_refuse_inspectors_and_bad_params(api, inspector, leader, visit):
    assert api.as_user(inspector).get("analytics/exports/visits.csv").status_code == 403
    response = api.as_user(leader).get("analytics/exports/visits.csv", {"from": "not-a-date"})
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert api.as_user(leader).get("analytics/exports/visits.xlsx").status_code in (404, 422)


def test_pdf_report_opens_and_holds_the_hijri_date(api, leader, visit):
    response = api.as_user(leader).get(f"analytics/exports/visits/{visit.id}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "visit-report.pdf").write_bytes(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 1
    hijri = Gregorian(2026, 11, 3).to_hijri()  # computed here, independently of the report code
    numeric = f"{hijri.year:04d}/{hijri.month:02d}/{hijri.day:02d}"
    assert numeric == "1448/05/23"
    text = "".join(page.extract_text() for page in reader.pages)
    assert numeric in text or numeric[::-1] in text
    # Text extraction may return a right-to-left line's digit groups in visual order.
    assert "2026/11/03" in text or "03/11/2026" in text
    assert numeric in reader.metadata.keywords
    # The Arabic font is embedded (IBM Plex Sans Arabic), so the report renders on any machine.
    fonts = str(reader.pages[0]["/Resources"]["/Font"].get_object())
    assert (
        "Plex" in "".join(str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values())
        or "Plex" in fonts
    )


def test_pdf_report_of_another_municipality_is_404(api, supervisor_khobar, visit):
    response = api.as_user(supervisor_khobar).get(f"analytics/exports/visits/{visit.id}/report.pdf")
    assert response.status_code == 404


def test_pdf_report_with_an_impossible_id_is_a_4xx(api, leader, visit):
    for visit_id in ("0", str(2**70), "abc"):
        response = api.as_user(leader).get(f"analytics/exports/visits/{visit_id}/report.pdf")
        assert response.status_code in (404, 422), visit_id
