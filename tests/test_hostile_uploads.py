"""Hostile uploads to POST visits/{id}/photos: a 100 MB body, decompression bombs, dimensions
declared in the header far beyond the cap, truncated JPEGs, HTML/SVG/ZIP/PDF renamed `.jpg`,
zero bytes, broken multipart. Each is a 4xx JSON answer; nothing is stored (no Photo row, no file
in MEDIA_ROOT, no upload left in the temp folder) and the process's memory stays bounded
(tracemalloc peak of the request, well below the size of the body or of the decoded image).

The 100 MB body is streamed into the WSGI handler from a generator, so neither the test nor the
server ever holds it in memory: this is the server's own behaviour, not the test client's."""

import glob
import io
import json
import os
import struct
import tempfile
import tracemalloc
import uuid
import zlib

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image

from inspections.models import Photo
from inspections.services.auth import token_pair_for
from tests.factories import CategoryFactory, ChecklistVersionFactory, EstablishmentFactory, VisitFactory

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


@pytest.fixture
def visit(dammam, inspector):
    shop = EstablishmentFactory(municipality=dammam, category=CategoryFactory())
    return VisitFactory(establishment=shop, inspector=inspector, checklist_version=ChecklistVersionFactory())


def _media_files() -> set[str]:
    return {path for path in glob.glob(os.path.join(str(django_settings.MEDIA_ROOT), "**"), recursive=True)}


def _temp_uploads() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "*.upload*")))


def _jpeg(width=64, height=48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_bomb(side: int) -> bytes:
    """A valid grayscale PNG of side×side zero pixels, compressed row by row (never held raw)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    parts = [compressor.compress(row) for _ in range(side)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF header is patched to claim width×height."""
    data = bytearray(_jpeg())
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at != -1:
            data[at + 5 : at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
    raise AssertionError("no SOF marker")


def _zip() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.html", "<script>alert(1)</script>")
    return buffer.getvalue()


HOSTILE_FILES = [
    pytest.param(b"", id="zero-bytes"),
    pytest.param(b"<html><body><script>alert(document.cookie)</script></body></html>", id="html-as-jpg"),
    pytest.param(
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10"/></svg>',
        id="svg-as-jpg",
    ),
    pytest.param(_zip(), id="zip-as-jpg"),
    pytest.param(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", id="pdf-as-jpg"),
    pytest.param(_jpeg()[: len(_jpeg()) // 2], id="truncated-jpeg"),
    pytest.param(_jpeg()[:200] + os.urandom(4000), id="jpeg-header-then-noise"),
    pytest.param(b"\xff\xd8\xff", id="jpeg-magic-only"),
    pytest.param(_jpeg_claiming(60000, 60000), id="jpeg-claims-3.6-gigapixels"),
    pytest.param(_jpeg_claiming(65535, 1), id="jpeg-claims-65535x1-strip"),
]


def _upload(client_api, visit, content: bytes, name="photo.jpg", content_type="image/jpeg"):
    upload = io.BytesIO(content)
    upload.name = name
    return client_api.post(
        f"visits/{visit.pk}/photos", data={"file": upload, "client_id": str(uuid.uuid4())}
    ), content_type


@pytest.mark.parametrize("content", HOSTILE_FILES)
def test_hostile_files_are_refused_and_nothing_is_stored(api, inspector, visit, content):
    media, temp = _media_files(), _temp_uploads()
    response, _ = _upload(api.as_user(inspector), visit, content)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
    assert {"detail", "code"} <= response.json().keys()
    assert Photo.objects.count() == 0
    assert _media_files() == media
    assert _temp_uploads() <= temp


def test_a_png_decompression_bomb_is_refused_from_its_header_in_bounded_memory(api, inspector, visit):
    bomb = _png_bomb(12_000)  # 144 megapixels of zeros: ~140 KB compressed, 144 MB decoded
    assert len(bomb) < 2 * MB
    client = api.as_user(inspector)
    tracemalloc.start()
    try:
        response, _ = _upload(client, visit, bomb, name="bomb.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 400 <= response.status_code < 500, response.content[:200]
    assert Photo.objects.count() == 0
    assert peak < 40 * MB, f"peak {peak / MB:.1f} MB while refusing a 144 MB bomb"


def test_a_huge_image_just_over_the_pixel_cap_is_refused(api, inspector, visit, settings):
    settings.PHOTO_MAX_PIXELS = 1_000_000
    response, _ = _upload(api.as_user(inspector), visit, _jpeg(1200, 1000))
    assert response.status_code == 413, response.content[:200]
    assert Photo.objects.count() == 0


class _StreamedBody:
    """A WSGI input that yields `head`, then `size` generated bytes, then `tail`, in chunks,
    and counts how much of it the server read."""

    def __init__(self, head: bytes, size: int, tail: bytes):
        self.parts = [head, None, tail]
        self.size = size
        self.remaining_filler = size
        self.buffer = b""
        self.read_bytes = 0
        self.chunk = os.urandom(64 * 1024)

    def _fill(self, wanted: int) -> None:
        while len(self.buffer) < wanted and self.parts:
            if self.parts[0] is None:
                if self.remaining_filler <= 0:
                    self.parts.pop(0)
                    continue
                piece = self.chunk[: min(len(self.chunk), self.remaining_filler)]
                self.remaining_filler -= len(piece)
                self.buffer += piece
            else:
                self.buffer += self.parts.pop(0)

    def read(self, size: int = -1) -> bytes:
        size = 1 << 20 if size is None or size < 0 else size
        self._fill(size)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        self.read_bytes += len(out)
        return out

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - not used by the multipart parser
        return self.read(size)

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts if p is not None) + self.size


def _streamed_request(user, path: str, *, content_type: str, body: _StreamedBody):
    client = Client()
    environ = client._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=content_type,
        CONTENT_LENGTH=str(len(body)),
        HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user=user).access}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    environ["wsgi.input"] = body
    return client.handler(environ)


def test_a_100_mb_photo_is_413_nothing_stored_memory_bounded(inspector, visit):
    boundary = "jawlaBoundary7MA4YWxkTrZu0gW"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="client_id"\r\n\r\n{uuid.uuid4()}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + _jpeg()[:100]
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = _StreamedBody(head, 100 * MB, tail)
    media, temp = _media_files(), _temp_uploads()
    tracemalloc.start()
    try:
        response = _streamed_request(
            inspector,
            f"/api/v1/visits/{visit.pk}/photos",
            content_type=f"multipart/form-data; boundary={boundary}",
            body=body,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413, response.content[:300]
    assert json.loads(response.content)["code"] == "too_large"
    # Refused from its Content-Length (RequestSizeMiddleware): not streamed to a temp file first.
    assert body.read_bytes < 1 * MB, f"read {body.read_bytes} bytes of a body it refuses from its header"
    assert Photo.objects.count() == 0
    assert _media_files() == media
    assert _temp_uploads() <= temp, "the spooled upload must be deleted"
    assert peak < 32 * MB, f"peak {peak / MB:.1f} MB for a 100 MB body"


def test_a_photo_just_over_the_cap_is_413_from_the_photo_service(api, inspector, visit, settings):
    # Under the request-size limit, over PHOTO_MAX_BYTES: the service's own check answers.
    settings.PHOTO_MAX_BYTES = 50_000
    response, _ = _upload(api.as_user(inspector), visit, _jpeg(64, 48) + os.urandom(60_000))
    assert response.status_code == 413, response.content[:200]
    assert Photo.objects.count() == 0


def test_a_100_mb_json_body_is_413_without_reading_it(inspector):
    body = _StreamedBody(b'{"visits": [', 100 * MB, b"]}")
    tracemalloc.start()
    try:
        response = _streamed_request(inspector, "/api/v1/visits/sync", content_type="application/json", body=body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413, response.content[:300]
    assert json.loads(response.content)["code"] == "too_large"
    assert body.read_bytes < 1 * MB, f"read {body.read_bytes} bytes of a body it refuses from its header"
    assert peak < 16 * MB


@pytest.mark.parametrize(
    "content_type,raw",
    [
        ("multipart/form-data", b"--x\r\n"),  # no boundary
        ("multipart/form-data; boundary=abc", b"garbage without any boundary"),
        ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: form-data\r\n\r\nx\r\n--abc--\r\n"),
        ("application/x-www-form-urlencoded", b"file=notafile&client_id=" + str(uuid.uuid4()).encode()),
        ("application/json", b'{"file": "aGVsbG8=", "client_id": "x"}'),
    ],
    ids=["no-boundary", "no-parts", "nameless-part", "urlencoded", "json"],
)
def test_broken_multipart_is_a_4xx(api, inspector, visit, content_type, raw):
    response = api.as_user(inspector).raw("POST", f"visits/{visit.pk}/photos", raw, content_type=content_type)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
    assert Photo.objects.count() == 0


def test_a_valid_photo_still_goes_through(api, inspector, visit):
    # The control: the same path accepts a real photo, so the refusals above are about the files.
    response, _ = _upload(api.as_user(inspector), visit, _jpeg(640, 480))
    assert response.status_code == 201, response.content[:300]
    assert Photo.objects.count() == 1
