"""The signed visit report: a PAdES signature that pyHanko's validator accepts and that fails after one
byte of the file changes; the QR on the rendered page (pdftoppm) decodes (zxing-cpp) to the
verification URL; the verification page checks the stored PDF, its signature and the visit's hash."""

import io
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from enforcement.models import VisitReport
from enforcement.services.evidence import evidence_seal_pending
from enforcement.services.penalties import penalties_assess_due
from enforcement.services.reports import pdf_signature_status
from inspections.models import Visit
from tests.enforcement_support import violating_visit, violation

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(api, inspector, supervisor, dammam, settings):
    settings.PUBLIC_BASE_URL = "https://jawla.example.sa"
    violation(grade="serious", grace=0, closure_days=2)
    visit, _finding = violating_visit(inspector=inspector, municipality=dammam)
    penalties_assess_due()
    evidence_seal_pending(now=timezone.now() + timedelta(hours=1))
    response = api.as_user(supervisor).post(f"enforcement/visits/{visit.pk}/reports")
    assert response.status_code == 201, response.content
    return VisitReport.objects.get(pk=response.json()["id"])


def _pdf(report) -> bytes:
    with default_storage.open(report.pdf.name, "rb") as handle:
        return handle.read()


def test_the_signed_pdf_validates_and_fails_after_one_byte(report, api, supervisor):
    downloaded = api.as_user(supervisor).get(f"enforcement/reports/{report.pk}/pdf")
    pdf = b"".join(downloaded.streaming_content)
    assert downloaded["Content-Type"] == "application/pdf" and pdf == _pdf(report)
    assert pdf_signature_status(pdf) == {"signed": True, "intact": True, "valid": True}

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert report.number in text
    # One byte inside the signed range (the first page's content, well before the signature) changed.
    tampered = bytearray(pdf)
    position = pdf.index(b"stream", 200) + 20
    tampered[position] ^= 0x01
    assert pdf_signature_status(bytes(tampered))["valid"] is False


def test_the_qr_decodes_to_the_verification_url(report, tmp_path):
    source = tmp_path / "report.pdf"
    source.write_bytes(_pdf(report))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(source), str(tmp_path / "page")], check=True
    )
    page = next(Path(tmp_path).glob("page*.png"))
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    Image.open(page).save(artifacts / "enforcement-report-page1.png")
    codes = zxingcpp.read_barcodes(Image.open(page))
    assert [code.text for code in codes] == [f"https://jawla.example.sa/verify/{report.code}/"]


def test_the_verification_page_checks_pdf_signature_and_record(report):
    client = Client()
    page = client.get(f"/verify/{report.code}/?lang=en")
    html = page.content.decode()
    assert page.status_code == 200
    assert report.number in html and "The record matches its hash and signature" in html
    assert report.visit.inspector.username not in html  # no personal data

    Visit.objects.filter(pk=report.visit_id).update(notes="rewritten afterwards")
    assert (
        "Warning: the record or the report does not match"
        in client.get(f"/verify/{report.code}/?lang=en").content.decode()
    )


def test_a_tampered_stored_pdf_is_shown_as_such(report):
    pdf = bytearray(_pdf(report))
    pdf[pdf.index(b"stream", 200) + 20] ^= 0x01
    default_storage.delete(report.pdf.name)
    default_storage.save(report.pdf.name, io.BytesIO(bytes(pdf)))
    html = Client().get(f"/verify/{report.code}/").content.decode()
    assert "تحذير" in html


def test_unknown_codes_are_404():
    assert Client().get(f"/verify/{uuid.uuid4().hex}/").status_code == 404


def test_inspectors_do_not_issue_reports(api, inspector, dammam):
    visit, _finding = violating_visit(inspector=inspector, municipality=dammam)
    response = api.as_user(inspector).post(f"enforcement/visits/{visit.pk}/reports")
    assert response.status_code == 403 and not VisitReport.objects.exists()
