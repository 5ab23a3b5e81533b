"""Evidence integrity: an untouched store verifies clean; one byte changed in each kind of stored
evidence (a visit field, an answer, a photo row, a photo file on disk or in object storage, the
acknowledgement's row and image, a chain link, a day signature) is named by `evidence_verify`."""

import base64
import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from enforcement.models import DaySignature, EvidenceRecord
from enforcement.services.acknowledgements import acknowledgement_record
from enforcement.services.evidence import evidence_seal_pending, evidence_sign_day, evidence_verify
from inspections.models import Answer, Photo, Visit
from inspections.services.photos import photo_upload
from tests.enforcement_support import violating_visit
from tests.visit_support import jpeg_bytes

pytestmark = pytest.mark.django_db


def _signature_png() -> str:
    buffer = io.BytesIO()
    Image.new("L", (300, 120), 255).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _flip_one_byte(name: str, at: int = 200) -> None:
    with default_storage.open(name, "rb") as handle:
        content = bytearray(handle.read())
    content[at] ^= 0x01
    default_storage.delete(name)
    default_storage.save(name, io.BytesIO(bytes(content)))


@pytest.fixture
def store(inspector, inspector_khobar, dammam, khobar):
    """Two inspectors' visits with answers, photos and an acknowledgement, sealed and signed."""
    visit, _finding = violating_visit(inspector=inspector, municipality=dammam)
    Answer.objects.create(
        visit=visit,
        item=visit.answers.get().item.__class__.objects.create(
            version=visit.checklist_version, code="EXTRA", text_ar="س", text_en="q"
        ),
        item_code="EXTRA",
        value="yes",
    )
    photo, _ = photo_upload(
        user=inspector,
        visit=visit,
        client_id=uuid.uuid4(),
        upload=SimpleUploadedFile("shelf.jpg", jpeg_bytes(size=(320, 240)), content_type="image/jpeg"),
    )
    ack, _ = acknowledgement_record(
        user=inspector,
        visit=visit,
        client_id=uuid.uuid4(),
        kind="signed",
        captured_at=timezone.now(),
        signer_name="Manager",
        signature_png_base64=_signature_png(),
    )
    other, _ = violating_visit(inspector=inspector_khobar, municipality=khobar)
    later = timezone.now() + timedelta(hours=1)
    assert evidence_seal_pending(now=later) == 4  # two visits, one photo, one acknowledgement
    assert evidence_seal_pending(now=later) == 0  # idempotent
    assert evidence_sign_day(day=timezone.localdate(later), now=later) is not None
    return {"visit": visit, "photo": photo, "ack": ack, "other": other}


def _problems() -> list[str]:
    return [str(problem) for problem in evidence_verify().problems]


def test_an_untouched_store_verifies_clean(store, capsys):
    report = evidence_verify()
    assert report.clean and report.records == 4 and report.days_signed == 1 and report.unsigned_records == 0
    call_command("evidence_verify")
    assert "evidence verifies clean" in capsys.readouterr().out


def test_a_visit_field_changed_in_the_database(store):
    Visit.objects.filter(pk=store["visit"].pk).update(lat=store["visit"].lat + 0.00001)
    assert _problems() == [f"visit {store['visit'].pk}: database field fix.lat"]


def test_a_device_time_changed(store):
    Visit.objects.filter(pk=store["other"].pk).update(finished_at=store["other"].finished_at - timedelta(seconds=1))
    assert _problems() == [f"visit {store['other'].pk}: database field finished_at"]


def test_an_answer_changed(store):
    answer = store["visit"].answers.get(failed=True)
    Answer.objects.filter(pk=answer.pk).update(value="yes")
    assert _problems() == [f"visit {store['visit'].pk}: database field answers[id={answer.pk}].value"]


def test_a_photo_file_changed_on_disk(store):
    name = store["photo"].file.name
    _flip_one_byte(name)
    problems = _problems()
    photo = store["photo"].pk
    assert f"photo {photo}: file {name} (stored bytes changed)" in problems
    assert len(problems) == 2  # named by the visit's link and by the photo's own link
    assert all(p.startswith(f"photo {photo}: file {name}") for p in problems)


def test_a_photo_hash_changed_in_the_database(store):
    Photo.objects.filter(pk=store["photo"].pk).update(sha256="0" * 64)
    problems = _problems()
    assert f"photo {store['photo'].pk}: database field sha256" in problems
    assert f"visit {store['visit'].pk}: database field photos[id={store['photo'].pk}].sha256" in problems


def test_the_acknowledgement_image_changed(store):
    name = store["ack"].signature.name
    _flip_one_byte(name, at=40)
    assert _problems() == [f"acknowledgement {store['ack'].pk}: file {name} (signature image changed)"]


def test_the_acknowledgement_row_changed(store):
    store["ack"].__class__.objects.filter(pk=store["ack"].pk).update(signer_name="Somebody else")
    assert _problems() == [f"acknowledgement {store['ack'].pk}: database field signer_name"]


def test_a_chain_link_rewritten(store):
    record = EvidenceRecord.objects.get(kind="visit", object_id=store["other"].pk)
    canonical = record.canonical.replace('"outcome":"violations"', '"outcome":"compliant"')
    EvidenceRecord.objects.filter(pk=record.pk).update(canonical=canonical)
    problems = _problems()
    assert any(p.startswith(f"evidence record {record.pk} ") and "stored canonical text" in p for p in problems)


def test_a_rewritten_chain_without_the_key_breaks_the_day_signature(store):
    # A forger who rewrites a link *and* recomputes its hashes still cannot re-sign the day.
    from enforcement.domain.chain import chain_link, sha256_hex

    record = EvidenceRecord.objects.get(kind="visit", object_id=store["other"].pk)
    canonical = record.canonical.replace('"outcome":"violations"', '"outcome":"compliant"')
    content = sha256_hex(canonical.encode())
    EvidenceRecord.objects.filter(pk=record.pk).update(
        canonical=canonical, content_hash=content, chain_hash=chain_link(record.prev_hash, content)
    )
    Visit.objects.filter(pk=store["other"].pk).update(outcome="compliant")
    problems = _problems()
    assert problems == [
        f"day {record.day.isoformat()}: chain head (inspector {record.inspector_id} link #1 is not the signed one)"
    ]


def test_a_day_signature_changed(store):
    signature = DaySignature.objects.get()
    flipped = ("1" if signature.signature[0] == "0" else "0") + signature.signature[1:]
    DaySignature.objects.filter(pk=signature.pk).update(signature=flipped)
    assert _problems() == [f"day {signature.day.isoformat()}: signature (does not verify over the stored heads)"]


def test_the_command_names_the_change_and_exits_1(store, capsys):
    Visit.objects.filter(pk=store["visit"].pk).update(notes="rewritten")
    with pytest.raises(SystemExit) as exited:
        call_command("evidence_verify")
    assert exited.value.code == 1
    assert f"CHANGED  visit {store['visit'].pk}: database field notes" in capsys.readouterr().out


def test_a_photo_in_object_storage(settings, inspector, dammam):
    """Verification reads through Django's storage API, so object storage is checked like a disk; an
    in-memory storage stands in for S3 here (django-storages plugs in the same way)."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    from django.core.files.storage import storages

    storages._storages.pop("default", None)
    default_storage._wrapped = storages["default"]
    visit, _finding = violating_visit(inspector=inspector, municipality=dammam)
    photo, _ = photo_upload(
        user=inspector,
        visit=visit,
        client_id=uuid.uuid4(),
        upload=SimpleUploadedFile("s.jpg", jpeg_bytes(size=(320, 240)), content_type="image/jpeg"),
    )
    evidence_seal_pending(now=timezone.now() + timedelta(hours=1))
    assert evidence_verify().clean
    _flip_one_byte(photo.file.name)
    assert f"photo {photo.pk}: file {photo.file.name} (stored bytes changed)" in _problems()
    storages._storages.pop("default", None)
    default_storage._wrapped = storages["default"]
