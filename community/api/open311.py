"""Open311 GeoReport v2 at /open311/v2/ (its own format, documented in docs/community.md, not in the
OpenAPI schema of /api/v1/).

    GET  services.{json|xml}                the report types
    GET  services/{service_code}.{fmt}      their attributes
    POST requests.{fmt}                     a report (form or multipart; photo in `media`)
    GET  requests.{fmt}                     filters: service_request_id, service_code, start_date,
                                            end_date, status (open|closed)
    GET  requests/{service_request_id}.{fmt}

A service request is a *case* (reports merged together): `service_request_id` is the case id, and
the POST answer says in `service_notice` whether the report opened a case or joined one. Errors are
the spec's list `[{"code": 400, "description": "..."}]` (XML: `<errors><error>`). Views parse,
call one service or selector, and render; no reporter's contact, device or IP is ever rendered.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from backend.client_ip import client_ip
from backend.exceptions import ApplicationError, ThrottledError
from community.models import Report, ServiceType, Volunteer
from community.selectors import cases as case_selectors
from community.services.reports import ReportIn, report_submit
from community.services.throttle import report_rate_check
from inspections.domain.names import localized_name
from inspections.services.auth import token_decode

MAX_RESULTS = 1000
DEFAULT_DAYS = 90
MAX_FIELD = 4000


class Open311Error(Exception):
    def __init__(self, status: int, description: str, headers: dict | None = None):
        super().__init__(description)
        self.status, self.description, self.headers = status, description, headers or {}


# --- rendering ---------------------------------------------------------------------------------------


def _xml(root: str, item: str, rows: list[dict]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(element, key)
            if isinstance(value, list):  # attributes / values
                for entry in value:
                    sub = ET.SubElement(child, "attribute" if key == "attributes" else "value")
                    for k, v in entry.items():
                        if isinstance(v, list):
                            values = ET.SubElement(sub, k)
                            for option in v:
                                option_el = ET.SubElement(values, "value")
                                for ok, ov in option.items():
                                    ET.SubElement(option_el, ok).text = _text(ov)
                        else:
                            ET.SubElement(sub, k).text = _text(v)
            else:
                child.text = _text(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _render(fmt: str, data, *, root: str, item: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        rows = data if isinstance(data, list) else [data]
        return HttpResponse(_xml(root, item, rows), status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _error_response(fmt: str, error: Open311Error) -> HttpResponse:
    response = _render(
        fmt,
        [{"code": error.status, "description": error.description}],
        root="errors",
        item="error",
        status=error.status,
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def open311_view(methods: list[str]):
    """Method check, jurisdiction check and the spec's error format around a view."""

    def decorate(view):
        @csrf_exempt
        @require_http_methods(methods)
        def wrapped(request: HttpRequest, fmt: str, **kwargs):
            try:
                jurisdiction = request.POST.get("jurisdiction_id") or request.GET.get("jurisdiction_id")
                if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION_ID:
                    raise Open311Error(404, _("Unknown jurisdiction_id."))
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return _error_response(fmt, error)
            except ThrottledError as error:
                headers = {"Retry-After": str(error.retry_after)}
                return _error_response(fmt, Open311Error(429, error.message, headers))
            except ApplicationError as error:
                return _error_response(fmt, Open311Error(error.status if error.status != 422 else 400, error.message))

        return wrapped

    return decorate


def _english() -> bool:
    return (get_language() or "ar").startswith("en")


def _service(service_type: ServiceType) -> dict:
    english = _english()
    return {
        "service_code": service_type.code,
        "service_name": localized_name(service_type, "en" if english else "ar"),
        "description": service_type.description_en if english else service_type.description_ar,
        "metadata": bool(service_type.attributes),
        "type": "realtime",
        "keywords": service_type.keywords,
        "group": service_type.group,
    }


def _absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


OUTCOME_TEXT = {
    "compliant": ("No violation was found.", "لم تُرصد مخالفة."),
    "violations": ("Violations were found: %(n)d.", "رُصدت مخالفات: %(n)d."),
    "closed": ("The establishment was closed at the visit.", "كانت المنشأة مغلقة عند الزيارة."),
    "refused_entry": ("Entry was refused to the inspector.", "رُفض دخول المراقب."),
}


def status_notes(case) -> str:
    english = _english()
    if case.state == case_selectors.DISMISSED:
        return (f"Dismissed: {case.dismissed_reason}") if english else f"حُفظ البلاغ: {case.dismissed_reason}"
    if case.state == case_selectors.CLOSED:
        en, ar = OUTCOME_TEXT.get(case.visit_outcome, ("Inspected.", "تم التفتيش."))
        day = timezone.localdate(case.visit_finished_at).isoformat()
        text = (en if english else ar) % {"n": case.visit_violations or 0}
        return f"Inspected on {day}. {text}" if english else f"تم التفتيش في {day}. {text}"
    if case.state == case_selectors.IN_PROGRESS:
        return "Acknowledged; the inspection round is under way." if english else "تم الاستلام؛ جولة التفتيش جارية."
    if case.state == case_selectors.ACKNOWLEDGED:
        day = case.round_stop.round.date.isoformat()
        return (
            f"Acknowledged; an inspection is planned for {day}." if english else f"تم الاستلام؛ التفتيش مقرر في {day}."
        )
    return (
        f"Received from {case.reporters} reporter(s); waiting for review."
        if english
        else f"وصل من {case.reporters} مُبلّغ؛ بانتظار المراجعة."
    )


def _updated(case) -> datetime:
    if case.state == case_selectors.CLOSED:
        return case.visit_received_at
    if case.state == case_selectors.DISMISSED:
        return case.dismissed_at
    return max(filter(None, [case.last_reported_at, case.triaged_at]))


def public_request(request: HttpRequest, case, photo_tokens: dict[int, str]) -> dict:
    """One case in the spec's shape. Only case-level facts: no reporter's contact, device or IP."""
    english = _english()
    establishment = case.establishment
    token = photo_tokens.get(case.pk)
    expected = None
    if case.state in (case_selectors.ACKNOWLEDGED, case_selectors.IN_PROGRESS):
        expected = case.round_stop.round.date.isoformat()
    address = None
    if establishment is not None:
        address = localized_name(establishment, "en" if english else "ar")
    shop_code = getattr(getattr(establishment, "public_code", None), "code", None) if establishment else None
    return {
        "service_request_id": str(case.pk),
        "status": "closed" if case.state in case_selectors.FINISHED_STATES else "open",
        "status_notes": status_notes(case),
        "service_name": localized_name(case.service_type, "en" if english else "ar"),
        "service_code": case.service_type.code,
        "description": case.description,
        "agency_responsible": localized_name(case.municipality, "en" if english else "ar"),
        "service_notice": None,
        "requested_datetime": case.opened_at.isoformat(),
        "updated_datetime": _updated(case).isoformat(),
        "expected_datetime": expected,
        "address": address,
        "address_id": shop_code,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": _absolute(request, reverse("community:open311-media", args=[token])) if token else None,
        # Extensions (allowed by GeoReport v2): how many people reported it, and the detailed state.
        "reporters": case.reporters,
        "jawla_state": case.state,
        "inspection_outcome": case.visit_outcome if case.state == case_selectors.CLOSED else None,
    }


def _photo_tokens(case_ids: list[int]) -> dict[int, str]:
    tokens: dict[int, str] = {}
    for case_id, token in (
        Report.objects.filter(case_id__in=case_ids).exclude(photo="").order_by("submitted_at", "id")
    ).values_list("case_id", "photo_token"):
        tokens.setdefault(case_id, token)
    return tokens


def _cases_out(request: HttpRequest, cases) -> list[dict]:
    cases = list(cases.select_related("municipality", "establishment__public_code"))
    tokens = _photo_tokens([case.pk for case in cases])
    return [public_request(request, case, tokens) for case in cases]


# --- views -------------------------------------------------------------------------------------------


@open311_view(["GET"])
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    services = [_service(s) for s in ServiceType.objects.filter(is_active=True)]
    return _render(fmt, services, root="services", item="service")


@open311_view(["GET"])
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    service_type = ServiceType.objects.filter(code=service_code[:64], is_active=True).first()
    if service_type is None:
        raise Open311Error(404, _("Unknown service_code."))
    body = {"service_code": service_type.code, "attributes": service_type.attributes}
    if fmt == "xml":
        return _render(fmt, body, root="service_definition", item="service_definition")
    return _render(fmt, body, root="service_definition", item="service_definition")


def _float(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, _("%(name)s must be a number.") % {"name": name}) from None
    if not math.isfinite(number):
        raise Open311Error(400, _("%(name)s must be a number.") % {"name": name})
    return number


def _param(request: HttpRequest, name: str, default=None):
    # The spec's own swagger puts POST parameters in the query string, most clients send a form body:
    # both are read, the body first.
    return request.POST.get(name, request.GET.get(name, default))


def _field(request: HttpRequest, name: str, limit: int = 200) -> str:
    value = _param(request, name, "")
    if len(value) > limit:
        raise Open311Error(400, _("%(name)s is too long.") % {"name": name})
    return value.strip()


def _volunteer(request: HttpRequest) -> Volunteer | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _sep, token = header.partition(" ")
    user_id = token_decode(token=token.strip(), expected_type="access") if scheme.lower() == "bearer" else None
    if user_id is None:
        raise Open311Error(401, _("The access token is invalid or expired."))
    volunteer = Volunteer.objects.filter(user_id=user_id, is_active=True, user__is_active=True).first()
    if volunteer is None:
        raise Open311Error(403, _("Only registered volunteers report with an account."))
    return volunteer


@open311_view(["GET", "POST"])
def requests_collection(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _request_create(request, fmt)
    return _requests_list(request, fmt)


def _request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    ip = client_ip(request)
    device_id = _field(request, "device_id", 100)
    report_rate_check(device_id=device_id, ip=ip)
    if settings.OPEN311_API_KEYS and _param(request, "api_key") not in settings.OPEN311_API_KEYS:
        raise Open311Error(403, _("Invalid api_key."))
    service_code = _field(request, "service_code", 64)
    if not service_code:
        raise Open311Error(400, _("service_code is required."))
    attributes = {
        key[len("attribute[") : -1]: value
        for source in (request.GET, request.POST)
        for key, value in source.items()
        if key.startswith("attribute[") and key.endswith("]")
    }
    payload = ReportIn(
        service_code=service_code,
        description=_field(request, "description", MAX_FIELD),
        ip=ip,
        lat=_float(_param(request, "lat"), "lat"),
        lon=_float(_param(request, "long"), "long"),
        shop_code=_field(request, "address_id", 16) or None,
        photo=request.FILES.get("media"),
        media_url=_field(request, "media_url", 500),
        email=_field(request, "email", 254),
        phone=_field(request, "phone", 32),
        first_name=_field(request, "first_name", 100),
        last_name=_field(request, "last_name", 100),
        device_id=device_id,
        attributes={key[:64]: value[:500] for key, value in attributes.items()},
        volunteer=_volunteer(request),
    )
    submitted = report_submit(payload=payload)
    english = _english()
    if submitted.joined:
        notice = (
            f"Your report joined case {submitted.case.pk}, now reported by {submitted.reporters} people."
            if english
            else f"انضم بلاغك إلى البلاغ رقم {submitted.case.pk}، وقد أبلغ عنه {submitted.reporters} أشخاص."
        )
    else:
        notice = f"Your report opened case {submitted.case.pk}." if english else f"فُتح بلاغك برقم {submitted.case.pk}."
    body = [
        {
            "service_request_id": str(submitted.case.pk),
            "service_notice": notice,
            "account_id": str(submitted.report.volunteer_id) if submitted.report.volunteer_id else None,
            "joined_existing": submitted.joined,
            "reporters": submitted.reporters,
        }
    ]
    return _render(fmt, body, root="service_requests", item="request")  # the spec answers 200


def _datetime(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, _("%(name)s must be a W3C date-time.") % {"name": name}) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _requests_list(request: HttpRequest, fmt: str) -> HttpResponse:
    cases = case_selectors.public_cases()
    ids = request.GET.get("service_request_id", "")
    if ids:
        wanted = [part.strip() for part in ids.split(",") if part.strip()]
        if len(wanted) > MAX_RESULTS or not all(part.isdigit() and len(part) < 19 for part in wanted):
            raise Open311Error(400, _("service_request_id must be a comma-separated list of ids."))
        cases = cases.filter(pk__in=[int(part) for part in wanted])
    else:
        codes = [part.strip() for part in request.GET.get("service_code", "").split(",") if part.strip()]
        if codes:
            cases = cases.filter(service_type__code__in=codes[:50])
        start = _datetime(request.GET.get("start_date"), "start_date")
        end = _datetime(request.GET.get("end_date"), "end_date")
        if start and end and end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        if start is None and end is None:
            start = timezone.now() - timedelta(days=DEFAULT_DAYS)
        if start:
            cases = cases.filter(opened_at__gte=start)
        if end:
            cases = cases.filter(opened_at__lte=end)
        statuses = {part.strip() for part in request.GET.get("status", "").split(",") if part.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, _("status must be open or closed."))
        if statuses == {"open"}:
            cases = cases.exclude(state__in=case_selectors.FINISHED_STATES)
        elif statuses == {"closed"}:
            cases = cases.filter(state__in=case_selectors.FINISHED_STATES)
    rows = _cases_out(request, cases.order_by("-opened_at", "-id")[:MAX_RESULTS])
    return _render(fmt, rows, root="service_requests", item="request")


@open311_view(["GET"])
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    if not service_request_id.isdigit() or len(service_request_id) > 18:
        raise Open311Error(404, _("Unknown service_request_id."))
    cases = case_selectors.public_cases().filter(pk=int(service_request_id))
    rows = _cases_out(request, cases)
    if not rows:
        raise Open311Error(404, _("Unknown service_request_id."))
    return _render(fmt, rows, root="service_requests", item="request")


@require_http_methods(["GET"])
def request_media(request: HttpRequest, token: str) -> FileResponse:
    """A report's photo as re-encoded on upload (no EXIF: no GPS or device of the reporter)."""
    report = Report.objects.filter(photo_token=token[:32]).exclude(photo="").first()
    if report is None or not default_storage.exists(report.photo.name):
        raise Http404
    return FileResponse(default_storage.open(report.photo.name, "rb"), content_type="image/jpeg")
