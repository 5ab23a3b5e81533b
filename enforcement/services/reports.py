"""The signed visit report: an Arabic A4 PDF (fpdf2, shaped with HarfBuzz) with Hijri and Gregorian
dates, the municipality's letterhead, the GPS fix and its verification, the answers, the photos, the
penalty notices and their total, the owner's acknowledgement and a QR code (segno) that opens the
public verification page; then signed as a PAdES signature with pyHanko, so a PDF reader shows
whether it was altered. The verification page re-checks the stored PDF's hash and signature and
the visit's evidence hash (services.evidence.visit_evidence_status).
"""

import hashlib
import io
import logging
import secrets
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hijridate import Gregorian

from backend.pdf import arabic_pdf
from enforcement.models import Acknowledgement, EvidenceRecord, Letterhead, PenaltyNotice, VisitReport
from enforcement.services.evidence import visit_evidence_status
from enforcement.services.keys import report_signing_files
from inspections.models import Visit
from inspections.services.audit import audit_record

logger = logging.getLogger(__name__)

HIJRI_MONTHS_AR = (
    "محرم",
    "صفر",
    "ربيع الأول",
    "ربيع الآخر",
    "جمادى الأولى",
    "جمادى الآخرة",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذو القعدة",
    "ذو الحجة",
)
OUTCOME_AR = {"compliant": "ممتثل", "violations": "مخالفات", "closed": "مغلق", "refused_entry": "رفض الدخول"}
GEO_AR = {"verified": "موثق", "out_of_range": "خارج النطاق", "low_accuracy": "دقة منخفضة", "no_fix": "بلا موقع"}
NOTICE_STATUS_AR = {
    "issued": "صادر",
    "objected": "قيد الاعتراض",
    "upheld": "مؤيد بعد الاعتراض",
    "reduced": "مخفض بعد الاعتراض",
    "cancelled": "ملغى بعد الاعتراض",
}


HIJRI_MONTHS_EN = (
    "Muharram",
    "Safar",
    "Rabi al-Awwal",
    "Rabi al-Akhir",
    "Jumada al-Ula",
    "Jumada al-Akhirah",
    "Rajab",
    "Shaban",
    "Ramadan",
    "Shawwal",
    "Dhu al-Qadah",
    "Dhu al-Hijjah",
)


def hijri_text(moment: datetime, language: str = "ar") -> str:
    """The Umm al-Qura date of `moment` in Asia/Riyadh, e.g. "20 جمادى الآخرة 1448 هـ"."""
    local = timezone.localtime(moment).date()
    hijri = Gregorian(local.year, local.month, local.day).to_hijri()
    if language == "en":
        return f"{hijri.day} {HIJRI_MONTHS_EN[hijri.month - 1]} {hijri.year} AH"
    return f"{hijri.day} {HIJRI_MONTHS_AR[hijri.month - 1]} {hijri.year} هـ"


def verification_url(report: VisitReport) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("enforcement:verify", kwargs={"code": report.code})


def _sar(amount: Decimal) -> str:
    return f"{amount:,.2f} ريال"


def _render(*, visit: Visit, report: VisitReport, notices: list[PenaltyNotice], url: str) -> bytes:
    import segno
    from fpdf.enums import XPos, YPos

    establishment = visit.establishment
    municipality = visit.municipality
    letterhead = Letterhead.objects.filter(municipality=municipality).first()
    finished = timezone.localtime(visit.finished_at)

    pdf = arabic_pdf(title=f"Jawla visit report {report.number}")
    pdf.set_subject(f"Visit {visit.pk} / report {report.number}")
    pdf.set_keywords(f"report:{report.number} verify:{url}")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    width = pdf.epw
    colour = tuple(int((letterhead.colour if letterhead else "0f4c5c")[i : i + 2], 16) for i in (0, 2, 4))

    def line(text: str, *, size: int = 10, bold: bool = False, height: float = 6, rgb=(30, 41, 59), align="R"):
        pdf.set_font("Plex", "B" if bold else "", size)
        pdf.set_text_color(*rgb)
        pdf.multi_cell(width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Letterhead band
    pdf.set_fill_color(*colour)
    pdf.rect(0, 0, pdf.w, 30, style="F")
    pdf.set_y(6)
    line(letterhead.title_ar if letterhead else "أمانة المنطقة الشرقية", size=15, bold=True, rgb=(255, 255, 255))
    line(
        letterhead.subtitle_ar if letterhead and letterhead.subtitle_ar else f"بلدية {municipality.name_ar}",
        size=11,
        rgb=(255, 255, 255),
    )
    pdf.set_y(36)
    line(f"تقرير زيارة رقابية موقّع رقم {report.number}", size=14, bold=True, rgb=colour)

    # QR to the verification page, top left
    qr_png = io.BytesIO()
    segno.make(url, error="m").save(qr_png, kind="png", scale=6, border=2)
    qr_png.seek(0)
    qr_y = pdf.get_y()
    pdf.image(qr_png, x=pdf.l_margin, y=qr_y, w=34, h=34)
    pdf.set_font("Plex", "", 7)
    pdf.set_text_color(100, 116, 139)
    pdf.set_xy(pdf.l_margin, qr_y + 34)
    pdf.cell(34, 4, "امسح للتحقق", align="C")

    if visit.lat is not None:
        fix = f"{visit.lat:.6f}°، {visit.lon:.6f}° (دقة ±{visit.accuracy_m or 0:.0f} م)"
    else:
        fix = "لا يوجد"
    distance = f"{visit.geo_distance_m:.0f} م من المنشأة" if visit.geo_distance_m is not None else "—"
    fields = [
        ("المنشأة", establishment.name_ar),
        ("رقم الترخيص", establishment.licence_no),
        ("البلدية", municipality.name_ar),
        ("التاريخ الهجري", hijri_text(visit.finished_at)),
        ("التاريخ الميلادي", f"{finished:%Y/%m/%d} — الساعة {finished:%H:%M}"),
        ("وقت الاستلام في الخادم", f"{timezone.localtime(visit.received_at):%Y/%m/%d %H:%M}"),
        ("الموقع (GPS)", fix),
        ("التحقق من الموقع", f"{GEO_AR.get(visit.geo_status, visit.geo_status)} — {distance}"),
        ("النتيجة", OUTCOME_AR.get(visit.outcome, visit.outcome)),
        ("عدد المخالفات", f"{visit.violation_count} مخالفة"),
    ]
    label_width, value_width = 42, width - 42 - 38
    pdf.set_y(qr_y)
    pdf.set_draw_color(226, 232, 240)
    for index, (label, value) in enumerate(fields):
        pdf.set_fill_color(*((241, 245, 249) if index % 2 == 0 else (255, 255, 255)))
        y = pdf.get_y()
        pdf.set_font("Plex", "B", 9)
        pdf.set_text_color(71, 85, 105)
        pdf.set_xy(pdf.l_margin + width - label_width, y)
        pdf.cell(label_width, 7, label, align="R", fill=True, border="B")
        pdf.set_font("Plex", "", 9)
        pdf.set_text_color(15, 23, 42)
        pdf.set_xy(pdf.l_margin + width - label_width - value_width, y)
        pdf.cell(value_width, 7, f"\u200f{value}", align="R", fill=True, border="B")
        pdf.set_y(y + 7)
    pdf.set_y(max(pdf.get_y(), qr_y + 40) + 3)

    line("بنود قائمة الفحص", size=12, bold=True, rgb=colour)
    for answer in visit.answers.all():
        verdict = "مخالف" if answer.failed else "مستوفى"
        value = {"yes": "نعم", "no": "لا", "na": "لا ينطبق"}.get(answer.value, answer.value)
        unit = f" {answer.item.unit}" if answer.item.unit and not isinstance(answer.value, str) else ""
        line(
            f"{verdict}: {answer.item.text_ar} — الإجابة: {value}{unit}",
            size=9,
            rgb=(185, 28, 28) if answer.failed else (21, 128, 61),
            height=5.5,
        )

    pdf.ln(2)
    line("إشعارات المخالفات", size=12, bold=True, rgb=colour)
    if not notices:
        line("لا توجد إشعارات مخالفات لهذه الزيارة حتى تاريخه.", size=9)
    total = Decimal("0.00")
    for notice in notices:
        total += notice.amount_sar
        factors = notice.factors
        line(
            f"الإشعار {notice.number} — {notice.violation.text_ar} — السند النظامي: {notice.legal_basis}",
            size=9,
            bold=True,
            height=5.5,
        )
        line(
            f"المبلغ {_sar(notice.amount_sar)} = {_sar(notice.base_sar)} × فئة البلدية"
            f" {factors.get('municipality_class')} ({notice.class_factor}) × حجم المنشأة ({notice.size_factor})"
            f" × التكرار ({notice.repeat_factor})" + (" — بلغ الحد الأعلى" if notice.capped else ""),
            size=9,
            height=5.5,
        )
        line(
            f"الحالة: {NOTICE_STATUS_AR.get(notice.status, notice.status)} — تاريخ الاستحقاق"
            f" {notice.due_date:%Y/%m/%d} — آخر موعد للاعتراض {notice.objection_deadline:%Y/%m/%d}",
            size=8,
            rgb=(71, 85, 105),
            height=5,
        )
        if notice.closure_days or notice.licence_suspension_days:
            line(
                f"إجراءات: إغلاق {notice.closure_days} يوم، إيقاف الترخيص {notice.licence_suspension_days} يوم",
                size=8,
                height=5,
            )
    line(f"إجمالي الغرامات: {_sar(total)}", size=11, bold=True, height=7)

    pdf.ln(2)
    line("إقرار صاحب المنشأة", size=12, bold=True, rgb=colour)
    ack = Acknowledgement.objects.filter(visit=visit).first()
    if ack is None:
        line("لم يُسجل إقرار.", size=9)
    elif ack.kind == Acknowledgement.Kind.REFUSED:
        line(f"رفض التوقيع — {timezone.localtime(ack.captured_at):%Y/%m/%d %H:%M}", size=9)
    else:
        line(f"وقّع: {ack.signer_name} — {timezone.localtime(ack.captured_at):%Y/%m/%d %H:%M}", size=9)
        try:
            with default_storage.open(ack.signature.name, "rb") as handle:
                signature = io.BytesIO(handle.read())
            pdf.image(signature, x=pdf.l_margin + width - 60, w=60, h=22, keep_aspect_ratio=True)
        except (OSError, ValueError):
            line("(تعذر قراءة صورة التوقيع)", size=8)
        line(f"بصمة التوقيع SHA-256: {ack.signature_sha256[:32]}…", size=7, rgb=(100, 116, 139), align="L")

    photos = list(visit.photos.all()[:6])
    if photos:
        pdf.ln(2)
        line("الصور", size=12, bold=True, rgb=colour)
        x, y = pdf.l_margin, pdf.get_y()
        if y + 45 > pdf.h - pdf.b_margin:
            pdf.add_page()
            y = pdf.get_y()
        for index, photo in enumerate(photos):
            name = photo.thumbnail.name or photo.file.name
            try:
                with default_storage.open(name, "rb") as handle:
                    pdf.image(
                        io.BytesIO(handle.read()), x=x + (index % 4) * 46, y=y, w=44, h=33, keep_aspect_ratio=True
                    )
            except (OSError, ValueError):
                logger.warning("photo %s unreadable for report %s", photo.pk, report.number)
            if index % 4 == 3:
                y += 36
        pdf.set_y(y + 36)

    pdf.ln(2)
    line("بصمة السجل (SHA-256) ورابط التحقق:", size=7, rgb=(100, 116, 139))
    # Latin-only lines without the Arabic shaper (it would reorder the "fi" ligature of "verify").
    pdf.set_text_shaping(False)
    line(report.visit_content_hash or "-", size=7, rgb=(100, 116, 139), align="L", height=4)
    line(url, size=7, rgb=(100, 116, 139), align="L", height=4)
    pdf.set_text_shaping(use_shaping_engine=True, script="arab", language="ara")
    generated = timezone.localtime(report.generated_at)
    line(
        f"أُنشئ في {hijri_text(report.generated_at)} — {generated:%Y/%m/%d %H:%M} — موقّع رقمياً (PAdES)",
        size=7,
        rgb=(100, 116, 139),
    )
    return bytes(pdf.output())


def pdf_sign(pdf: bytes, *, reason: str) -> bytes:
    """Sign `pdf` as PAdES (pyHanko) with the report-signing key and certificate."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    key_file, cert_file = report_signing_files()
    signer = signers.SimpleSigner.load(str(key_file), str(cert_file), key_passphrase=None)
    meta = signers.PdfSignatureMetadata(
        field_name="JawlaReportSignature",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location="Eastern Province, Saudi Arabia",
        md_algorithm="sha256",
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return out.getvalue()


def pdf_signature_status(pdf: bytes) -> dict:
    """{"signed", "intact", "valid"}: does the PDF carry a signature whose bytes are untouched and whose
    certificate is the one this server signs with?"""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
        if not signatures:
            return {"signed": False, "intact": False, "valid": False}
        _key, cert_file = report_signing_files()
        context = ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_file))])
        status = validate_pdf_signature(signatures[0], context)
        return {"signed": True, "intact": bool(status.intact), "valid": bool(status.intact and status.valid)}
    except Exception:  # noqa: BLE001 - any parse failure of a tampered file means "does not verify"
        logger.info("report signature check failed", exc_info=True)
        return {"signed": False, "intact": False, "valid": False}


@transaction.atomic
def visit_report_create(*, user, visit: Visit) -> VisitReport:
    """Render, sign and store a new report of `visit` (fetched through the caller's scope)."""
    visit = (
        Visit.objects.select_related("establishment", "municipality", "inspector")
        .prefetch_related("answers__item", "photos")
        .get(pk=visit.pk)
    )
    notices = list(PenaltyNotice.objects.filter(visit=visit).select_related("violation").order_by("number"))
    record = EvidenceRecord.objects.filter(kind=EvidenceRecord.Kind.VISIT, object_id=visit.pk).first()
    now = timezone.now()
    sequence = VisitReport.objects.filter(generated_at__year=timezone.localdate(now).year).count() + 1
    report = VisitReport(
        number=f"JR-{timezone.localdate(now).year}-{visit.pk:07d}-{sequence:04d}",
        code=secrets.token_urlsafe(12),
        visit=visit,
        visit_content_hash=record.content_hash if record else "",
        total_fines_sar=sum((notice.amount_sar for notice in notices), Decimal("0.00")),
        generated_at=now,
        generated_by=user,
    )
    url = verification_url(report)
    signed = pdf_sign(
        _render(visit=visit, report=report, notices=notices, url=url), reason=f"Jawla report {report.number}"
    )
    report.pdf_sha256 = hashlib.sha256(signed).hexdigest()
    report.pdf.save(f"{report.number}.pdf", ContentFile(signed), save=False)
    report.save()
    audit_record(
        actor=user,
        action="visit.report_signed",
        target=visit,
        municipality_id=visit.municipality_id,
        details={"report": report.number, "pdf_sha256": report.pdf_sha256},
    )
    return report


def report_verification(*, report: VisitReport) -> dict:
    """What the public page shows: the stored PDF matches its hash and signature, the visit its evidence."""
    try:
        with default_storage.open(report.pdf.name, "rb") as handle:
            pdf = handle.read()
    except OSError:
        pdf = b""
    signature = pdf_signature_status(pdf) if pdf else {"signed": False, "intact": False, "valid": False}
    evidence = visit_evidence_status(visit=report.visit)
    pdf_matches = bool(pdf) and hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    record_matches = evidence["content_matches"] and (
        not report.visit_content_hash or report.visit_content_hash == evidence["content_hash"]
    )
    return {
        "pdf_matches": pdf_matches,
        "signature_valid": signature["valid"],
        "record_sealed": evidence["sealed"],
        "record_matches": record_matches,
        "chain_signed": evidence["signed"],
        "all_ok": pdf_matches and signature["valid"] and evidence["sealed"] and record_matches,
    }
