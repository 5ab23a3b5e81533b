"""Public reports: validated, checked like inspectors' photos, and merged into cases.

A report joins an open case of the same type when it names the same establishment, or lies within
CASE_MERGE_RADIUS_M of the case, and the case was opened within CASE_MERGE_WINDOW_HOURS. Cases are
matched under a lock on the report type's row, so two reports arriving together still make one case.
Reporters are counted by `reporter_key` (the volunteer, else the device, else the contact, else the
IP): the same citizen sending twice is one reporter.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError
from community.models import Case, Report, ServiceType, ShopCode, report_photo_path
from community.selectors.cases import open_cases
from community.services.webhooks import webhook_event_record
from inspections.domain.geo import distance_m, municipality_at
from inspections.models import Establishment
from inspections.services.photos import PhotoTooLargeError, photo_process

MAX_DESCRIPTION = 4000


@dataclass
class ReportIn:
    """A citizen's report as the Open311 view or the shop page parsed it."""

    service_code: str
    description: str
    ip: str
    lat: float | None = None
    lon: float | None = None
    shop_code: str | None = None  # Open311 `address_id`: the public code on the shop front
    photo: object | None = None  # an uploaded file
    media_url: str = ""
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    attributes: dict = field(default_factory=dict)
    volunteer: object | None = None  # community.Volunteer of a signed-in reporter


@dataclass
class Submitted:
    report: Report
    case: Case
    joined: bool  # the report joined an existing case
    reporters: int


def _bad(message: str, *, field_name: str, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, code=code, extra={"errors": [{"loc": [field_name], "msg": message}]})


def _ip_or_none(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _reporter_key(payload: ReportIn) -> str:
    if payload.volunteer is not None:
        raw = f"volunteer:{payload.volunteer.pk}"
    elif payload.device_id:
        raw = f"device:{payload.device_id}"
    elif payload.email or payload.phone:
        raw = f"contact:{payload.email.lower()}|{payload.phone}"
    else:
        raw = f"ip:{payload.ip}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _attributes_clean(service_type: ServiceType, raw: dict) -> dict:
    definitions = {attribute["code"]: attribute for attribute in service_type.attributes}
    unknown = sorted(set(raw) - set(definitions))
    if unknown:
        raise _bad(_("Unknown attribute: %(code)s.") % {"code": unknown[0]}, field_name="attribute")
    cleaned = {}
    for code, definition in definitions.items():
        value = raw.get(code, "")
        if value in ("", None):
            if definition.get("required"):
                raise _bad(_("The attribute %(code)s is required.") % {"code": code}, field_name=f"attribute[{code}]")
            continue
        if definition["datatype"] == "number":
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise _bad(_("Attribute %(code)s must be a number.") % {"code": code}, field_name=code) from None
            if not math.isfinite(number):
                raise _bad(_("Attribute %(code)s must be a number.") % {"code": code}, field_name=code)
            cleaned[code] = number
        else:
            cleaned[code] = str(value)[:500]
    return cleaned


def _location(payload: ReportIn) -> tuple[Establishment | None, float, float, int]:
    establishment = None
    if payload.shop_code:
        shop = ShopCode.objects.select_related("establishment").filter(code=payload.shop_code.upper()).first()
        if shop is None:
            raise _bad(_("No shop has this code."), field_name="address_id", code="unknown_shop")
        establishment = shop.establishment
        return establishment, establishment.lat, establishment.lon, establishment.municipality_id
    if payload.lat is None or payload.lon is None:
        raise _bad(_("Give a location (lat and long) or a shop's code (address_id)."), field_name="lat")
    if not (-90 <= payload.lat <= 90 and -180 <= payload.lon <= 180):
        raise _bad(_("The location is not a valid WGS84 position."), field_name="lat")
    municipality_id = municipality_at(payload.lat, payload.lon)
    if municipality_id is None:
        raise _bad(_("This location is outside the municipalities we serve."), field_name="lat", code="out_of_area")
    return None, payload.lat, payload.lon, municipality_id


def _photo_store(upload) -> tuple[bytes, str] | None:
    """The same checks as inspectors' photos (inspections' photo_process): re-encoded, EXIF stripped."""
    if upload is None:
        return None
    size = getattr(upload, "size", None)
    if size is not None and size > settings.PHOTO_MAX_BYTES:
        raise PhotoTooLargeError(_("The photo is too large."), code="photo_too_large")
    data = upload.read(settings.PHOTO_MAX_BYTES + 1)
    if len(data) > settings.PHOTO_MAX_BYTES:
        raise PhotoTooLargeError(_("The photo is too large."), code="photo_too_large")
    if not data:
        raise _bad(_("The photo is empty."), field_name="media", code="empty_file")
    processed = photo_process(data)
    return processed.jpeg, hashlib.sha256(data).hexdigest()


def _matching_case(*, service_type: ServiceType, establishment, lat: float, lon: float, now) -> Case | None:
    since = now - timedelta(hours=settings.CASE_MERGE_WINDOW_HOURS)
    candidates = open_cases().filter(service_type=service_type, opened_at__gte=since)
    if establishment is not None:
        same_shop = candidates.filter(establishment=establishment).order_by("opened_at").first()
        if same_shop is not None:
            return same_shop
        candidates = candidates.filter(establishment__isnull=True)
    import h3  # here, not at the top: only a report with a location needs it

    radius = settings.CASE_MERGE_RADIUS_M
    edge = h3.average_hexagon_edge_length(9, unit="m")
    origin = h3.latlng_to_cell(lat, lon, 9)
    cells = [h3.str_to_int(cell) for cell in h3.grid_disk(origin, math.ceil(radius / edge) + 1)]
    nearest = None
    for case in candidates.filter(h3_r9__in=cells).order_by("opened_at"):
        distance = distance_m(lat, lon, case.lat, case.lon)
        if distance <= radius and (nearest is None or distance < nearest[0]):
            nearest = (distance, case)
    return nearest[1] if nearest else None


def report_submit(*, payload: ReportIn) -> Submitted:
    """Validate one public report and file it into a case (new or joined); nothing is written on error."""
    service_type = ServiceType.objects.filter(code=payload.service_code, is_active=True).first()
    if service_type is None:
        raise _bad(_("Unknown service_code."), field_name="service_code", code="unknown_service")
    description = (payload.description or "").strip()
    if not description:
        raise _bad(_("Describe the problem (description)."), field_name="description")
    if len(description) > MAX_DESCRIPTION:
        raise _bad(_("The description is longer than 4000 characters."), field_name="description")
    if payload.media_url and not payload.media_url.startswith(("https://", "http://")):
        raise _bad(_("media_url must be an http(s) URL."), field_name="media_url")
    attributes = _attributes_clean(service_type, payload.attributes)
    establishment, lat, lon, municipality_id = _location(payload)
    photo = _photo_store(payload.photo)

    now = timezone.now()
    saved_name = ""
    try:
        with transaction.atomic():
            # One report type at a time decides "new case or join": no twin cases from a race.
            ServiceType.objects.select_for_update().get(pk=service_type.pk)
            case = _matching_case(service_type=service_type, establishment=establishment, lat=lat, lon=lon, now=now)
            joined = case is not None
            if case is None:
                import h3

                case = Case.objects.create(
                    service_type=service_type,
                    establishment=establishment,
                    municipality_id=municipality_id,
                    lat=lat,
                    lon=lon,
                    h3_r9=h3.str_to_int(h3.latlng_to_cell(lat, lon, 9)),
                    description=description,
                    opened_at=now,
                    last_reported_at=now,
                )
            else:
                Case.objects.filter(pk=case.pk).update(last_reported_at=now, updated_at=now)
            report = Report(
                case=case,
                service_type=service_type,
                volunteer=payload.volunteer,
                reporter_key=_reporter_key(payload),
                description=description,
                lat=lat,
                lon=lon,
                attributes=attributes,
                media_url=payload.media_url[:500],
                email=payload.email[:254],
                phone=payload.phone[:32],
                first_name=payload.first_name[:100],
                last_name=payload.last_name[:100],
                device_id=payload.device_id[:100],
                ip=_ip_or_none(payload.ip),
                submitted_at=now,
            )
            if photo is not None:
                saved_name = default_storage.save(report_photo_path(report, ""), ContentFile(photo[0]))
                report.photo.name = saved_name
                report.photo_sha256 = photo[1]
            report.save()
            if not joined:
                webhook_event_record(
                    event_type="report.opened",
                    subject=f"case:{case.pk}",
                    occurred_at=now,
                    payload=case_event_payload(case),
                )
            reporters = case.reports.values("reporter_key").distinct().count()
    except BaseException:
        if saved_name:
            default_storage.delete(saved_name)
        raise
    return Submitted(report=report, case=case, joined=joined, reporters=reporters)


def case_event_payload(case: Case, **extra) -> dict:
    """What other systems get about a case: never a reporter's personal data."""
    return {
        "case_id": case.pk,
        "service_code": case.service_type.code,
        "establishment_id": case.establishment_id,
        "municipality_id": case.municipality_id,
        "lat": case.lat,
        "long": case.lon,
        "opened_at": case.opened_at.isoformat(),
        **extra,
    }
