"""Request ids: every request gets one (or keeps the caller's X-Request-ID), every log line carries it."""

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

from backend.api_basics import error_body

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Left set after the response: Django logs 4xx/5xx answers ("Not Found: ...") once the middleware
        # chain has returned; the value is cleared when the response is closed (request_finished).
        _request_id.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished)
def _request_id_clear(sender, **kwargs) -> None:
    _request_id.set("-")


class RefuseNulMiddleware:
    """A NUL character in an API URL (path or query) is a 422 JSON answer, in one place.

    PostgreSQL text cannot hold NUL: a `%00` in a path or query parameter that reaches a query is a
    500 there (and silently works on SQLite). Request bodies are covered by StrictIn."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            location = self._nul_location(request)
            if location is not None:
                from django.http import JsonResponse
                from django.utils.translation import gettext as _

                message = _("Text must not contain NUL characters.")
                errors = [{"loc": location, "msg": message, "type": "nul_character"}]
                return JsonResponse(error_body(message, code="nul_character", errors=errors), status=422)
        return self.get_response(request)

    @staticmethod
    def _nul_location(request) -> list[str] | None:
        if "\x00" in request.path:
            return ["path"]
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return ["query", key.replace("\x00", "")]
        return None


class RequestSizeMiddleware:
    """An API request whose declared body is larger than any answer could accept is a 413 JSON
    answer before a byte of it is read.

    Django already refuses JSON bodies above DATA_UPLOAD_MAX_MEMORY_SIZE when they are read, but a
    multipart file is streamed to a temporary file whatever its size: without this, a 100 MB
    "photo" would be written to disk in full before the photo service refuses it."""

    MULTIPART_OVERHEAD = 1024 * 1024  # the form's other fields and part headers

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            from django.conf import settings

            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.PHOTO_MAX_BYTES + self.MULTIPART_OVERHEAD)
            if length > limit:
                from django.http import JsonResponse
                from django.utils.translation import gettext as _

                return JsonResponse(error_body(_("The request is too large."), code="too_large"), status=413)
        return self.get_response(request)
