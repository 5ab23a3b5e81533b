"""POST visits/{id}/photos: the pipeline, idempotency, permissions, and refusals that store nothing."""

import io
import os
import random
import struct
import uuid
import zipfile
import zlib
from datetime import datetime

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import ExifTags, Image

from inspections.models import Photo, Visit
from tests.factories import make_user
from tests.visit_support import jpeg_bytes, make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


def media_files() -> set[str]:
    found = set()
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        found.update(os.path.join(root, name) for name in files)
    return found


@pytest.fixture
def visit(api, dammam, inspector):
    version, _ = make_checklist()
    payload = visit_payload(shop(dammam), version, MASKS="no")
    result = api.as_user(inspector).post("visits/sync", {"visits": [payload]}).json()["results"][0]
    return Visit.objects.get(pk=result["visit_id"])


def upload(
    api, user, visit, content: bytes, *, name="photo.jpg", client_id=None, item_code=None, content_type="image/jpeg"
):
    data = {
        "file": SimpleUploadedFile(name, content, content_type=content_type),
        "client_id": str(client_id or uuid.uuid4()),
    }
    if item_code is not None:
        data["item_code"] = item_code
    return api.as_user(user).post(f"visits/{visit.id}/photos", data=data)


def gps_exif(lat=(26.0, 25.0, 14.52), lon=(50.0, 5.0, 19.68), orientation=None):
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: lat, 3: "E", 4: lon}
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:11:20 10:00:00"
    exif[ExifTags.Base.Make] = "PhoneMaker"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    return exif


def test_upload_reencodes_without_exif_and_keeps_evidence(api, inspector, visit):
    # The visit's fix is the shop at (26.4207, 50.0888); the EXIF position is 26°25'14.52" N, 50°5'19.68" E.
    content = jpeg_bytes(size=(640, 480), exif=gps_exif(orientation=6))
    before = media_files()
    response = upload(api, inspector, visit, content, item_code="MASKS")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["exif_lat"] == pytest.approx(26.4207, abs=1e-4)
    assert body["exif_lon"] == pytest.approx(50.0888, abs=1e-4)
    assert body["exif_distance_m"] == pytest.approx(0, abs=5)
    assert datetime.fromisoformat(body["exif_taken_at"]).isoformat().startswith("2026-11-20T10:00:00+03:00")
    assert body["item_code"] == "MASKS"
    assert (body["width"], body["height"]) == (480, 640)  # rotated upright by the EXIF orientation
    # Signed, short-lived URLs of our own (tests/test_photo_access.py), never a public /media/ path.
    assert body["url"].startswith("http://testserver/photos/") and body["url"].endswith(".jpg")
    assert body["thumbnail_url"].startswith("http://testserver/photos/") and body["thumbnail_url"] != body["url"]

    photo = Photo.objects.get()
    assert len(media_files() - before) == 2
    with default_storage.open(photo.file.name) as stored:
        served = Image.open(io.BytesIO(stored.read()))
        assert served.format == "JPEG" and len(served.getexif()) == 0
    with default_storage.open(photo.thumbnail.name) as thumb:
        small = Image.open(io.BytesIO(thumb.read()))
        assert small.size == (384, 512)  # upright like the photo, fitted into 512 px
    detail = api.as_user(inspector).get(f"visits/{visit.id}").json()
    assert [p["id"] for p in detail["photos"]] == [photo.id]


@pytest.mark.parametrize("orientation", [None, 1])
def test_upright_photo_is_served_without_exif_too(api, inspector, visit, orientation):
    """Without a rotation to apply the decoded image itself is re-encoded: still no EXIF, no GPS."""
    content = jpeg_bytes(size=(1600, 1200), exif=gps_exif(orientation=orientation))
    response = upload(api, inspector, visit, content)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["exif_lat"] == pytest.approx(26.4207, abs=1e-4)
    assert (body["width"], body["height"]) == (1600, 1200)
    photo = Photo.objects.get()
    for name, size in ((photo.file.name, (1600, 1200)), (photo.thumbnail.name, (512, 384))):
        with default_storage.open(name) as stored:
            served = Image.open(io.BytesIO(stored.read()))
            assert served.size == size and len(served.getexif()) == 0 and "exif" not in served.info


def test_second_upload_with_the_same_client_id_answers_the_first(api, inspector, visit):
    client_id = uuid.uuid4()
    first = upload(api, inspector, visit, jpeg_bytes(), client_id=client_id)
    files = media_files()
    second = upload(api, inspector, visit, jpeg_bytes(color=(0, 0, 255)), client_id=client_id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Photo.objects.count() == 1 and media_files() == files


def test_png_and_webp_are_accepted(api, inspector, visit):
    assert upload(api, inspector, visit, jpeg_bytes(fmt="PNG"), name="a.png").status_code == 201
    assert upload(api, inspector, visit, jpeg_bytes(fmt="WEBP"), name="a.webp").status_code == 201


def test_permissions(api, dammam, khobar, inspector, supervisor, visit, inspector_khobar, supervisor_khobar):
    colleague = make_user("inspector", dammam, username="colleague")
    assert upload(api, colleague, visit, jpeg_bytes()).status_code == 403
    for outsider in (inspector_khobar, supervisor_khobar):
        response = upload(api, outsider, visit, jpeg_bytes())
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Photo.objects.count() == 0
    assert upload(api, supervisor, visit, jpeg_bytes()).status_code == 201


def png_with_size(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims width × height (a decompression bomb's header)."""
    raw = jpeg_bytes(size=(1, 1), fmt="PNG")
    ihdr_data = struct.pack(">II", width, height) + raw[24:29]
    chunk = b"IHDR" + ihdr_data
    return raw[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]


def jpeg_header_then_junk() -> bytes:
    """Valid JPEG headers up to the start of scan, then bytes that are no entropy-coded image."""
    content = jpeg_bytes(size=(300, 200))
    start_of_scan = content.index(b"\xff\xda")
    return content[: start_of_scan + 14] + b"<html>" * 50


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("empty", b"", 400, "empty_file"),
        ("html", b"<html><script>alert(1)</script></html>", 400, "not_an_image"),
        ("zip", zip_bytes(), 400, "not_an_image"),
        (
            "jpeg_header_then_junk",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + random.Random(7).randbytes(2000),
            400,
            # depending on the junk Pillow stops at the header or while decoding: both are refusals
            ("not_an_image", "damaged_image"),
        ),
        ("truncated", jpeg_bytes(size=(800, 600))[:1500], 400, "damaged_image"),
        ("gif", jpeg_bytes(fmt="GIF"), 400, "not_an_image"),
        ("bmp", jpeg_bytes(fmt="BMP"), 400, "not_an_image"),
        ("jpeg_then_junk_inside", jpeg_header_then_junk(), 400, "damaged_image"),
        ("header_bomb", png_with_size(100_000, 100_000), 413, "photo_too_many_pixels"),
        ("over_our_cap", png_with_size(8000, 8000), 413, "photo_too_many_pixels"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(api, inspector, visit, name, content, status, code):
    before = media_files()
    response = upload(api, inspector, visit, content)
    assert response.status_code == status, (name, response.content)
    assert response.json()["code"] in (code if isinstance(code, tuple) else (code,))
    assert response.json()["detail"]
    assert Photo.objects.count() == 0 and media_files() == before


def test_real_bomb_above_pillows_limit_is_refused(api, inspector, visit):
    buffer = io.BytesIO()
    Image.new("1", (10_000, 9_500)).save(buffer, "PNG")  # 95 M pixels, a few kB on the wire
    before = media_files()
    response = upload(api, inspector, visit, buffer.getvalue(), name="bomb.png")
    assert response.status_code == 413 and response.json()["code"] == "photo_too_many_pixels"
    assert Photo.objects.count() == 0 and media_files() == before


def test_jpeg_with_appended_zip_is_stored_without_the_payload(api, inspector, visit):
    content = jpeg_bytes(size=(64, 64)) + zip_bytes()
    response = upload(api, inspector, visit, content)
    assert response.status_code == 201
    photo = Photo.objects.get()
    with default_storage.open(photo.file.name) as stored:
        served = stored.read()
    assert b"PK\x03\x04" not in served and b"alert" not in served


@override_settings(PHOTO_MAX_BYTES=1000)
def test_size_cap(api, inspector, visit):
    before = media_files()
    response = upload(api, inspector, visit, jpeg_bytes(size=(400, 400), color=(1, 2, 3)) + b"\x00" * 1000)
    assert response.status_code == 413 and response.json()["code"] == "photo_too_large"
    assert Photo.objects.count() == 0 and media_files() == before


def test_bad_form_input(api, inspector, visit):
    client = api.as_user(inspector)
    before = media_files()
    no_file = client.post(f"visits/{visit.id}/photos", data={"client_id": str(uuid.uuid4())})
    bad_id = client.post(
        f"visits/{visit.id}/photos", data={"file": SimpleUploadedFile("a.jpg", jpeg_bytes()), "client_id": "nope"}
    )
    unknown_item = upload(api, inspector, visit, jpeg_bytes(), item_code="NOT_AN_ITEM")
    nul_item = upload(api, inspector, visit, jpeg_bytes(), item_code="MA\x00SKS")
    assert nul_item.status_code == 400 and nul_item.json()["code"] == "unknown_item"
    assert (no_file.status_code, bad_id.status_code, unknown_item.status_code) == (422, 422, 400)
    assert unknown_item.json()["code"] == "unknown_item"
    assert (
        client.post(
            "visits/999999/photos",
            data={"file": SimpleUploadedFile("a.jpg", jpeg_bytes()), "client_id": str(uuid.uuid4())},
        ).status_code
        == 404
    )
    assert Photo.objects.count() == 0 and media_files() == before


def test_client_id_of_a_photo_of_another_visit_is_a_conflict(api, inspector, visit, dammam):
    client_id = uuid.uuid4()
    assert upload(api, inspector, visit, jpeg_bytes(), client_id=client_id).status_code == 201
    version, _ = make_checklist()
    other = api.as_user(inspector).post("visits/sync", {"visits": [visit_payload(shop(dammam), version)]}).json()
    other_visit = Visit.objects.get(pk=other["results"][0]["visit_id"])
    response = upload(api, inspector, other_visit, jpeg_bytes(), client_id=client_id)
    assert response.status_code == 409 and response.json()["code"] == "client_id_conflict"
    assert Photo.objects.count() == 1
