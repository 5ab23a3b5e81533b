"""Visits endpoints: offline batch sync, list and detail, photos, amendments."""

from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from backend.api_basics import ERRORS, MAX_ID, ErrorOut, IsoDate, MappedList, Page
from inspections.api.schemas.visits import (
    AmendmentIn,
    AmendmentOut,
    PhotoOut,
    SyncOut,
    VisitListOut,
    VisitOut,
    VisitSyncEnvelope,
    amendment_out,
    photo_out,
    visit_list_out,
    visit_out,
)
from inspections.selectors.visits import visible_visits, visit_detail_queryset, visits_list
from inspections.services.amendments import visit_amend
from inspections.services.photos import photo_upload
from inspections.services.visits import visit_sync

router = Router(tags=["visits"])

OutcomeParam = Literal["compliant", "violations", "closed", "refused_entry"]
GeoStatusParam = Literal["verified", "out_of_range", "low_accuracy", "no_fix"]


@router.post("visits/sync", response={200: SyncOut, **ERRORS})
def visits_sync(request: HttpRequest, body: VisitSyncEnvelope):
    """Upload visits recorded offline (at most VISIT_SYNC_MAX_BATCH per request; more is a 422).

    Each visit is validated on its own: the answer lists, in input order, `created` (with the new
    visit_id), `duplicate` (this client_id was stored before: the same visit_id) or `rejected`
    (with `errors: [{loc, msg, type}]`). A rejected visit never prevents the others from being
    stored; the phone may resend the whole batch safely.
    """
    results = visit_sync(inspector=request.user, visits=body.visits)
    return {"results": [result.as_dict() for result in results]}


@router.get("visits", response={200: list[VisitListOut], **ERRORS})
@paginate(Page)
def visits_index(
    request: HttpRequest,
    date_from: IsoDate | None = None,
    date_to: IsoDate | None = None,
    municipality: int | None = Query(None, ge=1, le=MAX_ID),
    establishment: int | None = Query(None, ge=1, le=MAX_ID),
    inspector: int | None = Query(None, ge=1, le=MAX_ID),
    outcome: OutcomeParam | None = None,
    geo_status: GeoStatusParam | None = None,
    impossible_travel: bool | None = None,
    has_violation: bool | None = None,
):
    """Visits in the caller's scope, newest first (dates are Asia/Riyadh days on finished_at, inclusive)."""
    visits = visits_list(
        user=request.user,
        date_from=date_from,
        date_to=date_to,
        municipality=municipality,
        establishment=establishment,
        inspector=inspector,
        outcome=outcome,
        geo_status=geo_status,
        impossible_travel=impossible_travel,
        has_violation=has_violation,
    )
    return MappedList(visits, visit_list_out)


@router.get("visits/{visit_id}", response={200: VisitOut, **ERRORS})
def visit_get(request: HttpRequest, visit_id: int):
    """One visit with its answers, findings (opened and closed by it), photos, geo-verification and amendments."""
    visit = get_object_or_404(visit_detail_queryset(user=request.user), pk=visit_id)
    return visit_out(visit, request=request)


@router.post(
    "visits/{visit_id}/photos", response={200: PhotoOut, 201: PhotoOut, 409: ErrorOut, 413: ErrorOut, **ERRORS}
)
def visit_photo_upload(
    request: HttpRequest,
    visit_id: int,
    file: File[UploadedFile],
    client_id: Form[UUID],
    item_code: Form[str | None] = None,
):
    """Upload a photo of a visit (multipart `file`, `client_id`, optional `item_code`).

    Idempotent by client_id: 201 with the new photo, 200 with the photo already stored for it.
    JPEG, PNG or WebP; re-encoded as JPEG without EXIF (EXIF GPS and capture time are kept as evidence).
    """
    visit = get_object_or_404(visible_visits(user=request.user), pk=visit_id)
    photo, created = photo_upload(user=request.user, visit=visit, client_id=client_id, upload=file, item_code=item_code)
    return Status(201 if created else 200, photo_out(photo, request=request))


@router.post("visits/{visit_id}/amendments", response={201: AmendmentOut, **ERRORS})
def visit_amendment_create(request: HttpRequest, visit_id: int, body: AmendmentIn):
    """A supervisor's correction of a visit (who, when, why, what). The visit itself is never changed."""
    visit = get_object_or_404(visible_visits(user=request.user), pk=visit_id)
    amendment = visit_amend(author=request.user, visit=visit, reason=body.reason, changes=body.changes)
    return Status(201, amendment_out(amendment))
