"""The one plain Django view of the inspections app: photo files behind signed URLs (the API hands them out)."""

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from inspections.services.photo_urls import photo_file_for_token


@require_GET
def photo_file(request: HttpRequest, token: str):
    found = photo_file_for_token(token=token)
    if found is None:  # bad, expired or someone else's: one answer, so nothing is confirmed
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    if hasattr(default_storage, "bucket_name"):  # S3 (django-storages): a presigned URL, short-lived
        from django.conf import settings

        response = HttpResponseRedirect(default_storage.url(found.name, expire=settings.PHOTO_PRESIGNED_SECONDS))
    else:
        response = FileResponse(default_storage.open(found.name, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = f"private, max-age={found.max_age}"
    response["Referrer-Policy"] = "no-referrer"
    return response
