"""GET analytics/indicators.pdf (the monthly Arabic report) and the municipality filter of the
indicators: the October 2026 world of test_analytics_indicators, whose figures are worked out there by
hand; the PDF's text is read back (pdftotext, with pypdf as the fallback) and must carry the Arabic
indicator names, the values, both calendars' month and the letterhead."""

import io

import pytest
from pypdf import PdfReader

from analytics import indicators
from analytics.models import IndicatorTarget
from enforcement.models import Letterhead
from tests.browser_support import SCREENSHOTS
from tests.factories import MunicipalityFactory
from tests.test_analytics_indicators import by_key, world  # noqa: F401 - the hand-computed world


def pdf_text(content: bytes) -> str:
    """The PDF's text as pypdf extracts it (it maps the shaped glyphs back to their letters)."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def contains(text: str, phrase: str) -> bool:
    """Extraction may hand back a right-to-left line's words in visual order, and puts an RLM mark
    (U+200F, written before right-aligned cells) where it stands."""
    flat = text.replace("\u200f", " ")
    flat = " ".join(flat.split())
    return phrase in flat or " ".join(reversed(phrase.split())) in flat


def test_october_pdf_in_arabic_with_values_targets_and_letterhead(api, admin_user, leader, world, tmp_path):  # noqa: F811
    Letterhead.objects.create(
        municipality=world["dammam"], title_ar="أمانة المنطقة الشرقية", subtitle_ar="بلدية الدمام"
    )
    admin = api.as_user(admin_user)
    assert (
        admin.raw("PUT", "analytics/indicators/targets/coverage", b'{"target": 0.6, "amber_margin": 0.2}').status_code
        == 200
    )
    response = api.as_user(leader).get(
        "analytics/indicators.pdf", {"month": "2026-10", "municipality": world["dammam"].id}
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="jawla-indicators-gregorian-2026-10.pdf"'
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "indicators-report-2026-10.pdf").write_bytes(response.content)  # to look at
    text = pdf_text(response.content)
    for phrase in ("مؤشرات الأداء المؤسسي", "تغطية التفتيش", "نسبة المخالفات", "المخالفات المصححة في موعدها",
                   "أكتوبر", "بلدية الدمام", "التعريفات", "أمانة المنطقة الشرقية"):  # fmt: skip
        assert contains(text, phrase), phrase
    # Dammam, October (by hand in test_analytics_indicators): coverage 2 of 4, median 13.5 days,
    # inspections per inspector-day 4 / 42; coverage 50% against 60% within 20 points: amber, in words.
    assert "50.0%" in text and "2 / 4" in text and "13.5" in text and "0.10" in text
    assert "60.0%" in text and contains(text, "قريب من الهدف")
    assert "الخبر" not in text  # the filter holds: Khobar is left out
    # Both calendars: October 2026 runs from 20 Rabi al-Thani to 20 Jumada al-Ula 1448 (extraction
    # splits some ligatures of the month names, so their first words are checked).
    assert "ربيع" in text and "جمادى" in text and "1448" in text


def test_hijri_month_pdf_names_the_hijri_month_and_its_gregorian_days(api, leader, world, tmp_path):  # noqa: F811
    response = api.as_user(leader).get("analytics/indicators.pdf", {"hijri_month": "1448-05", "group_by": "total"})
    assert response.status_code == 200, response.content
    text = pdf_text(response.content)
    assert "جمادى" in text and "1448" in text
    assert "2026/10/" in text or "/10/2026" in text
    assert text.count("هدف محدد") == len(indicators.INDICATORS)  # no targets yet: each one says so in words


def test_the_municipality_filter_narrows_the_table_and_an_amanah_covers_its_municipalities(
    api,
    leader,
    world,  # noqa: F811
    amanah,
):
    client = api.as_user(leader)
    only = client.get("analytics/indicators", {"month": "2026-10", "municipality": world["khobar"].id}).json()
    assert list(by_key(only)) == [str(world["khobar"].id)]
    whole = client.get("analytics/indicators", {"month": "2026-10", "municipality": amanah.id}).json()
    assert set(by_key(whole)) == {str(world["dammam"].id), str(world["khobar"].id)}


@pytest.mark.parametrize("path", ["analytics/indicators", "analytics/indicators.csv", "analytics/indicators.pdf"])
@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-13"},
        {"month": "2026-10", "hijri_month": "1448-05"},
        {"hijri_month": "1501-01"},
        {"month": "2026-10", "municipality": "abc"},
        {"month": "2026-10", "municipality": 0},
        {"month": "2026-10", "municipality": 999_999},
        {"month": "2026-10", "group_by": "nonsense"},
    ],
)
def test_bad_month_or_municipality_is_a_4xx_json_answer(api, leader, world, path, params):  # noqa: F811
    response = api.as_user(leader).get(path, params)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/json")
    assert IndicatorTarget.objects.count() == 0


def test_a_municipality_outside_the_callers_scope_is_refused_like_an_unknown_one(api, supervisor, world):  # noqa: F811
    elsewhere = MunicipalityFactory(code="QATIF", name_en="Qatif", name_ar="القطيف")
    for municipality in (world["khobar"].id, elsewhere.id):
        response = api.as_user(supervisor).get(
            "analytics/indicators.pdf", {"month": "2026-10", "municipality": municipality}
        )
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "validation_error" and response.json()["detail"]


def test_inspectors_may_not_have_the_pdf(api, inspector, world):  # noqa: F811
    assert api.as_user(inspector).get("analytics/indicators.pdf", {"month": "2026-10"}).status_code == 403
