"""The enforcement API (mounted by backend/api.py at "enforcement"): the catalogue, penalty notices,
objections and their decisions, the owner's acknowledgement and signed visit reports."""

from decimal import Decimal

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from backend.api_basics import ERRORS, ErrorOut, Page
from backend.exceptions import ApplicationError, PermissionDeniedError
from enforcement.api.schemas import (
    AcknowledgementIn,
    AcknowledgementOut,
    DecisionIn,
    NoticeOut,
    ObjectionOut,
    ReportOut,
    ViolationOut,
    acknowledgement_out,
    notice_out,
    objection_out,
)
from enforcement.selectors import violations_list, visible_notices, visible_objections, visible_reports
from enforcement.services.acknowledgements import acknowledgement_record
from enforcement.services.objections import AttachmentIn, objection_decide, objection_file
from enforcement.services.reports import verification_url, visit_report_create
from inspections.models import Membership
from inspections.selectors.scope import scope_for
from inspections.selectors.visits import visible_visits

router = Router(tags=["enforcement"])
MAX_UPLOAD = 5


@router.get("violations", response={200: list[ViolationOut], **ERRORS})
@paginate(Page)
def violations_index(request: HttpRequest):
    """The violation catalogue (codes, articles, grades, fine ranges, grace, repeat rule, measures)."""
    return [ViolationOut.model_validate(v, from_attributes=True) for v in violations_list()]


@router.get("notices", response={200: list[NoticeOut], **ERRORS})
@paginate(Page)
def notices_index(request: HttpRequest, status: str | None = None):
    """Penalty notices in the caller's scope, newest first."""
    notices = visible_notices(user=request.user).select_related("previous_notice")
    if status:
        notices = notices.filter(status=status)
    return [notice_out(notice) for notice in notices[:1000]]


@router.get("notices/{notice_id}", response={200: NoticeOut, **ERRORS})
def notice_get(request: HttpRequest, notice_id: int):
    """One notice with every factor of its amount (a 404 outside the caller's scope)."""
    return notice_out(get_object_or_404(visible_notices(user=request.user), pk=notice_id))


@router.post("notices/{notice_id}/objections", response={201: ObjectionOut, 409: ErrorOut, **ERRORS})
def notice_objection_file(
    request: HttpRequest,
    notice_id: int,
    owner_name: Form[str],
    reasons: Form[str],
    owner_contact: Form[str] = "",
    files: File[list[UploadedFile]] = None,
):
    """Staff file an objection on the owner's behalf (multipart: owner_name, reasons, up to 5 `files`)."""
    notice = get_object_or_404(visible_notices(user=request.user), pk=notice_id)
    uploads = list(files or [])
    if len(uploads) > MAX_UPLOAD:
        raise ApplicationError(
            _("At most %(n)d attachments.") % {"n": MAX_UPLOAD}, code="too_many_attachments", status=422
        )
    for text in (owner_name, reasons, owner_contact):
        if "\x00" in text or len(text) > 4000:
            raise ApplicationError(_("The request is invalid."), code="validation_error", status=422)
    objection = objection_file(
        notice=notice,
        owner_name=owner_name[:200],
        reasons=reasons,
        owner_contact=owner_contact[:200],
        attachments=[AttachmentIn(name=upload.name or "attachment", content=upload.read()) for upload in uploads],
        filed_by=request.user,
    )
    return Status(201, objection_out(objection))


@router.get("objections", response={200: list[ObjectionOut], **ERRORS})
@paginate(Page)
def objections_index(request: HttpRequest):
    """Objections in the caller's scope, newest first."""
    return [objection_out(o) for o in visible_objections(user=request.user)[:1000]]


@router.get("objections/{objection_id}", response={200: ObjectionOut, **ERRORS})
def objection_get(request: HttpRequest, objection_id: int):
    return objection_out(get_object_or_404(visible_objections(user=request.user), pk=objection_id))


@router.post("objections/{objection_id}/decision", response={200: ObjectionOut, 409: ErrorOut, **ERRORS})
def objection_decision(request: HttpRequest, objection_id: int, body: DecisionIn):
    """A supervisor with no part in the inspection decides: upheld, reduced (with `amount_sar`) or
    cancelled. The visit's inspector, or a supervisor who amended the visit, gets a 403."""
    objection = get_object_or_404(visible_objections(user=request.user), pk=objection_id)
    decided = objection_decide(
        objection=objection,
        decider=request.user,
        decision=body.decision,
        reasons=body.reasons,
        amount_sar=Decimal(body.amount_sar) if body.amount_sar is not None else None,
    )
    return objection_out(decided)


@router.post(
    "visits/{visit_id}/acknowledgement",
    response={200: AcknowledgementOut, 201: AcknowledgementOut, 409: ErrorOut, **ERRORS},
)
def visit_acknowledgement(request: HttpRequest, visit_id: int, body: AcknowledgementIn):
    """The owner's signature (PNG drawn on the screen, base64) and name, or a refusal to sign.
    Idempotent by client_id: 201 when stored, 200 for a replay."""
    visit = get_object_or_404(visible_visits(user=request.user), pk=visit_id)
    ack, created = acknowledgement_record(
        user=request.user,
        visit=visit,
        client_id=body.client_id,
        kind=body.kind,
        captured_at=body.captured_at,
        signer_name=body.signer_name,
        signature_png_base64=body.signature_png_base64,
    )
    return Status(201 if created else 200, acknowledgement_out(ack))


def _report_out(report) -> ReportOut:
    return ReportOut(
        id=report.pk,
        number=report.number,
        visit_id=report.visit_id,
        pdf_sha256=report.pdf_sha256,
        total_fines_sar=report.total_fines_sar,
        generated_at=report.generated_at,
        verification_url=verification_url(report),
    )


@router.post("visits/{visit_id}/reports", response={201: ReportOut, **ERRORS})
def visit_report(request: HttpRequest, visit_id: int):
    """Render and sign (PAdES) a new report of the visit; supervisors, leadership and admins."""
    visit = get_object_or_404(visible_visits(user=request.user), pk=visit_id)
    if scope_for(request.user).role == Membership.Role.INSPECTOR:
        raise PermissionDeniedError(_("Reports are issued by supervisors."))
    return Status(201, _report_out(visit_report_create(user=request.user, visit=visit)))


@router.get("reports/{report_id}", response={200: ReportOut, **ERRORS})
def report_get(request: HttpRequest, report_id: int):
    return _report_out(get_object_or_404(visible_reports(user=request.user), pk=report_id))


@router.get("reports/{report_id}/pdf", response={200: None, **ERRORS})
def report_pdf(request: HttpRequest, report_id: int):
    """The signed PDF as stored."""
    report = get_object_or_404(visible_reports(user=request.user), pk=report_id)
    return FileResponse(
        default_storage.open(report.pdf.name, "rb"), content_type="application/pdf", filename=f"{report.number}.pdf"
    )
