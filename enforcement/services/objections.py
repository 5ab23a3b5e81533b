"""Objections: filed by the owner (public page: notice number + licence number) or by staff on the
owner's behalf, within ENFORCEMENT_OBJECTION_DAYS of the notice; decided by a supervisor who had no
part in the inspection (neither the visit's inspector nor an author of one of its amendments).

The decision moves the notice: upheld keeps the amount, reduced sets a lower one, cancelled sets
it to zero. Every step is audited and notified in the same transaction; a decision also sends
`enforcement.signals.objection_decided` there (for the apps built on enforcement).
"""

import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from enforcement.models import Objection, ObjectionAttachment, PenaltyNotice
from enforcement.services.notify import notify_objection_decided, notify_objection_filed
from enforcement.signals import objection_decided
from inspections.models import Membership, VisitAmendment
from inspections.selectors.scope import scope_for
from inspections.services.audit import audit_record

MAX_ATTACHMENTS = 5
ALLOWED_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class AttachmentIn:
    name: str
    content: bytes


def _attachment_type(attachment: AttachmentIn) -> str:
    """The content type of an allowed attachment (JPEG, PNG or PDF, judged by content), or a 422."""
    if len(attachment.content) > settings.ENFORCEMENT_ATTACHMENT_MAX_BYTES:
        raise ApplicationError(_("An attachment is too large."), code="attachment_too_large", status=422)
    if attachment.content.startswith(b"%PDF-"):
        return "application/pdf"
    from PIL import Image, UnidentifiedImageError  # here: see inspections.services.photos

    try:
        with Image.open(io.BytesIO(attachment.content)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ApplicationError(
            _("Attachments must be JPEG or PNG images or PDF files."), code="attachment_type", status=422
        ) from error
    if kind not in ALLOWED_IMAGE_FORMATS:
        raise ApplicationError(
            _("Attachments must be JPEG or PNG images or PDF files."), code="attachment_type", status=422
        )
    return ALLOWED_IMAGE_FORMATS[kind]


def _window_check(notice: PenaltyNotice) -> None:
    if notice.status == PenaltyNotice.Status.CANCELLED:
        raise ApplicationError(_("This notice was cancelled."), code="notice_cancelled", status=409)
    if timezone.localdate() > notice.objection_deadline:
        raise ApplicationError(
            _("The objection window closed on %(date)s.") % {"date": notice.objection_deadline.isoformat()},
            code="objection_window_closed",
            status=409,
        )


@transaction.atomic
def objection_file(
    *,
    notice: PenaltyNotice,
    owner_name: str,
    reasons: str,
    owner_contact: str = "",
    attachments: list[AttachmentIn] | None = None,
    filed_by=None,
) -> Objection:
    """File an objection to `notice` (the caller found it: scoped for staff, by number + licence for the public)."""
    attachments = attachments or []
    if filed_by is not None:
        scope = scope_for(filed_by)
        if not scope.has_role(Membership.Role.SUPERVISOR) or not scope.covers(notice.municipality_id):
            raise PermissionDeniedError(
                _("Only a supervisor of the notice's municipality may file an objection on the owner's behalf.")
            )
    if not owner_name.strip() or not reasons.strip():
        raise ApplicationError(_("The owner's name and the reasons are required."), code="objection_empty", status=422)
    if len(attachments) > MAX_ATTACHMENTS:
        raise ApplicationError(
            _("At most %(n)d attachments.") % {"n": MAX_ATTACHMENTS}, code="too_many_attachments", status=422
        )
    notice = PenaltyNotice.objects.select_for_update().get(pk=notice.pk)
    _window_check(notice)
    types = [_attachment_type(attachment) for attachment in attachments]
    try:
        with transaction.atomic():
            objection = Objection.objects.create(
                notice=notice,
                owner_name=owner_name.strip(),
                owner_contact=owner_contact.strip(),
                reasons=reasons.strip(),
                filed_by=filed_by,
                filed_at=timezone.now(),
            )
    except IntegrityError as error:
        raise ApplicationError(
            _("An objection to this notice was already filed."), code="objection_exists", status=409
        ) from error
    for attachment, content_type in zip(attachments, types, strict=True):
        digest = hashlib.sha256(attachment.content).hexdigest()
        row = ObjectionAttachment(
            objection=objection, content_type=content_type, size_bytes=len(attachment.content), sha256=digest
        )
        safe_name = "".join(c for c in attachment.name if c.isalnum() or c in "._-")[-60:] or "attachment"
        row.file.save(safe_name, ContentFile(attachment.content), save=False)
        row.save()
    notice.status = PenaltyNotice.Status.OBJECTED
    notice.save(update_fields=["status"])
    audit_record(
        actor=filed_by,
        action="objection.filed",
        target=objection,
        municipality_id=notice.municipality_id,
        details={
            "notice": notice.number,
            "on_behalf": filed_by is not None,
            "attachments": [row.sha256 for row in objection.attachments.all()],
        },
    )
    notify_objection_filed(objection=objection)
    return objection


def notice_find_public(*, number: str, licence_no: str) -> PenaltyNotice:
    """The notice with this number whose establishment has this licence; one answer for every miss, so
    the page confirms nothing about numbers it was not given both halves of."""
    notice = (
        PenaltyNotice.objects.select_related("establishment", "violation")
        .filter(number=number.strip(), establishment__licence_no=licence_no.strip())
        .first()
    )
    if notice is None:
        raise NotFoundError(_("No notice matches this number and licence number."))
    return notice


def _had_part(*, user, notice: PenaltyNotice) -> str | None:
    """Why `user` may not decide (they inspected or amended the visit), or None."""
    if notice.visit.inspector_id == user.pk:
        return _("You made the inspection visit behind this notice, so you cannot decide its objection.")
    if VisitAmendment.objects.filter(visit_id=notice.visit_id, author_id=user.pk).exists():
        return _("You amended the inspection visit behind this notice, so you cannot decide its objection.")
    return None


@transaction.atomic
def objection_decide(
    *, objection: Objection, decider, decision: str, reasons: str, amount_sar: Decimal | None = None
) -> Objection:
    """Decide an objection: upheld, reduced (to `amount_sar`, below the current amount) or cancelled."""
    objection = (  # the objection and its notice (whose amount is rewritten), not the inspection's visit
        Objection.objects.select_for_update(of=("self", "notice")).select_related("notice__visit").get(pk=objection.pk)
    )
    notice = objection.notice
    # Having had a part in the inspection is said first: it is the reason that matters to the caller.
    conflict = _had_part(user=decider, notice=notice)
    if conflict:
        raise PermissionDeniedError(conflict, code="had_part_in_inspection")
    scope = scope_for(decider)
    if not scope.has_role(Membership.Role.SUPERVISOR) or not scope.covers(notice.municipality_id):
        raise PermissionDeniedError(
            _("Only a supervisor of the notice's municipality may decide an objection."), code="not_a_supervisor"
        )
    if objection.status == Objection.Status.DECIDED:
        raise ApplicationError(_("This objection was already decided."), code="objection_decided", status=409)
    if not reasons.strip():
        raise ApplicationError(_("A decision needs its reasons."), code="reasons_required", status=422)
    if decision == Objection.Decision.REDUCED:
        if amount_sar is None or amount_sar <= 0 or amount_sar >= notice.amount_sar:
            raise ApplicationError(
                _("A reduced amount must be above zero and below the current amount (%(amount)s SAR).")
                % {"amount": notice.amount_sar},
                code="invalid_amount",
                status=422,
            )
        new_amount = amount_sar.quantize(Decimal("0.01"))
    elif amount_sar is not None:
        raise ApplicationError(_("Only a reduction takes an amount."), code="invalid_amount", status=422)
    else:
        new_amount = notice.amount_sar if decision == Objection.Decision.UPHELD else Decimal("0.00")
    previous_amount = notice.amount_sar
    now = timezone.now()
    objection.status = Objection.Status.DECIDED
    objection.decision = decision
    objection.decision_reasons = reasons.strip()
    objection.decided_amount_sar = new_amount
    objection.decided_by = decider
    objection.decided_at = now
    objection.save()
    notice.amount_sar = new_amount
    notice.status = {
        Objection.Decision.UPHELD: PenaltyNotice.Status.UPHELD,
        Objection.Decision.REDUCED: PenaltyNotice.Status.REDUCED,
        Objection.Decision.CANCELLED: PenaltyNotice.Status.CANCELLED,
    }[decision]
    notice.save(update_fields=["amount_sar", "status"])
    audit_record(
        actor=decider,
        action=f"objection.{decision}",
        target=objection,
        municipality_id=notice.municipality_id,
        details={
            "notice": notice.number,
            "from_sar": str(previous_amount),
            "to_sar": str(new_amount),
            "reasons": objection.decision_reasons,
        },
    )
    notify_objection_decided(objection=objection)
    objection_decided.send(sender=Objection, objection=objection)
    return objection
