"""The owner's acknowledgement through the API: a drawn signature (PNG) and a name, or a refusal; the
image's hash is stored and sealed into the evidence chain; replays return the first; bad input is a
422 that writes nothing."""

import base64
import io
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from enforcement.models import Acknowledgement, EvidenceRecord
from enforcement.services.evidence import evidence_seal_pending, evidence_verify
from tests.enforcement_support import violating_visit

pytestmark = pytest.mark.django_db


def _png(size=(300, 120), fmt="PNG") -> str:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (255, 255, 255))
    image.putpixel((10, 10), (0, 0, 0))
    image.save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def visit(inspector, dammam):
    return violating_visit(inspector=inspector, municipality=dammam)[0]


def _body(**overrides):
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "signed",
        "signer_name": "مدير المحل",
        "signature_png_base64": _png(),
        "captured_at": timezone.now().isoformat(),
        **overrides,
    }


def test_signed_stored_with_its_hash_and_sealed(api, inspector, visit):
    body = _body()
    response = api.as_user(inspector).post(f"enforcement/visits/{visit.pk}/acknowledgement", body)
    assert response.status_code == 201, response.content
    ack = Acknowledgement.objects.get()
    import hashlib

    assert (
        response.json()["signature_sha256"]
        == hashlib.sha256(base64.b64decode(body["signature_png_base64"])).hexdigest()
    )
    assert ack.signature.read() == base64.b64decode(body["signature_png_base64"])
    replay = api.as_user(inspector).post(f"enforcement/visits/{visit.pk}/acknowledgement", body)
    assert replay.status_code == 200 and replay.json()["id"] == ack.pk
    evidence_seal_pending(now=timezone.now() + timedelta(hours=1))
    assert EvidenceRecord.objects.filter(kind="acknowledgement", object_id=ack.pk).exists()
    assert evidence_verify().clean


def test_refusal(api, supervisor, visit):
    response = api.as_user(supervisor).post(
        f"enforcement/visits/{visit.pk}/acknowledgement",
        {"client_id": str(uuid.uuid4()), "kind": "refused", "captured_at": timezone.now().isoformat()},
    )
    assert response.status_code == 201 and response.json()["kind"] == "refused"


@pytest.mark.parametrize(
    "overrides,code",
    [
        ({"signature_png_base64": "not base64!"}, "signature_invalid"),
        ({"signature_png_base64": _png(fmt="JPEG")}, "signature_invalid"),
        ({"signature_png_base64": base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode()}, "signature_invalid"),
        ({"signature_png_base64": _png(size=(4000, 100))}, "signature_invalid"),
        ({"signer_name": ""}, "signature_required"),
        ({"signature_png_base64": None}, "signature_required"),
        ({"kind": "refused"}, "refusal_with_signature"),
        ({"captured_at": (timezone.now() + timedelta(days=1)).isoformat()}, "captured_in_future"),
        ({"captured_at": "2026-11-30T10:00:00"}, "validation_error"),
        ({"client_id": 12345}, "validation_error"),
        ({"kind": "maybe"}, "validation_error"),
        ({"signer_name": "a\u0000b"}, "validation_error"),
        ({"extra": True}, "validation_error"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(api, inspector, visit, overrides, code):
    response = api.as_user(inspector).post(f"enforcement/visits/{visit.pk}/acknowledgement", _body(**overrides))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert not Acknowledgement.objects.exists()


def test_a_second_acknowledgement_of_the_visit_is_409(api, inspector, visit):
    assert api.as_user(inspector).post(f"enforcement/visits/{visit.pk}/acknowledgement", _body()).status_code == 201
    second = api.as_user(inspector).post(f"enforcement/visits/{visit.pk}/acknowledgement", _body())
    assert second.status_code == 409 and Acknowledgement.objects.count() == 1


def test_another_inspector_cannot(api, visit, dammam):
    from inspections.models import Membership
    from tests.factories import make_user

    colleague = make_user(Membership.Role.INSPECTOR, dammam, username="colleague")
    response = api.as_user(colleague).post(f"enforcement/visits/{visit.pk}/acknowledgement", _body())
    assert response.status_code == 403 and not Acknowledgement.objects.exists()
