"""The owner's acknowledgement of a visit: a signature drawn on the phone's screen plus a name, or a
recorded refusal to sign. Stored with the SHA-256 of the signature image; the evidence sweep seals
it into the inspector's chain. Idempotent by the phone's client_id (a replay returns the first)."""

import base64
import binascii
import hashlib
import io
import uuid
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from enforcement.models import Acknowledgement
from inspections.models import Membership, Visit
from inspections.selectors.scope import scope_for
from inspections.services.audit import audit_record

SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_SIDE = 2000


def _signature_png(encoded: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApplicationError(_("The signature is not valid base64."), code="signature_invalid", status=422) from error
    if len(raw) > SIGNATURE_MAX_BYTES:
        raise ApplicationError(_("The signature image is too large."), code="signature_too_large", status=422)
    from PIL import Image, UnidentifiedImageError  # here: see inspections.services.photos

    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ApplicationError(_("The signature must be a PNG image."), code="signature_invalid", status=422)
            if max(image.size) > SIGNATURE_MAX_SIDE or min(image.size) < 10:
                raise ApplicationError(
                    _("The signature image has an unusable size."), code="signature_invalid", status=422
                )
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ApplicationError(_("The signature must be a PNG image."), code="signature_invalid", status=422) from error
    return raw


def acknowledgement_record(
    *,
    user,
    visit: Visit,
    client_id: uuid.UUID,
    kind: str,
    captured_at: datetime,
    signer_name: str = "",
    signature_png_base64: str | None = None,
) -> tuple[Acknowledgement, bool]:
    """Store the acknowledgement of `visit` (fetched through the caller's scope). Returns (row, created)."""
    existing = Acknowledgement.objects.filter(client_id=client_id).first()
    if existing is not None:
        if existing.visit_id != visit.pk:
            raise ApplicationError(_("This client_id belongs to another visit."), code="client_id_reused", status=409)
        return existing, False
    scope = scope_for(user)
    if not (visit.inspector_id == user.pk or scope.has_role(Membership.Role.SUPERVISOR)):
        raise PermissionDeniedError(_("Only the visit's inspector or a supervisor may record its acknowledgement."))
    if captured_at > timezone.now() + settings.VISIT_MAX_FUTURE_SKEW:
        raise ApplicationError(_("captured_at is in the future."), code="captured_in_future", status=422)
    if kind == Acknowledgement.Kind.SIGNED:
        if not signer_name.strip() or not signature_png_base64:
            raise ApplicationError(
                _("A signed acknowledgement needs the signer's name and the signature image."),
                code="signature_required",
                status=422,
            )
        png = _signature_png(signature_png_base64)
    else:
        if signature_png_base64:
            raise ApplicationError(_("A refusal carries no signature."), code="refusal_with_signature", status=422)
        png = None
    try:
        with transaction.atomic():
            ack = Acknowledgement(
                client_id=client_id,
                visit=visit,
                kind=kind,
                signer_name=signer_name.strip(),
                signature_sha256=hashlib.sha256(png).hexdigest() if png else "",
                captured_at=captured_at,
                received_at=timezone.now(),
                recorded_by=user,
            )
            if png:
                ack.signature.save("signature.png", ContentFile(png), save=False)
            ack.save()
            audit_record(
                actor=user,
                action=f"visit.acknowledgement_{kind}",
                target=visit,
                municipality_id=visit.municipality_id,
                details={"acknowledgement_id": ack.pk, "signature_sha256": ack.signature_sha256},
            )
    except IntegrityError as error:
        again = Acknowledgement.objects.filter(client_id=client_id).first()
        if again is not None and again.visit_id == visit.pk:
            return again, False
        raise ApplicationError(
            _("This visit already has an acknowledgement."), code="acknowledgement_exists", status=409
        ) from error
    return ack, True
