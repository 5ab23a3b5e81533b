"""Schemas of the visits, findings' owners, photos and amendments endpoints.

`POST visits/sync` validates its envelope strictly (a list of at most VISIT_SYNC_MAX_BATCH
objects, nothing else) and then each visit on its own with `VisitSyncIn`, so one malformed
visit is answered `rejected` while the others are stored.
"""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from backend.api_basics import StrictIn
from inspections.api.schemas.findings import FindingOut, finding_out
from inspections.selectors.visits import effective_outcome
from inspections.services.inputs import AmendmentChangesIn, VisitSyncIn
from inspections.services.photo_urls import photo_url


def _inline_schema(model: type[BaseModel]) -> dict:
    """`model`'s JSON schema with its $defs inlined (documents the per-visit shape in OpenAPI)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return inline(schema)


class VisitSyncEnvelope(BaseModel):
    """`{visits: [...]}`: the envelope is strict; each visit is validated on its own (see VisitSyncIn)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    visits: list[Annotated[Any, WithJsonSchema(_inline_schema(VisitSyncIn))]] = Field(
        max_length=settings.VISIT_SYNC_MAX_BATCH,
        description=f"At most {settings.VISIT_SYNC_MAX_BATCH} visits (VisitSyncIn objects).",
    )


class SyncError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class SyncResultOut(BaseModel):
    client_id: str | None
    status: Literal["created", "duplicate", "rejected"]
    visit_id: int | None
    errors: list[SyncError]
    payload_differed: bool | None = Field(
        None,
        description="On `duplicate`: true when this replay's content differs from the stored visit's (the stored "
        "visit stands and the new content is not stored; the replay is in the audit trail), false when identical, "
        "null when unknown (a visit stored before fingerprints were kept). Null on `created` and `rejected`.",
    )


class SyncOut(BaseModel):
    results: list[SyncResultOut]


class AnswerOut(BaseModel):
    id: int
    item_code: str
    value: Any
    failed: bool
    note: str


class PhotoOut(BaseModel):
    id: int
    client_id: UUID
    visit_id: int
    item_code: str | None
    url: str
    thumbnail_url: str
    width: int
    height: int
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the file as uploaded (evidence)")
    exif_lat: float | None
    exif_lon: float | None
    exif_taken_at: datetime | None
    exif_distance_m: float | None = Field(description="Distance from the EXIF GPS position to the visit's fix")
    created_at: datetime


class AmendmentOut(BaseModel):
    id: int
    visit_id: int
    author_id: int
    reason: str
    changes: dict
    created_at: datetime


class GeoOut(BaseModel):
    status: str
    distance_m: float | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    impossible_travel: bool


class VisitListOut(BaseModel):
    id: int
    client_id: UUID
    establishment_id: int
    round_stop_id: int | None
    inspector_id: int
    checklist_version_id: int
    municipality_id: int
    category_id: int
    started_at: datetime
    finished_at: datetime
    received_at: datetime
    outcome: str
    effective_outcome: str = Field(description="The outcome after supervisors' amendments (the visit row is unchanged)")
    geo_status: str
    geo_distance_m: float | None
    impossible_travel: bool
    has_violation: bool
    violation_count: int


class VisitOut(VisitListOut):
    notes: str
    geo: GeoOut
    answers: list[AnswerOut]
    findings: list[FindingOut]
    closed_findings: list[FindingOut]
    photos: list[PhotoOut]
    amendments: list[AmendmentOut]


class AmendmentIn(StrictIn):
    """A supervisor's correction. `changes` may set `outcome`, `notes` and answers by item code."""

    reason: str = Field(min_length=3, max_length=2000)
    changes: AmendmentChangesIn


# --- output builders ------------------------------------------------------------------


def _file_url(photo, variant: str, request) -> str:
    # Short-lived and signed for the caller (inspections/services/photo_urls.py): never a public /media/ URL.
    return request.build_absolute_uri(photo_url(photo=photo, variant=variant, user=request.user))


def photo_out(photo, request) -> PhotoOut:
    return PhotoOut(
        id=photo.pk,
        client_id=photo.client_id,
        visit_id=photo.visit_id,
        item_code=photo.answer.item_code if photo.answer_id else None,
        url=_file_url(photo, "file", request),
        thumbnail_url=_file_url(photo, "thumbnail", request),
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        sha256=photo.sha256,
        exif_lat=photo.exif_lat,
        exif_lon=photo.exif_lon,
        exif_taken_at=photo.exif_taken_at,
        exif_distance_m=photo.exif_distance_m,
        created_at=photo.created_at,
    )


def amendment_out(amendment) -> AmendmentOut:
    return AmendmentOut(
        id=amendment.pk,
        visit_id=amendment.visit_id,
        author_id=amendment.author_id,
        reason=amendment.reason,
        changes=amendment.changes,
        created_at=amendment.created_at,
    )


def _visit_fields(visit) -> dict:
    return {
        "id": visit.pk,
        "client_id": visit.client_id,
        "establishment_id": visit.establishment_id,
        "round_stop_id": visit.round_stop_id,
        "inspector_id": visit.inspector_id,
        "checklist_version_id": visit.checklist_version_id,
        "municipality_id": visit.municipality_id,
        "category_id": visit.category_id,
        "started_at": visit.started_at,
        "finished_at": visit.finished_at,
        "received_at": visit.received_at,
        "outcome": visit.outcome,
        "effective_outcome": effective_outcome(visit),
        "geo_status": visit.geo_status,
        "geo_distance_m": visit.geo_distance_m,
        "impossible_travel": visit.impossible_travel,
        "has_violation": visit.has_violation,
        "violation_count": visit.violation_count,
    }


def visit_list_out(visit) -> VisitListOut:
    return VisitListOut(**_visit_fields(visit))


def visit_out(visit, request) -> VisitOut:
    return VisitOut(
        **_visit_fields(visit),
        notes=visit.notes,
        geo=GeoOut(
            status=visit.geo_status,
            distance_m=visit.geo_distance_m,
            lat=visit.lat,
            lon=visit.lon,
            accuracy_m=visit.accuracy_m,
            impossible_travel=visit.impossible_travel,
        ),
        answers=[
            AnswerOut(
                id=answer.pk, item_code=answer.item_code, value=answer.value, failed=answer.failed, note=answer.note
            )
            for answer in visit.answers.all()
        ],
        findings=[finding_out(finding) for finding in visit.findings.all()],
        closed_findings=[finding_out(finding) for finding in visit.closed_findings.all()],
        photos=[photo_out(photo, request) for photo in visit.photos.all()],
        amendments=[amendment_out(amendment) for amendment in visit.amendments.all()],
    )
