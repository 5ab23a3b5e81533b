"""The public pages: report verification (what the report's QR opens) and the owner's objection
form. Arabic by default, English with ?lang=en (or the browser's Accept-Language). Neither page
shows personal data of inspectors or owners."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from backend.exceptions import ApplicationError
from enforcement.public_texts import OUTCOMES, TEXTS
from enforcement.selectors import report_by_code
from enforcement.services.objections import AttachmentIn, notice_find_public, objection_file
from enforcement.services.reports import hijri_text, report_verification
from inspections.domain.names import localized_name

MAX_FILES = 5


def _language(request: HttpRequest) -> str:
    asked = request.GET.get("lang") or request.POST.get("lang")
    if asked in ("ar", "en"):
        return asked
    return "en" if getattr(request, "LANGUAGE_CODE", "ar").startswith("en") else "ar"


def _context(request: HttpRequest, **extra) -> dict:
    language = _language(request)
    return {
        "lang": language,
        "dir": "rtl" if language == "ar" else "ltr",
        "t": TEXTS[language],
        "other_lang": "en" if language == "ar" else "ar",
        **extra,
    }


@require_http_methods(["GET", "HEAD"])
def verify(request: HttpRequest, code: str) -> HttpResponse:
    report = report_by_code(code=code)
    if report is None:
        raise Http404
    language = _language(request)
    visit = report.visit
    establishment = visit.establishment
    checks = report_verification(report=report)
    return render(
        request,
        "enforcement/verify.html",
        _context(
            request,
            report=report,
            establishment_name=localized_name(establishment, language),
            municipality_name=localized_name(visit.municipality, language),
            outcome=OUTCOMES[language].get(visit.outcome, visit.outcome),
            visit_date=timezone.localtime(visit.finished_at),
            visit_hijri=hijri_text(visit.finished_at, language),
            checks=checks,
        ),
    )


@require_http_methods(["GET", "HEAD", "POST"])
def objection(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    if request.method != "POST":
        return render(request, "enforcement/objection.html", context)
    texts = context["t"]
    fields = {
        name: request.POST.get(name, "") for name in ("number", "licence_no", "owner_name", "owner_contact", "reasons")
    }
    context["values"] = fields
    files = request.FILES.getlist("files")
    if any("\x00" in value or len(value) > 4000 for value in fields.values()):
        context["error"] = texts["invalid"]
        return render(request, "enforcement/objection.html", context, status=400)
    if len(files) > MAX_FILES:
        context["error"] = texts["too_many_files"]
        return render(request, "enforcement/objection.html", context, status=400)
    try:
        notice = notice_find_public(number=fields["number"], licence_no=fields["licence_no"])
        filed = objection_file(
            notice=notice,
            owner_name=fields["owner_name"][:200],
            owner_contact=fields["owner_contact"][:200],
            reasons=fields["reasons"],
            attachments=[AttachmentIn(name=f.name or "attachment", content=f.read()) for f in files],
        )
    except ApplicationError as error:
        context["error"] = texts.get(f"error_{error.code}", error.message)
        return render(request, "enforcement/objection.html", context, status=min(error.status, 499))
    return render(request, "enforcement/objection_filed.html", {**context, "objection": filed, "notice": filed.notice})
