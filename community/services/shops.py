"""The public code on every shop front and its printable Arabic sticker (PDF with a QR code)."""

from __future__ import annotations

import io

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from backend.pdf import arabic_pdf
from community.models import ShopCode
from inspections.models import Establishment


def shop_code_ensure(*, establishment: Establishment) -> ShopCode:
    """The establishment's stable code; created once (migration 0002 gave every existing shop one)."""
    existing = ShopCode.objects.filter(establishment=establishment).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ShopCode.objects.create(establishment=establishment)
    except IntegrityError:  # created meanwhile by a concurrent request
        return ShopCode.objects.get(establishment=establishment)


def shop_public_url(code: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("community:shop", args=[code])


def shop_sticker_pdf(*, establishment: Establishment) -> bytes:
    """An A6 sticker in Arabic: the shop's name and licence, a QR to its public page, and the code."""
    import segno  # here, as fpdf: only the sticker needs it
    from fpdf.enums import XPos, YPos

    code = shop_code_ensure(establishment=establishment).code
    url = shop_public_url(code)
    qr_png = io.BytesIO()
    segno.make(url, error="m").save(qr_png, kind="png", scale=10, border=4)
    qr_png.seek(0)

    pdf = arabic_pdf(title=f"Jawla shop sticker {code}", page_format=(105, 148))  # A6 in mm
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: int, bold: bool = False, height: float = 7, colour=(15, 23, 42)) -> None:
        pdf.set_font("Plex", "B" if bold else "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(width, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_fill_color(15, 76, 92)
    pdf.rect(0, 0, pdf.w, 20, style="F")
    pdf.set_y(5)
    line("امسح الرمز لمعرفة حالة المنشأة", size=13, bold=True, colour=(255, 255, 255))
    pdf.set_y(24)
    line(establishment.name_ar, size=14, bold=True)
    line(f"رقم الترخيص: {establishment.licence_no}", size=9, height=5, colour=(71, 85, 105))
    side = 62
    pdf.image(qr_png, x=(pdf.w - side) / 2, y=pdf.get_y() + 2, w=side, h=side)
    pdf.set_y(pdf.get_y() + side + 4)
    line("آخر تفتيش وحالة الترخيص — وبلّغ عن مشكلة", size=10)
    line(f"الرمز: {code}", size=11, bold=True, colour=(15, 76, 92))
    return bytes(pdf.output())
