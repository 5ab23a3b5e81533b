"""Photos (issue 11, item 15): no public /media/; files only through short-lived signed URLs that check the
caller's scope when fetched (streamed from disk, or a presigned redirect on S3); the pixel cap applies from
the header, before anything is decoded."""

import io
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from inspections.models import Membership, Photo, Visit
from inspections.services.photo_urls import photo_url
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(api, dammam, inspector):
    version, _ = make_checklist()
    result = api.as_user(inspector).post("visits/sync", {"visits": [visit_payload(shop(dammam), version)]})
    return Visit.objects.get(pk=result.json()["results"][0]["visit_id"])


def jpeg(size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def upload(api, user, visit, content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return api.as_user(user).client.post(
        f"/api/v1/visits/{visit.pk}/photos",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), "client_id": str(uuid.uuid4())},
        headers=api.as_user(user)._headers(None),
    )


@pytest.fixture
def photo_body(api, inspector, visit):
    response = upload(api, inspector, visit, jpeg())
    assert response.status_code == 201, response.content
    return response.json()


def fetch(url: str):
    return Client().get(url.replace("http://testserver", ""))


def test_media_is_not_served_publicly(photo_body):
    # With DEBUG on, as `make run` serves: the URLconf is rebuilt so that nothing DEBUG-only hides.
    import importlib

    from django.urls import clear_url_caches

    import backend.urls

    photo = Photo.objects.get()
    try:
        with override_settings(DEBUG=True):
            importlib.reload(backend.urls)
            clear_url_caches()
            for name in (photo.file.name, photo.thumbnail.name):
                assert Client().get(f"/media/{name}").status_code == 404
    finally:
        importlib.reload(backend.urls)
        clear_url_caches()


def test_the_signed_urls_serve_the_photo_and_its_thumbnail(api, inspector, visit, photo_body):
    photo = Photo.objects.get()
    response = fetch(photo_body["url"])
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with default_storage.open(photo.file.name) as stored:
        assert b"".join(response.streaming_content) == stored.read()
    assert response["Cache-Control"] == "private, max-age=600"
    thumbnail = fetch(photo_body["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert Image.open(io.BytesIO(b"".join(thumbnail.streaming_content))).size[0] <= 512
    # The visit detail hands out working URLs too.
    detail = api.as_user(inspector).get(f"visits/{visit.pk}").json()
    assert fetch(detail["photos"][0]["url"]).status_code == 200


def test_a_tampered_or_expired_url_is_404(photo_body):
    url = photo_body["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".jpg")
    assert fetch(url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))).status_code == 404
    assert fetch("/photos/WzEsMCwxXQ.jpg").status_code == 404  # unsigned
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=5)):
        assert fetch(url).status_code == 404


def test_the_url_dies_with_the_callers_scope(inspector, photo_body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the cached scope is dropped after commit
        Membership.objects.filter(user=inspector).delete()
    assert fetch(photo_body["url"]).status_code == 404


def test_a_url_signed_for_someone_outside_the_scope_is_404(supervisor_khobar, photo_body):
    photo = Photo.objects.get()
    assert fetch(photo_url(photo=photo, variant="file", user=supervisor_khobar)).status_code == 404


@override_settings(
    STORAGES={
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "jawla-photos",
                "endpoint_url": "http://127.0.0.1:9",
                "access_key": "test-access-key",
                "secret_key": "test-secret-key",
                "region_name": "me-south-1",
                "querystring_auth": True,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
)
def test_on_s3_the_signed_url_redirects_to_a_short_presigned_url(inspector, visit):
    # Presigning is local arithmetic: no S3 needed. The photo row points at a key in the bucket.
    photo = Photo.objects.create(
        client_id=uuid.uuid4(),
        visit=visit,
        uploaded_by=inspector,
        width=1,
        height=1,
        size_bytes=1,
        sha256="0" * 64,
        file="photos/x.jpg",
        thumbnail="photos/x_thumb.jpg",
    )
    response = fetch(photo_url(photo=photo, variant="thumbnail", user=inspector))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("http://127.0.0.1:9/jawla-photos/photos/x_thumb.jpg?")
    assert "X-Amz-Expires=60" in location and "X-Amz-Signature=" in location


def test_a_49_megapixel_png_is_refused_before_decoding(api, inspector, visit, monkeypatch):
    buffer = io.BytesIO()
    Image.new("1", (7000, 7000)).save(buffer, "PNG")  # about 25 KB on the wire, 49 M pixels decoded
    decoded: list[str] = []
    original_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda image: decoded.append(image.format) or original_load(image))
    response = upload(api, inspector, visit, buffer.getvalue(), name="bomb.png", content_type="image/png")
    assert response.status_code == 413
    assert response.json()["code"] == "photo_too_many_pixels"
    assert decoded == [] and Photo.objects.count() == 0
