"""Visit photos: validated, re-encoded without EXIF, thumbnailed; EXIF GPS and capture time kept.

Pipeline (any failure is a 4xx and leaves nothing behind: no row, no file):

1. size: empty files and files above PHOTO_MAX_BYTES are refused before decoding;
2. header: Pillow identifies the format (JPEG, PNG or WebP only) and the pixel count is checked
   against PHOTO_MAX_PIXELS from the header alone; Pillow's DecompressionBombWarning is an error;
3. `Image.verify()`, then the file is reopened and fully decoded (`load()`): truncated files
   and a JPEG header followed by junk fail here;
4. EXIF GPS (`getexif().get_ifd(GPSInfo)`) and DateTimeOriginal are read before anything is
   stripped, and the EXIF position's distance to the visit's fix is stored as evidence;
5. `ImageOps.exif_transpose` when EXIF asks for it, re-encoded as JPEG without EXIF, and a 512 px
   thumbnail from the same decoded pixels (whole-factor reduce, then resample).

Polyglots: a file is accepted only if Pillow decodes it completely as an image. HTML or a ZIP
named `.jpg` is refused (not an image); a complete JPEG with something appended after its end
marker decodes fully and is accepted, but only the re-encoded pixels are ever stored or served,
so the appended payload is dropped. Only the SHA-256 of the upload is kept as evidence.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.domain.calendar import datetime_supported
from inspections.domain.geo import distance_m
from inspections.models import Answer, Photo, Visit, photo_upload_path, thumbnail_upload_path
from inspections.selectors.scope import scope_for

if TYPE_CHECKING:
    from PIL import Image

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
THUMBNAIL_PX = 512
JPEG_QUALITY = 85


class PhotoTooLargeError(ApplicationError):
    status = 413


def photo_upload(*, user, visit: Visit, client_id: UUID, upload, item_code: str | None = None) -> tuple[Photo, bool]:
    """Store a photo of `visit`; returns (photo, created). A replayed client_id returns the first photo."""
    existing = Photo.objects.filter(client_id=client_id).select_related("answer").first()
    if existing is not None:
        return _replayed(existing, visit=visit), False

    scope = scope_for(user)
    if visit.inspector_id != user.pk and not (scope.has_role("supervisor") and scope.covers(visit.municipality_id)):
        raise PermissionDeniedError(_("Only the visit's inspector or a supervisor may add photos."))

    answer = None
    if item_code:
        if len(item_code) > 64 or "\x00" in item_code:
            raise ApplicationError(_("The visit has no answer for this item code."), code="unknown_item")
        answer = Answer.objects.filter(visit=visit, item_code=item_code).first()
        if answer is None:
            raise ApplicationError(_("The visit has no answer for this item code."), code="unknown_item")

    data = _read_upload(upload)
    processed = photo_process(data)
    exif_distance = None
    if processed.exif_lat is not None and visit.lat is not None:
        exif_distance = distance_m(processed.exif_lat, processed.exif_lon, visit.lat, visit.lon)

    photo = Photo(
        client_id=client_id,
        visit=visit,
        answer=answer,
        uploaded_by=user,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.jpeg),
        sha256=hashlib.sha256(data).hexdigest(),
        exif_lat=processed.exif_lat,
        exif_lon=processed.exif_lon,
        exif_taken_at=processed.exif_taken_at,
        exif_distance_m=exif_distance,
    )
    saved: list[str] = []
    try:
        saved.append(default_storage.save(photo_upload_path(photo, ""), ContentFile(processed.jpeg)))
        saved.append(default_storage.save(thumbnail_upload_path(photo, ""), ContentFile(processed.thumbnail)))
        photo.file.name, photo.thumbnail.name = saved
        with transaction.atomic():
            photo.save()
    except IntegrityError:
        # The same client_id was stored meanwhile (a concurrent retry): keep the first, drop our files.
        _files_delete(saved)
        return _replayed(Photo.objects.select_related("answer").get(client_id=client_id), visit=visit), False
    except BaseException:
        _files_delete(saved)
        raise
    return photo, True


def _replayed(photo: Photo, *, visit: Visit) -> Photo:
    if photo.visit_id != visit.pk:
        raise ApplicationError(
            _("This client_id is already used by another photo."), code="client_id_conflict", status=409
        )
    return photo


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _read_upload(upload) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > settings.PHOTO_MAX_BYTES:
        raise PhotoTooLargeError(
            _("The photo is larger than %(max)d bytes.") % {"max": settings.PHOTO_MAX_BYTES}, code="photo_too_large"
        )
    data = upload.read(settings.PHOTO_MAX_BYTES + 1)
    if len(data) > settings.PHOTO_MAX_BYTES:
        raise PhotoTooLargeError(
            _("The photo is larger than %(max)d bytes.") % {"max": settings.PHOTO_MAX_BYTES}, code="photo_too_large"
        )
    if not data:
        raise ApplicationError(_("The file is empty."), code="empty_file")
    return data


class ProcessedPhoto:
    def __init__(self, *, jpeg, thumbnail, width, height, exif_lat, exif_lon, exif_taken_at):
        self.jpeg, self.thumbnail = jpeg, thumbnail
        self.width, self.height = width, height
        self.exif_lat, self.exif_lon, self.exif_taken_at = exif_lat, exif_lon, exif_taken_at


def _invalid(message: str, code: str = "invalid_image") -> ApplicationError:
    return ApplicationError(message, code=code)


def photo_process(data: bytes) -> ProcessedPhoto:
    """Validate and re-encode an uploaded image (see the module docstring); raises ApplicationError."""
    # Pillow (~8 MiB of RSS) is imported by the requests that decode a photo, not by every web process
    # that loads this module (the CSV export's workers among them).
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Only the three formats' parsers ever see the bytes (no exotic decoders on untrusted input).
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as probe:
                width, height = probe.size
                if width * height > settings.PHOTO_MAX_PIXELS:
                    raise PhotoTooLargeError(
                        _("The photo has more than %(max)d pixels.") % {"max": settings.PHOTO_MAX_PIXELS},
                        code="photo_too_many_pixels",
                    )
                probe.verify()
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
                image.load()
                exif_lat, exif_lon, exif_taken_at = _exif_evidence(image)
                upright = ImageOps.exif_transpose(image, in_place=False) if _rotated(image) else image
                if upright.mode != "RGB":
                    upright = upright.convert("RGB")
                jpeg = io.BytesIO()
                # No exif= (EXIF dropped) and no optimize= (a second Huffman pass: ~2x the encoding
                # CPU on the request path for a few per cent of bytes).
                upright.save(jpeg, "JPEG", quality=JPEG_QUALITY)
                out_width, out_height = upright.size
                # From the decoded pixels: reduce by a whole factor (box filter; no full-size copy),
                # then resample the rest.
                factor = int(max(out_width, out_height) / THUMBNAIL_PX)
                small = upright.reduce(factor) if factor >= 2 else upright.copy()
                small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
                thumbnail = io.BytesIO()
                small.save(thumbnail, "JPEG", quality=80)
        except ApplicationError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise PhotoTooLargeError(_("The photo has too many pixels."), code="photo_too_many_pixels") from error
        except UnidentifiedImageError as error:
            raise _invalid(_("The file is not a JPEG, PNG or WebP image."), "not_an_image") from error
        except (
            OSError,
            SyntaxError,
            ValueError,
            EOFError,
            IndexError,
            TypeError,
        ) as error:
            raise _invalid(_("The image is damaged or truncated."), "damaged_image") from error
    return ProcessedPhoto(
        jpeg=jpeg.getvalue(),
        thumbnail=thumbnail.getvalue(),
        width=out_width,
        height=out_height,
        exif_lat=exif_lat,
        exif_lon=exif_lon,
        exif_taken_at=exif_taken_at,
    )


def _rotated(image: Image.Image) -> bool:
    """Whether EXIF asks for a rotation or flip (Orientation other than 1)."""
    from PIL import ExifTags

    try:
        return image.getexif().get(ExifTags.Base.Orientation, 1) not in (1, None)
    except Exception:  # noqa: BLE001 - unreadable EXIF: nothing to apply
        return False


def _exif_evidence(image: Image.Image) -> tuple[float | None, float | None, datetime | None]:
    """EXIF GPS position and DateTimeOriginal, when present and sane (never raises)."""
    from PIL import ExifTags

    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - a broken EXIF block is no evidence, not an error
        return None, None, None
    lat = lon = taken_at = None
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            lat = _dms(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
            lon = _dms(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
            if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                lat = lon = None
    except Exception:  # noqa: BLE001
        lat = lon = None
    try:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        raw = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if raw:
            naive = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            offset = details.get(ExifTags.Base.OffsetTimeOriginal)
            if offset:
                taken_at = datetime.fromisoformat(naive.isoformat() + str(offset).strip("\x00 "))
            else:  # phones record local time; without an offset, Asia/Riyadh is assumed
                taken_at = timezone.make_aware(naive)
            if not datetime_supported(taken_at):
                # An unset camera clock (0001:01:01 ...) is no capture time; stored, it would be a BC
                # date on PostgreSQL (or overflow converting to UTC) and break every read of the photo.
                taken_at = None
    except Exception:  # noqa: BLE001
        taken_at = None
    return lat, lon, taken_at


def _dms(value, ref, negative: str) -> float | None:
    if not value or len(value) != 3:
        return None
    degrees = float(value[0]) + float(value[1]) / 60.0 + float(value[2]) / 3600.0
    if isinstance(ref, bytes):
        ref = ref.decode(errors="ignore")
    if ref and str(ref).strip("\x00 ").upper() == negative:
        degrees = -degrees
    return degrees
