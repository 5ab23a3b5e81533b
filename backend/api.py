"""The one NinjaAPI: authentication, error handlers and the routers of every app, mounted by dotted path.

Errors always answer JSON `{"detail": str, "code": str, "errors"?: [...]}` with a 4xx status;
messages follow Accept-Language (Arabic by default, English on request).
"""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from backend.api_basics import error_body
from backend.exceptions import ApplicationError, ThrottledError
from inspections.services.auth import token_decode

logger = logging.getLogger(__name__)
User = get_user_model()


class JWTAuth(HttpBearer):
    """`Authorization: Bearer <access token>` from POST auth/token."""

    def authenticate(self, request: HttpRequest, token: str):
        user_id = token_decode(token=token, expected_type="access")
        if user_id is None:
            return None
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Jawla API",
    version="1.0.0",
    description="Municipal field inspections: rounds, offline visit sync, findings, analytics, push alerts.",
    auth=[JWTAuth(), django_auth],
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request, message: str, *, code: str, status: int, errors: list | None = None, headers: dict | None = None):
    response = api.create_response(request, error_body(message, code=code, errors=errors), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, ThrottledError) else None
    return _error(
        request, exc.message, code=exc.code, status=exc.status, headers=headers, errors=exc.extra.get("errors")
    )


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", [])],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors
    ]
    return _error(request, _("The request is invalid."), code="validation_error", status=422, errors=errors)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return _error(
        request, _("Authentication required: send a valid access token."), code="not_authenticated", status=401
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, _("Not found."), code="not_found", status=404)


@api.exception_handler(ObjectDoesNotExist)
def on_does_not_exist(request, exc):
    return _error(request, _("Not found."), code="not_found", status=404)


@api.exception_handler(DjangoPermissionDenied)
def on_permission_denied(request, exc):
    return _error(request, _("You do not have permission to do this."), code="forbidden", status=403)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # ninja could not parse the body (not JSON, not UTF-8, nested too deep): a validation error
        # like any other bad input, so it is the 422 every operation with a body declares.
        errors = [{"loc": ["body"], "msg": "Invalid JSON", "type": "json_invalid"}]
        return _error(request, _("The request body is not valid JSON."), code="invalid_json", status=422, errors=errors)
    return _error(request, str(exc.message), code="http_error", status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request, exc):
    return _error(request, _("The request is too large."), code="too_large", status=413)


@api.exception_handler(MultiPartParserError)
@api.exception_handler(SuspiciousOperation)
def on_suspicious_operation(request, exc):
    # Too many fields, a multipart body without its boundary and the like: the caller's fault, in JSON.
    logger.warning("suspicious request: %s", exc)
    return _error(request, _("The request is invalid."), code="bad_request", status=400)


@api.exception_handler(Exception)
def on_unexpected_error(request, exc):
    # Still a 500 (and logged with its traceback), but in the API's JSON shape, never an HTML page.
    logger.exception("unhandled error in %s %s", request.method, request.path)
    return _error(request, _("Internal server error."), code="server_error", status=500)


# Every app's router, by dotted path (this module is the composition root: apps never import it).
ROUTERS = [
    ("", "inspections.api.health.router"),
    ("", "inspections.api.client_config.router"),
    ("", "inspections.api.auth.router"),
    ("", "inspections.api.municipalities.router"),
    ("", "inspections.api.establishments.router"),
    ("", "inspections.api.checklists.router"),
    ("", "inspections.api.rounds.router"),
    ("", "inspections.api.visits.router"),
    ("", "inspections.api.planning.router"),  # before findings: "findings/overdue" is not findings/{finding_id}
    ("", "inspections.api.findings.router"),
    ("", "inspections.api.reviews.router"),
    ("", "inspections.api.checklist_authoring.router"),
    ("", "inspections.api.history.router"),
    ("", "notifications.api.router"),
    ("analytics", "analytics.api.router"),
    ("", "community.api.router.router"),
    ("enforcement", "enforcement.api.router"),
]

for prefix, router_path in ROUTERS:
    api.add_router(prefix, import_string(router_path))
