"""Issue 11 items 3 and 4: every stored datetime and every date filter is bounded, a visit has a
maximum duration, and the inputs that answered 500 (an unset phone date, dates at the ends of the
calendar, a 4,001-digit number, a NUL in a sign-in name) answer a clear 4xx or a per-visit error.
Run on SQLite and PostgreSQL: the two failed differently."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import ExifTags, Image

from inspections.models import Answer, Photo, Visit, VisitAmendment
from tests.visit_support import jpeg_bytes, make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db

UNSET_PHONE_DATE = "0001-01-01T00:00:00+14:00"
HUGE = int("9" * 4001)


@pytest.fixture
def setup(dammam, inspector):
    version, items = make_checklist()
    return {"version": version, "shop": shop(dammam)}


def _sync(api, user, visits):
    response = api.as_user(user).post("visits/sync", {"visits": visits})
    assert response.status_code == 200, response.content[:400]
    return response.json()["results"]


def test_unset_phone_start_date_is_refused_per_visit_and_reads_keep_working(api, setup, inspector, supervisor):
    bad = visit_payload(setup["shop"], setup["version"])
    bad["started_at"] = UNSET_PHONE_DATE
    good = visit_payload(setup["shop"], setup["version"])
    results = _sync(api, inspector, [bad, good])
    assert results[0]["status"] == "rejected"
    assert results[0]["errors"][0]["loc"] == ["started_at"]
    assert results[1]["status"] == "created"
    assert Visit.objects.count() == 1
    for user in (inspector, supervisor):
        listed = api.as_user(user).get("visits")
        assert listed.status_code == 200 and listed.json()["count"] == 1
    assert api.as_user(supervisor).get(f"visits/{results[1]['visit_id']}").status_code == 200
    # The inspector's later syncs keep working.
    assert _sync(api, inspector, [visit_payload(setup["shop"], setup["version"])])[0]["status"] == "created"


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z", "1899-12-31T23:00:00+03:00"])
def test_finished_at_out_of_the_calendar_is_refused_per_visit(api, setup, inspector, moment):
    bad = visit_payload(setup["shop"], setup["version"])
    bad["finished_at"] = moment
    results = _sync(api, inspector, [bad, visit_payload(setup["shop"], setup["version"])])
    assert [result["status"] for result in results] == ["rejected", "created"]


def test_a_visit_longer_than_the_maximum_is_refused(api, setup, inspector, settings):
    settings.VISIT_MAX_DURATION = timedelta(hours=12)
    long_visit = visit_payload(setup["shop"], setup["version"], minutes=12 * 60 + 1)
    just_fits = visit_payload(setup["shop"], setup["version"], minutes=12 * 60)
    results = _sync(api, inspector, [long_visit, just_fits])
    assert results[0]["status"] == "rejected"
    assert [error["type"] for error in results[0]["errors"]] == ["duration_too_long"]
    assert "12 hours" in results[0]["errors"][0]["msg"]
    assert results[1]["status"] == "created"


def test_a_4001_digit_number_is_refused_per_visit_not_the_batch(api, setup, inspector):
    huge = visit_payload(setup["shop"], setup["version"], TEMP=HUGE)
    results = _sync(api, inspector, [huge, visit_payload(setup["shop"], setup["version"])])
    assert [result["status"] for result in results] == ["rejected", "created"]
    assert results[0]["errors"][0]["loc"][:2] == ["answers", "3"]  # TEMP


def test_a_4001_digit_number_amendment_is_a_422(api, setup, inspector, supervisor):
    visit_id = _sync(api, inspector, [visit_payload(setup["shop"], setup["version"])])[0]["visit_id"]
    response = api.as_user(supervisor).post(
        f"visits/{visit_id}/amendments", {"reason": "Thermometer misread", "changes": {"answers": {"TEMP": HUGE}}}
    )
    assert response.status_code == 422 and response.json()["code"]
    assert VisitAmendment.objects.count() == 0
    assert Answer.objects.get(visit_id=visit_id, item_code="TEMP").value == 4


def test_nul_in_the_sign_in_name_is_a_422(api, inspector):
    response = api.post("auth/token", {"username": "insp\x00_dammam", "password": "pass12345"})
    assert response.status_code == 422
    assert response.json()["code"]


DATE_QUERIES = [
    ("visits", {"date_to": "9999-12-31"}),
    ("visits", {"date_from": "0001-01-01"}),
    ("rounds", {"date_to": "9999-12-31"}),
    ("analytics/violation-rates", {"to": "9999-12-31"}),
    ("analytics/violation-rates", {"from": "0001-01-01", "group_by": "month"}),
    ("analytics/violation-rates", {"to": "9999-12-31", "group_by": "hijri_month"}),
    ("analytics/heatmap", {"to": "9999-12-31"}),
    ("analytics/heatmap", {"from": "0001-01-01"}),
    ("analytics/exports/visits.csv", {"to": "9999-12-31"}),
    ("analytics/exports/findings.geojson", {"from": "0001-01-01"}),
]


@pytest.mark.parametrize(("path", "query"), DATE_QUERIES)
def test_dates_at_the_ends_of_the_calendar_are_a_422(api, setup, inspector, leader, path, query):
    _sync(api, inspector, [visit_payload(setup["shop"], setup["version"])])
    user = inspector if path in ("rounds", "me/rounds", "visits") else leader
    response = api.as_user(user).get(path, query)
    assert response.status_code == 422, (response.status_code, response.content[:300])
    body = response.json()
    assert "1900-01-01 .. 2199-12-31" in str(body)


def test_dates_inside_the_span_still_filter(api, setup, inspector, leader):
    _sync(api, inspector, [visit_payload(setup["shop"], setup["version"])])
    wide = {"from": "1900-01-01", "to": "2199-12-31"}
    assert api.as_user(leader).get("analytics/violation-rates", {**wide, "group_by": "month"}).status_code == 200
    assert api.as_user(inspector).get("visits", {"date_to": "2199-12-31"}).json()["count"] == 1


def test_an_unset_camera_clock_is_no_capture_time(api, setup, inspector):
    visit_id = _sync(api, inspector, [visit_payload(setup["shop"], setup["version"])])[0]["visit_id"]
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "0001:01:01 00:00:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = "+14:00"
    upload = SimpleUploadedFile("p.jpg", jpeg_bytes(exif=exif), content_type="image/jpeg")
    response = api.as_user(inspector).post(
        f"visits/{visit_id}/photos", data={"file": upload, "client_id": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["exif_taken_at"] is None
    assert api.as_user(inspector).get(f"visits/{visit_id}").status_code == 200
    assert Photo.objects.get().exif_taken_at is None


def test_a_plausible_camera_clock_is_kept(api, setup, inspector):
    visit_id = _sync(api, inspector, [visit_payload(setup["shop"], setup["version"])])[0]["visit_id"]
    exif = Image.Exif()
    taken = timezone.localtime() - timedelta(minutes=3)
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    upload = SimpleUploadedFile("p.jpg", jpeg_bytes(exif=exif), content_type="image/jpeg")
    response = api.as_user(inspector).post(
        f"visits/{visit_id}/photos", data={"file": upload, "client_id": str(uuid.uuid4())}
    )
    assert response.status_code == 201
    assert response.json()["exif_taken_at"].startswith(taken.strftime("%Y-%m-%dT%H:%M:%S"))
