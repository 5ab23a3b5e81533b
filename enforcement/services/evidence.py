"""Evidence integrity: seal stored visits, photos and acknowledgements into per-inspector hash
chains, sign each day's chain heads with the server's Ed25519 key, and re-derive all of it.

- A visit's content hash covers the canonical form of the visit (ids, device and server times,
  GPS fix and its verification, outcome, notes), its answers and, for every photo stored when it
  was sealed, the photo's row and the SHA-256 of its file as read back from storage (disk or
  object storage). Every photo is also sealed as its own link, so a photo uploaded after its visit
  was sealed is covered too; so is the owner's acknowledgement (with its signature image's hash).
- Each inspector's links form a chain: chain_hash = sha256(prev_hash ‖ content_hash), from 64 zeros.
- Each finished local day, the heads of the chains that grew that day are signed (DaySignature).
- `evidence_verify` recomputes every canonical form from the live database and storage, checks the
  stored hashes, the chains and the signatures, and names what changed: "visit 12: lat", "photo 5:
  file photos/ab/….jpg", "evidence record 40: stored hash", "day 2026-11-29: signature".
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from enforcement.domain.chain import (
    GENESIS,
    canonical_bytes,
    chain_link,
    day_message,
    differences,
    iso,
    sha256_hex,
)
from enforcement.models import Acknowledgement, DaySignature, EvidenceRecord
from enforcement.services.keys import evidence_private_key, evidence_public_key_hex
from inspections.models import Photo, Visit

Kind = EvidenceRecord.Kind
User = get_user_model()
CHUNK = 1000


# ---- canonical forms ------------------------------------------------------------------------------


def file_sha256(name: str) -> str | None:
    """SHA-256 of a stored file's bytes as storage returns them now (None if it is gone)."""
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
            return digest.hexdigest()
    except (FileNotFoundError, OSError):
        return None


def photo_document(photo: Photo) -> dict:
    return {
        "id": photo.pk,
        "client_id": str(photo.client_id),
        "visit_id": photo.visit_id,
        "answer_id": photo.answer_id,
        "sha256": photo.sha256,
        "size_bytes": photo.size_bytes,
        "file": photo.file.name,
        "file_sha256": file_sha256(photo.file.name),
        "exif_lat": photo.exif_lat,
        "exif_lon": photo.exif_lon,
        "exif_taken_at": iso(photo.exif_taken_at),
        "created_at": iso(photo.created_at),
    }


def visit_document(visit: Visit, answers: Iterable, photos: Iterable[Photo]) -> dict:
    """The canonical form of a visit. `photos` are the ones it covers (those stored when it was sealed)."""
    return {
        "kind": "visit",
        "id": visit.pk,
        "client_id": str(visit.client_id),
        "establishment_id": visit.establishment_id,
        "inspector_id": visit.inspector_id,
        "checklist_version_id": visit.checklist_version_id,
        "municipality_id": visit.municipality_id,
        "started_at": iso(visit.started_at),
        "finished_at": iso(visit.finished_at),
        "received_at": iso(visit.received_at),
        "fix": {
            "lat": visit.lat,
            "lon": visit.lon,
            "accuracy_m": visit.accuracy_m,
            "geo_status": visit.geo_status,
            "geo_distance_m": visit.geo_distance_m,
            "impossible_travel": visit.impossible_travel,
        },
        "outcome": visit.outcome,
        "notes": visit.notes,
        "has_violation": visit.has_violation,
        "violation_count": visit.violation_count,
        "answers": [
            {"id": a.pk, "item_code": a.item_code, "value": a.value, "failed": a.failed, "note": a.note}
            for a in sorted(answers, key=lambda a: a.pk)
        ],
        "photos": [photo_document(photo) for photo in sorted(photos, key=lambda p: p.pk)],
    }


def acknowledgement_document(ack: Acknowledgement) -> dict:
    return {
        "kind": "acknowledgement",
        "id": ack.pk,
        "client_id": str(ack.client_id),
        "visit_id": ack.visit_id,
        "result": ack.kind,
        "signer_name": ack.signer_name,
        "signature": ack.signature.name or "",
        "signature_sha256": ack.signature_sha256,
        "signature_file_sha256": file_sha256(ack.signature.name) if ack.signature.name else None,
        "captured_at": iso(ack.captured_at),
        "received_at": iso(ack.received_at),
        "recorded_by_id": ack.recorded_by_id,
    }


def _photo_record_document(photo: Photo) -> dict:
    return {"kind": "photo", **photo_document(photo)}


# ---- sealing --------------------------------------------------------------------------------------


@dataclass
class _Pending:
    kind: str
    object_id: int
    document: dict


def evidence_seal_pending(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Seal visits received at least EVIDENCE_SEAL_DELAY_SECONDS ago, every unsealed photo and
    acknowledgement. Returns how many links were added. Idempotent (one link per object)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.EVIDENCE_SEAL_DELAY_SECONDS)
    pending: dict[int, list[_Pending]] = defaultdict(list)

    visit_ids = list(
        Visit.objects.filter(received_at__lte=cutoff)
        .exclude(Exists(EvidenceRecord.objects.filter(kind=Kind.VISIT, object_id=OuterRef("pk"))))
        .order_by("received_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for start in range(0, len(visit_ids), CHUNK):
        batch = visit_ids[start : start + CHUNK]
        visits = Visit.objects.filter(id__in=batch).prefetch_related("answers", "photos").order_by("received_at", "id")
        for visit in visits:
            document = visit_document(visit, visit.answers.all(), visit.photos.all())
            pending[visit.inspector_id].append(_Pending(Kind.VISIT, visit.pk, document))

    photos = (
        Photo.objects.filter(created_at__lte=now)
        .exclude(Exists(EvidenceRecord.objects.filter(kind=Kind.PHOTO, object_id=OuterRef("pk"))))
        .select_related("visit")
        .order_by("created_at", "id")[:limit]
    )
    for photo in photos:
        pending[photo.visit.inspector_id].append(_Pending(Kind.PHOTO, photo.pk, _photo_record_document(photo)))

    acks = (
        Acknowledgement.objects.exclude(
            Exists(EvidenceRecord.objects.filter(kind=Kind.ACKNOWLEDGEMENT, object_id=OuterRef("pk")))
        )
        .select_related("visit")
        .order_by("received_at", "id")[:limit]
    )
    for ack in acks:
        pending[ack.visit.inspector_id].append(_Pending(Kind.ACKNOWLEDGEMENT, ack.pk, acknowledgement_document(ack)))

    added = 0
    for inspector_id in sorted(pending):
        added += _chain_append(inspector_id=inspector_id, items=pending[inspector_id], now=now)
    return added


@transaction.atomic
def _chain_append(*, inspector_id: int, items: list[_Pending], now: datetime) -> int:
    # One writer per chain: the inspector's user row is the lock.
    User.objects.select_for_update().filter(pk=inspector_id).first()
    done = {
        (kind, object_id)
        for kind, object_id in EvidenceRecord.objects.filter(
            inspector_id=inspector_id, object_id__in=[item.object_id for item in items]
        ).values_list("kind", "object_id")
    }
    last = EvidenceRecord.objects.filter(inspector_id=inspector_id).order_by("-seq").first()
    seq, prev = (last.seq, last.chain_hash) if last else (0, GENESIS)
    day = timezone.localdate(now)
    rows = []
    for item in items:
        if (item.kind, item.object_id) in done:
            continue
        text = canonical_bytes(item.document)
        content = sha256_hex(text)
        link = chain_link(prev, content)
        seq += 1
        rows.append(
            EvidenceRecord(
                inspector_id=inspector_id,
                seq=seq,
                kind=item.kind,
                object_id=item.object_id,
                canonical=text.decode("utf-8"),
                content_hash=content,
                prev_hash=prev,
                chain_hash=link,
                sealed_at=now,
                day=day,
            )
        )
        prev = link
    EvidenceRecord.objects.bulk_create(rows, batch_size=CHUNK)
    return len(rows)


# ---- signing --------------------------------------------------------------------------------------


def _heads_of(day: date) -> dict[str, list]:
    heads: dict[str, list] = {}
    for inspector_id, seq, chain_hash in (
        EvidenceRecord.objects.filter(day=day)
        .order_by("inspector_id", "seq")
        .values_list("inspector_id", "seq", "chain_hash")
    ):
        heads[str(inspector_id)] = [seq, chain_hash]
    return heads


@transaction.atomic
def evidence_sign_day(*, day: date, now: datetime | None = None) -> DaySignature | None:
    """Sign `day`'s chain heads (once: a signed day is never re-signed). None if nothing was sealed."""
    existing = DaySignature.objects.filter(day=day).first()
    if existing is not None:
        return existing
    heads = _heads_of(day)
    if not heads:
        return None
    signature = evidence_private_key().sign(day_message(day.isoformat(), heads)).hex()
    return DaySignature.objects.create(
        day=day, heads=heads, signature=signature, public_key=evidence_public_key_hex(), signed_at=now or timezone.now()
    )


def evidence_sign_finished_days(*, now: datetime | None = None) -> int:
    """Sign every finished local day that has sealed links and no signature yet."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = (
        EvidenceRecord.objects.filter(day__lt=today)
        .exclude(day__in=DaySignature.objects.values("day"))
        .values_list("day", flat=True)
        .distinct()
    )
    return sum(1 for day in sorted(set(days)) if evidence_sign_day(day=day, now=now))


# ---- verification ---------------------------------------------------------------------------------


@dataclass
class Problem:
    what: str  # "visit 12", "photo 5", "acknowledgement 3", "evidence record 40", "day 2026-11-29"
    where: str  # "database field lat", "file photos/ab/x.jpg", "stored hash", "chain", "signature"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.what}: {self.where}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class VerifyReport:
    records: int = 0
    days_signed: int = 0
    unsigned_records: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _describe(kind: str, object_id: int, paths: list[str], stored: dict, current: dict) -> list[Problem]:
    label = f"{kind} {object_id}"
    problems = []
    for path in paths:
        if path == "signature_file_sha256":
            problems.append(Problem(label, f"file {stored.get('signature')}", "signature image changed"))
        elif path.endswith("file_sha256"):
            owner = path.rsplit(".", 1)[0]
            name = _lookup(stored, owner + ".file") or _lookup(stored, "file") or ""
            what = label
            if owner.startswith("photos[id="):
                what = f"photo {owner[len('photos[id=') : -1]}"
            problems.append(
                Problem(what, f"file {name}", "stored bytes changed" if _lookup(current, path) else "file missing")
            )
        else:
            problems.append(Problem(label, f"database field {path}"))
    return problems


def _lookup(document: dict, path: str):
    node = document
    for part in path.replace("]", "").split("."):
        if not part:
            continue
        if "[id=" in part:
            name, key = part.split("[id=")
            node = node.get(name) if name else node
            node = next((x for x in node or [] if str(x.get("id")) == key), None)
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def _current_documents(kind: str, records: list[EvidenceRecord]) -> dict[int, dict]:
    ids = [record.object_id for record in records]
    if kind == Kind.VISIT:
        stored = {record.object_id: json.loads(record.canonical) for record in records}
        visits = Visit.objects.filter(id__in=ids).prefetch_related("answers")
        photo_ids = {p["id"] for doc in stored.values() for p in doc.get("photos", [])}
        photos = Photo.objects.in_bulk(photo_ids) if photo_ids else {}
        result = {}
        for visit in visits:
            covered = [photos[p["id"]] for p in stored[visit.pk].get("photos", []) if p["id"] in photos]
            result[visit.pk] = visit_document(visit, visit.answers.all(), covered)
        return result
    if kind == Kind.PHOTO:
        return {photo.pk: _photo_record_document(photo) for photo in Photo.objects.filter(id__in=ids)}
    return {ack.pk: acknowledgement_document(ack) for ack in Acknowledgement.objects.filter(id__in=ids)}


def _record_chunks(records_qs) -> Iterator[list[EvidenceRecord]]:
    batch: list[EvidenceRecord] = []
    for record in records_qs.iterator(chunk_size=CHUNK):
        batch.append(record)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def evidence_verify(*, recompute: bool = True) -> VerifyReport:
    """Re-derive every link, chain and day signature; name every record, field or file that changed."""
    report = VerifyReport()
    expected_prev: dict[int, tuple[int, str]] = {}  # inspector -> (last seq, chain hash)
    chain_hashes: dict[tuple[int, int], str] = {}
    queryset = EvidenceRecord.objects.order_by("inspector_id", "seq")
    for batch in _record_chunks(queryset):
        current_by_kind = {}
        if recompute:
            by_kind: dict[str, list[EvidenceRecord]] = defaultdict(list)
            for record in batch:
                by_kind[record.kind].append(record)
            current_by_kind = {kind: _current_documents(kind, rows) for kind, rows in by_kind.items()}
        for record in batch:
            report.records += 1
            label = f"evidence record {record.pk} ({record.kind} {record.object_id}, inspector {record.inspector_id})"
            stored_bytes = record.canonical.encode("utf-8")
            if sha256_hex(stored_bytes) != record.content_hash:
                report.problems.append(Problem(label, "stored canonical text or content hash"))
            last_seq, last_hash = expected_prev.get(record.inspector_id, (0, GENESIS))
            if record.seq != last_seq + 1:
                report.problems.append(Problem(label, "chain", f"expected link #{last_seq + 1}, found #{record.seq}"))
            if record.prev_hash != last_hash or record.chain_hash != chain_link(record.prev_hash, record.content_hash):
                report.problems.append(Problem(label, "chain", "link hash does not follow from the previous link"))
            expected_prev[record.inspector_id] = (record.seq, record.chain_hash)
            chain_hashes[(record.inspector_id, record.seq)] = record.chain_hash
            if not recompute:
                continue
            current = current_by_kind.get(record.kind, {}).get(record.object_id)
            if current is None:
                report.problems.append(Problem(f"{record.kind} {record.object_id}", "database row", "deleted"))
                continue
            try:
                stored = json.loads(record.canonical)
            except ValueError:
                continue  # already reported as a stored-text problem
            if canonical_bytes(current) != stored_bytes:
                paths = differences(stored, current) or ["(encoding)"]
                report.problems.extend(_describe(record.kind, record.object_id, paths, stored, current))

    public_key_cache: dict[str, Ed25519PublicKey] = {}
    signed_heads: dict[int, int] = {}
    for signature in DaySignature.objects.order_by("day"):
        report.days_signed += 1
        label = f"day {signature.day.isoformat()}"
        try:
            key = public_key_cache.setdefault(
                signature.public_key, Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature.public_key))
            )
            if signature.public_key != evidence_public_key_hex():
                report.problems.append(Problem(label, "signing key", "not this server's key"))
            key.verify(bytes.fromhex(signature.signature), day_message(signature.day.isoformat(), signature.heads))
        except (InvalidSignature, ValueError):
            report.problems.append(Problem(label, "signature", "does not verify over the stored heads"))
        for inspector, (seq, head) in sorted(signature.heads.items()):
            if chain_hashes.get((int(inspector), seq)) != head:
                report.problems.append(
                    Problem(label, "chain head", f"inspector {inspector} link #{seq} is not the signed one")
                )
            signed_heads[int(inspector)] = max(signed_heads.get(int(inspector), 0), seq)
    report.unsigned_records = sum(
        max(0, last_seq - signed_heads.get(inspector, 0)) for inspector, (last_seq, _h) in expected_prev.items()
    )
    return report


def visit_evidence_status(*, visit: Visit) -> dict:
    """For the public verification page: does the visit still match its sealed hash, is its link in
    the chain, and is it covered by a valid day signature?"""
    record = EvidenceRecord.objects.filter(kind=Kind.VISIT, object_id=visit.pk).first()
    if record is None:
        return {"sealed": False, "content_matches": False, "chain_ok": False, "signed": False, "content_hash": ""}
    current = _current_documents(Kind.VISIT, [record]).get(visit.pk)
    content_matches = (
        current is not None
        and sha256_hex(canonical_bytes(current)) == record.content_hash
        and sha256_hex(record.canonical.encode("utf-8")) == record.content_hash
    )
    chain_ok = record.chain_hash == chain_link(record.prev_hash, record.content_hash)
    signed = False
    # The link's own day signs its inspector's head of that day; the chain walks from the link to it.
    signature = DaySignature.objects.filter(day=record.day).first() if chain_ok else None
    if signature is not None and str(record.inspector_id) in signature.heads:
        seq, head = signature.heads[str(record.inspector_id)]
        links = list(
            EvidenceRecord.objects.filter(inspector_id=record.inspector_id, seq__gt=record.seq, seq__lte=seq)
            .order_by("seq")
            .values_list("prev_hash", "content_hash", "chain_hash")
        )
        running = record.chain_hash
        walk_ok = True
        for prev_hash, content_hash, chain_hash in links:
            if prev_hash != running or chain_link(prev_hash, content_hash) != chain_hash:
                walk_ok = False
                break
            running = chain_hash
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature.public_key)).verify(
                bytes.fromhex(signature.signature), day_message(signature.day.isoformat(), signature.heads)
            )
            signed = walk_ok and running == head and signature.public_key == evidence_public_key_hex()
        except (InvalidSignature, ValueError):
            signed = False
    return {
        "sealed": True,
        "content_matches": content_matches,
        "chain_ok": chain_ok,
        "signed": signed,
        "content_hash": record.content_hash,
    }
