from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from backend.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dashboard/", include("analytics.urls")),
    path("", include("community.urls")),
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
]

if settings.DEBUG or not settings.PRODUCTION:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
