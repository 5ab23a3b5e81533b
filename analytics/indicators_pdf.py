"""The monthly indicators report: an Arabic A4 PDF (right to left) of every indicator for one
Gregorian or Umm al-Qura month, per group, with its interval, target (and the scope that target was
set on: the municipality, its Amanah, or national) and traffic light written out
(the light is a word and a mark, not a colour alone), and the written definitions.

The letterhead is the municipality's (or its Amanah's) from enforcement's configurable Letterhead when
that app is installed and one is set; otherwise the Amanah's name on the product's band colour.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone, translation

from analytics import indicators
from backend.pdf import FONT_FAMILY, arabic_pdf
from enforcement.models import Letterhead
from inspections.domain.calendar import hijri_label, hijri_month_name
from inspections.models import Municipality

GREGORIAN_MONTHS_AR = (
    "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
    "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر",
)  # fmt: skip
LIGHT_AR = {"green": "يحقق الهدف", "amber": "قريب من الهدف", "red": "دون الهدف", None: "لا هدف محدد"}
LIGHT_MARK = {"green": "✓", "amber": "!", "red": "×", None: "–"}  # glyphs the font has
LIGHT_RGB = {"green": (21, 128, 61), "amber": (180, 83, 9), "red": (185, 28, 28), None: (100, 116, 139)}
BRAND = "0f4c5c"


def period_title(period: indicators.Period) -> tuple[str, str]:
    """(the month as its calendar names it, the other calendar's span), in Arabic."""
    first, last = period.first, period.last
    if period.calendar == "hijri":
        year, month = (int(part) for part in period.key.split("-"))
        title = f"{hijri_month_name(year, month, language='ar')} {year} هـ"
        return title, f"{first:%Y/%m/%d} – {last:%Y/%m/%d} م"
    title = f"{GREGORIAN_MONTHS_AR[first.month - 1]} {first.year} م"
    first_hijri, last_hijri = hijri_label(first, language="ar"), hijri_label(last, language="ar")
    return title, (f"{first_hijri} – {last_hijri}" if first_hijri and last_hijri else "")


def format_value(indicator: indicators.Indicator, value: float | None) -> str:
    """Latin digits and a percent sign, as every other surface of the product writes them."""
    if value is None:
        return "—"
    if indicator.proportion:
        return f"{value * 100:.1f}%"
    if indicator.code == "median_days_to_closure":
        return f"{value:.1f} يوم"
    if indicator.code == "penalties_issued":
        return f"{value:.0f}"
    if indicator.code == "penalties_amount_sar":
        return f"{value:,.2f} ر.س"
    return f"{value:.2f}"


def _letterhead(chosen: Municipality | None) -> tuple[str, str, tuple[int, int, int]]:
    """(title, subtitle, band colour) from the configured letterhead, else the Amanah's name."""
    amanah = None
    if chosen is not None:
        amanah = chosen if chosen.parent_id is None else Municipality.objects.defer("boundary").get(pk=chosen.parent_id)
    else:
        amanah = Municipality.objects.defer("boundary").filter(kind=Municipality.Kind.AMANAH).order_by("pk").first()
    letterhead = None
    if (chosen or amanah) is not None:
        letterhead = Letterhead.objects.filter(municipality=chosen).first() if chosen is not None else None
        letterhead = letterhead or Letterhead.objects.filter(municipality=amanah).first()
    title = letterhead.title_ar if letterhead else (amanah.name_ar if amanah else "جولة")
    if chosen is not None and chosen.parent_id is not None:
        subtitle = letterhead.subtitle_ar if letterhead and letterhead.subtitle_ar else f"بلدية {chosen.name_ar}"
    else:
        subtitle = "جميع البلديات في النطاق"
    colour = letterhead.colour if letterhead else BRAND
    return title, subtitle, tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def indicators_pdf(*, period: indicators.Period, rows: list[dict], chosen: Municipality | None) -> bytes:
    from fpdf.enums import XPos, YPos

    with translation.override("ar"):
        names = {indicator.code: str(indicator.name) for indicator in indicators.INDICATORS}
        definitions = [(str(indicator.name), str(indicator.definition)) for indicator in indicators.INDICATORS]
    title, span = period_title(period)
    head_title, head_subtitle, colour = _letterhead(chosen)

    pdf = arabic_pdf(title=f"Jawla indicators {period.calendar} {period.key}")
    pdf.set_subject(f"{period.calendar}:{period.key} {period.first.isoformat()}..{period.last.isoformat()}")
    pdf.set_keywords(f"{period.calendar}:{period.key}")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: float = 10, bold: bool = False, height: float = 6, rgb=(30, 41, 59), align="R"):
        pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
        pdf.set_text_color(*rgb)
        pdf.multi_cell(width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_fill_color(*colour)
    pdf.rect(0, 0, pdf.w, 30, style="F")
    pdf.set_y(6)
    line(head_title, size=15, bold=True, rgb=(255, 255, 255))
    line(head_subtitle, size=11, rgb=(255, 255, 255))
    pdf.set_y(36)
    line("مؤشرات الأداء المؤسسي", size=16, bold=True, rgb=colour)
    line(f"الشهر: {title}", size=12, bold=True, height=7)
    if span:
        line(span, size=10, rgb=(71, 85, 105))
    line(f"أيام العمل في الشهر (الأحد إلى الخميس): {period.working_days}", size=9, rgb=(100, 116, 139))
    pdf.ln(2)

    # Columns from the right edge: indicator, value, interval, n/d, target, where the target was set, light.
    columns = (
        ("المؤشر", 52), ("القيمة", 20), ("فترة الثقة 95%", 29), ("البسط / المقام", 21), ("الهدف", 17),
        ("مصدر الهدف", 28),
    )  # fmt: skip
    light_width = width - sum(w for _label, w in columns)

    def fitted(text: str, column_width: float, *, bold: bool, size: float = 8.5) -> None:
        """Set the font, smaller (down to 6 pt) when the text would not fit its cell (a long name)."""
        pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
        while size > 6 and pdf.get_string_width(text) > column_width - 1.5:
            size -= 0.5
            pdf.set_font(FONT_FAMILY, "B" if bold else "", size)

    def cells(values: list[str], *, bold: bool, fill: tuple[int, int, int], light: str | None = None, header=False):
        if pdf.get_y() > pdf.h - 30:
            pdf.add_page()
        y = pdf.get_y()
        x = pdf.l_margin + width
        pdf.set_fill_color(*fill)
        pdf.set_draw_color(226, 232, 240)
        for (label, column_width), text in zip(columns, values, strict=True):
            x -= column_width
            pdf.set_xy(x, y)
            fitted(text, column_width, bold=bold)
            pdf.set_text_color(15, 23, 42)
            align = "R" if label == "المؤشر" else "C"
            pdf.cell(column_width, 8, f"\u200f{text}" if align == "R" else text, align=align, fill=True, border="B")
        x -= light_width
        pdf.set_xy(x, y)
        if header:
            pdf.set_text_color(15, 23, 42)
            pdf.cell(light_width, 8, "الحالة", align="C", fill=True, border="B")
        else:
            pdf.set_text_color(*LIGHT_RGB[light])
            fitted(f"{LIGHT_AR[light]} {LIGHT_MARK[light]}", light_width, bold=True)
            pdf.cell(light_width, 8, f"{LIGHT_AR[light]} {LIGHT_MARK[light]}", align="C", fill=True, border="B")
        pdf.set_y(y + 8)

    for row in rows:
        if pdf.get_y() > pdf.h - 80:
            pdf.add_page()
        pdf.ln(2)
        line(row["label"], size=12, bold=True, height=7, rgb=colour)
        cells([label for label, _w in columns], bold=True, fill=(226, 232, 240), header=True)
        for index, indicator in enumerate(indicators.INDICATORS):
            figure = row["indicators"][indicator.code]
            interval = (
                f"{format_value(indicator, figure['ci_low'])} – {format_value(indicator, figure['ci_high'])}"
                if figure["ci_low"] is not None
                else "—"
            )
            ratio = f"{figure['numerator']} / {figure['denominator']}" if figure["numerator"] is not None else "—"
            target = format_value(indicator, figure["target"]) if figure["target"] is not None else "—"
            origin = figure["target_scope_label"] or "—"
            cells(
                [names[indicator.code], format_value(indicator, figure["value"]), interval, ratio, target, origin],
                bold=False,
                fill=(248, 250, 252) if index % 2 == 0 else (255, 255, 255),
                light=figure["light"],
            )
    if not rows:
        line("لا توجد بلديات في هذا النطاق.", size=11)

    pdf.ln(4)
    line("التعريفات", size=12, bold=True, height=7, rgb=colour)
    for name, definition in definitions:
        line(f"{name}: {definition}", size=8.5, height=5, rgb=(51, 65, 85))
    pdf.ln(2)
    now = timezone.localtime()
    today: date = now.date()
    issued = hijri_label(today, language="ar")
    line(
        f"صدر في {today:%Y/%m/%d} م" + (f" ({issued})" if issued else "") + f" الساعة {now:%H:%M} — جولة",
        size=8,
        rgb=(100, 116, 139),
    )
    line(
        "الفترات: فترة ويلسون بثقة 95% للنسب. ✓ يحقق الهدف، ! قريب من الهدف (ضمن الهامش)، × دون الهدف.",
        size=8,
        rgb=(100, 116, 139),
    )
    line(
        "مصدر الهدف: النطاق الذي حُدد عليه الهدف (البلدية نفسها، أو أمانتها إن لم يكن لها هدف خاص)، "
        "أو «وطني» للهدف الوطني الافتراضي.",
        size=8,
        rgb=(100, 116, 139),
    )
    return bytes(pdf.output())
