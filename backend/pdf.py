"""The one Arabic PDF setup: fpdf2 with IBM Plex Sans Arabic (SIL Open Font License 1.1, from the
fontpkg package) and HarfBuzz shaping, so Arabic letters join and mixed text is ordered by fpdf2's bidi
algorithm. Every PDF starts from `arabic_pdf`: the visit report, the signed report, the shop sticker
and the indicators report."""

from __future__ import annotations

import logging
from importlib import resources

FONT_PACKAGE = "fontpkg_ibm_plex_sans_arabic"
FONT_FAMILY = "Plex"
logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf2's font subsetting is chatty


def font_path(weight: str) -> str:
    """`Regular`, `SemiBold` or `Bold`."""
    return str(resources.files(FONT_PACKAGE) / "files" / f"IBMPlexSansArabic-{weight}.ttf")


def arabic_pdf(*, title: str, page_format="A4", orientation: str = "portrait"):
    """An FPDF document with the Arabic font registered (family "Plex", styles "" and "B") and shaping on."""
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, format=page_format)
    pdf.set_title(title)
    pdf.set_author("Jawla")
    pdf.add_font(FONT_FAMILY, "", font_path("Regular"))
    pdf.add_font(FONT_FAMILY, "B", font_path("Bold"))
    pdf.set_text_shaping(use_shaping_engine=True, script="arab", language="ara")
    return pdf
