from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.generic import RedirectView

from backend.api import api
from inspections.views import photo_file


def api_not_found(request, *args, **kwargs):
    """Any other path under /api/: the API's JSON error, not Django's HTML 404 page."""
    return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),
    re_path(r"^photos/(?P<token>[\w:-]+)\.jpg$", photo_file, name="photo-file"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dashboard/", include("analytics.urls")),
    path("", include("community.urls")),
    path("", include("enforcement.urls")),
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
]
# Photos are never served from /media/: only through GET photos/{id}/file with a signed, short-lived
# URL (inspections/services/photo_urls.py), in development and production alike.
