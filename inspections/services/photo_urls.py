"""Photo files are served only through short-lived signed URLs, never from a public /media/.

The API hands a caller who can see a visit a URL `/photos/<token>` for each photo and thumbnail; the
token (django.core.signing, salted, timestamped) names the photo, the variant and the caller, and
expires after PHOTO_URL_SECONDS. Fetching it checks the signature and its age, then that the caller
is still active and still sees the visit (visible_to), so a revoked membership stops the URLs it
already received. An `<img src>` works without a bearer header, and a URL that leaks dies in minutes.

Files on the local disk are streamed by the view; on S3 (django-storages) the view redirects to a
presigned URL that lives PHOTO_PRESIGNED_SECONDS, so the bytes never pass through gunicorn.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from inspections.models import Photo
from inspections.selectors.visits import visible_visits

SALT = "jawla.photo-url"
VARIANTS = ("file", "thumbnail")


@dataclass(frozen=True)
class PhotoFile:
    name: str  # the storage name
    max_age: int  # seconds a browser may keep it


def photo_url(*, photo: Photo, variant: str, user) -> str:
    """A signed path to `photo`'s `variant` for `user` (who must already see the visit)."""
    token = signing.dumps([photo.pk, VARIANTS.index(variant), user.pk], salt=SALT, compress=False)
    return reverse("photo-file", args=[token])


def photo_file_for_token(*, token: str) -> PhotoFile | None:
    """The storage name behind a valid, unexpired token whose user still sees the photo, else None."""
    try:
        photo_id, variant, user_id = signing.loads(token, salt=SALT, max_age=settings.PHOTO_URL_SECONDS)
        field = VARIANTS[variant]
    except (signing.BadSignature, ValueError, TypeError, IndexError):
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    photo = Photo.objects.filter(pk=photo_id, visit__in=visible_visits(user=user)).first()
    if photo is None:
        return None
    return PhotoFile(name=getattr(photo, field).name, max_age=settings.PHOTO_URL_SECONDS)
