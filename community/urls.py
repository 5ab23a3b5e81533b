"""Public routes of the community app: Open311 GeoReport v2, report photos and shop pages."""

from django.urls import path, re_path

from community.api import open311, pages

app_name = "community"

FMT = r"(?P<fmt>json|xml)"

urlpatterns = [
    re_path(rf"^open311/v2/services\.{FMT}$", open311.services_list, name="open311-services"),
    re_path(
        rf"^open311/v2/services/(?P<service_code>[^/]+)\.{FMT}$", open311.service_definition, name="open311-service"
    ),
    re_path(rf"^open311/v2/requests\.{FMT}$", open311.requests_collection, name="open311-requests"),
    re_path(
        rf"^open311/v2/requests/(?P<service_request_id>[^/]+)\.{FMT}$", open311.request_detail, name="open311-request"
    ),
    path("open311/v2/media/<str:token>.jpg", open311.request_media, name="open311-media"),
    path("shops/<str:code>/", pages.shop_page, name="shop"),
]
