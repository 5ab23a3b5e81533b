"""Schemas of the enforcement API. Amounts travel as decimal strings (never floats)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from backend.api_basics import StrictIn
from inspections.services.inputs import AwareIsoDateTime, TextUUID

Amount = Decimal


class ViolationOut(BaseModel):
    code: str
    article: str
    text_ar: str
    text_en: str
    grade: str
    fine_min_sar: Amount
    fine_max_sar: Amount
    grace_days: int
    repeat_multiplier: Amount
    repeat_min_days: int
    repeat_window_days: int
    cap_sar: Amount
    closure_days: int
    licence_suspension_days: int
    source: str
    is_sample: bool


class NoticeOut(BaseModel):
    id: int
    number: str
    status: str
    reason: str
    visit_id: int
    finding_id: int
    establishment_id: int
    establishment_name_ar: str
    licence_no: str
    municipality_id: int
    violation_code: str
    legal_basis: str
    base_sar: Amount
    class_factor: Amount
    size_factor: Amount
    repeat_step: int
    repeat_factor: Amount
    capped: bool
    factors: dict[str, str]
    original_amount_sar: Amount
    amount_sar: Amount
    previous_notice: str | None
    closure_days: int
    licence_suspension_days: int
    offence_at: datetime
    issued_at: datetime
    due_date: date
    objection_deadline: date


def notice_out(notice) -> NoticeOut:
    return NoticeOut(
        id=notice.pk,
        number=notice.number,
        status=notice.status,
        reason=notice.reason,
        visit_id=notice.visit_id,
        finding_id=notice.finding_id,
        establishment_id=notice.establishment_id,
        establishment_name_ar=notice.establishment.name_ar,
        licence_no=notice.establishment.licence_no,
        municipality_id=notice.municipality_id,
        violation_code=notice.violation.code,
        legal_basis=notice.legal_basis,
        base_sar=notice.base_sar,
        class_factor=notice.class_factor,
        size_factor=notice.size_factor,
        repeat_step=notice.repeat_step,
        repeat_factor=notice.repeat_factor,
        capped=notice.capped,
        factors={str(k): str(v) for k, v in notice.factors.items()},
        original_amount_sar=notice.original_amount_sar,
        amount_sar=notice.amount_sar,
        previous_notice=notice.previous_notice.number if notice.previous_notice_id else None,
        closure_days=notice.closure_days,
        licence_suspension_days=notice.licence_suspension_days,
        offence_at=notice.offence_at,
        issued_at=notice.issued_at,
        due_date=notice.due_date,
        objection_deadline=notice.objection_deadline,
    )


class AttachmentOut(BaseModel):
    id: int
    content_type: str
    size_bytes: int
    sha256: str


class ObjectionOut(BaseModel):
    id: int
    notice_id: int
    notice_number: str
    notice_status: str
    amount_sar: Amount
    original_amount_sar: Amount
    owner_name: str
    reasons: str
    filed_on_behalf: bool
    filed_at: datetime
    status: str
    decision: str
    decision_reasons: str
    decided_amount_sar: Amount | None
    decided_at: datetime | None
    attachments: list[AttachmentOut]


def objection_out(objection) -> ObjectionOut:
    notice = objection.notice
    return ObjectionOut(
        id=objection.pk,
        notice_id=notice.pk,
        notice_number=notice.number,
        notice_status=notice.status,
        amount_sar=notice.amount_sar,
        original_amount_sar=notice.original_amount_sar,
        owner_name=objection.owner_name,
        reasons=objection.reasons,
        filed_on_behalf=objection.filed_by_id is not None,
        filed_at=objection.filed_at,
        status=objection.status,
        decision=objection.decision,
        decision_reasons=objection.decision_reasons,
        decided_amount_sar=objection.decided_amount_sar,
        decided_at=objection.decided_at,
        attachments=[
            AttachmentOut(id=a.pk, content_type=a.content_type, size_bytes=a.size_bytes, sha256=a.sha256)
            for a in objection.attachments.all()
        ],
    )


class DecisionIn(StrictIn):
    decision: Literal["upheld", "reduced", "cancelled"]
    reasons: str = Field(min_length=1, max_length=4000)
    # A decimal string ("1250.50"), never a JSON number: money is not a float.
    amount_sar: str | None = Field(None, pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$")


class AcknowledgementIn(StrictIn):
    client_id: TextUUID
    kind: Literal["signed", "refused"]
    signer_name: str = Field("", max_length=200)
    signature_png_base64: str | None = Field(None, max_length=800_000, description="PNG drawn on the screen, base64")
    captured_at: AwareIsoDateTime = Field(description="device clock")


class AcknowledgementOut(BaseModel):
    id: int
    client_id: UUID
    visit_id: int
    kind: str
    signer_name: str
    signature_sha256: str
    captured_at: datetime
    received_at: datetime


def acknowledgement_out(ack) -> AcknowledgementOut:
    return AcknowledgementOut(
        id=ack.pk,
        client_id=ack.client_id,
        visit_id=ack.visit_id,
        kind=ack.kind,
        signer_name=ack.signer_name,
        signature_sha256=ack.signature_sha256,
        captured_at=ack.captured_at,
        received_at=ack.received_at,
    )


class ReportOut(BaseModel):
    id: int
    number: str
    visit_id: int
    pdf_sha256: str
    total_fines_sar: Amount
    generated_at: datetime
    verification_url: str
