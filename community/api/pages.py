"""The public page a shop's QR opens: licence status, the last inspection (Hijri and Gregorian date,
result) and a "report a problem" form pre-filled with the shop. Arabic by default, `?lang=en` for English."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from backend.client_ip import client_ip
from backend.exceptions import ApplicationError, ThrottledError
from community.models import ServiceType
from community.selectors.shops import shop_public
from community.services.reports import ReportIn, report_submit
from community.services.throttle import report_rate_check
from inspections.domain.calendar import hijri_label
from inspections.domain.names import localized_name

TEXTS = {
    "ar": {
        "title": "بطاقة المنشأة",
        "licence": "حالة الترخيص",
        "licence_no": "رقم الترخيص",
        "category": "النشاط",
        "municipality": "البلدية",
        "last": "آخر تفتيش",
        "result": "النتيجة",
        "never": "لم تُفتّش بعد",
        "report": "بلّغ عن مشكلة",
        "type": "نوع المشكلة",
        "description": "الوصف",
        "photo": "صورة (اختياري)",
        "contact": "بريدك أو جوالك (اختياري، لا يُنشر)",
        "send": "إرسال البلاغ",
        "switch": "English",
        "thanks": "شكرًا لك. رقم البلاغ",
        "status": {"active": "سارٍ", "suspended": "موقوف", "closed": "ملغى"},
        "outcome": {
            "compliant": "ممتثلة — لا مخالفات",
            "violations": "رُصدت مخالفات",
            "closed": "مغلقة وقت الزيارة",
            "refused_entry": "رُفض الدخول",
        },
    },
    "en": {
        "title": "Shop card",
        "licence": "Licence status",
        "licence_no": "Licence number",
        "category": "Activity",
        "municipality": "Municipality",
        "last": "Last inspection",
        "result": "Result",
        "never": "Not inspected yet",
        "report": "Report a problem",
        "type": "Kind of problem",
        "description": "Description",
        "photo": "Photo (optional)",
        "contact": "Your e-mail or phone (optional, never published)",
        "send": "Send the report",
        "switch": "العربية",
        "thanks": "Thank you. Report number",
        "status": {"active": "Valid", "suspended": "Suspended", "closed": "Cancelled"},
        "outcome": {
            "compliant": "Compliant — no violations",
            "violations": "Violations found",
            "closed": "Closed at the visit",
            "refused_entry": "Entry refused",
        },
    },
}


@require_http_methods(["GET", "POST"])
def shop_page(request: HttpRequest, code: str) -> HttpResponse:
    language = "en" if request.GET.get("lang") == "en" else "ar"
    with translation.override(language):
        shop = shop_public(code=code)
        if shop is None:
            raise Http404
        texts = TEXTS[language]
        establishment = shop.establishment
        context = {
            "language": language,
            "t": texts,
            "code": shop.code,
            "name": localized_name(establishment, language),
            "licence_no": establishment.licence_no,
            "licence_status": texts["status"].get(establishment.status, establishment.status),
            "licence_ok": establishment.status == "active",
            "category": localized_name(establishment.category, language),
            "municipality": localized_name(establishment.municipality, language),
            "services": [(s.code, localized_name(s, language)) for s in ServiceType.objects.filter(is_active=True)],
            "error": None,
            "case_id": None,
        }
        visit = shop.last_visit
        if visit is not None:
            day = timezone.localdate(visit.finished_at)
            context["last_gregorian"] = day.strftime("%Y-%m-%d")
            context["last_hijri"] = hijri_label(day, language=language)
            context["last_result"] = texts["outcome"].get(visit.outcome, visit.outcome)
            context["last_ok"] = visit.outcome == "compliant"
        status = 200
        if request.method == "POST":
            contact = request.POST.get("contact", "").strip()[:254]
            try:
                report_rate_check(device_id="", ip=client_ip(request))
                submitted = report_submit(
                    payload=ReportIn(
                        service_code=request.POST.get("service_code", "")[:64],
                        description=request.POST.get("description", "")[:4001],
                        ip=client_ip(request),
                        shop_code=shop.code,
                        photo=request.FILES.get("media"),
                        email=contact if "@" in contact else "",
                        phone="" if "@" in contact else contact[:32],
                    )
                )
                context["case_id"] = submitted.case.pk
            except ThrottledError as error:
                context["error"], status = error.message, 429
            except ApplicationError as error:
                context["error"], status = error.message, error.status
        response = render(request, "community/shop.html", context, status=status)
        if status == 429:
            response["Retry-After"] = "60"
        return response
