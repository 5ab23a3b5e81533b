"""Exports: streamed CSV and GeoJSON of visits and findings, and the PDF visit report.

CSV on PostgreSQL runs `COPY (SELECT ...) TO STDOUT WITH CSV HEADER` through psycopg's
`cursor.copy()` and forwards its chunks (the database formats the rows; Python only relays bytes).
Elsewhere (SQLite) an iterator over the rows feeds the csv module in chunks. Either way memory stays
flat: nothing holds more than one chunk of rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from django.db import connections
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from analytics.selectors import LOCAL_TZ
from backend.csv_cells import csv_text_cell, csv_text_cell_sql
from backend.pdf import arabic_pdf
from inspections.domain.calendar import hijri_iso, hijri_label
from inspections.domain.names import person_name

BOM = "\ufeff".encode()
CHUNK_ROWS = 2000
CHUNK_BYTES = 64 * 1024

# (CSV header, queryset expression). Datetimes are ISO 8601 in UTC on both databases.
VISIT_COLUMNS: tuple[tuple[str, object], ...] = (
    ("id", F("id")),
    ("client_id", F("client_id")),
    ("finished_at", F("finished_at")),
    ("received_at", F("received_at")),
    ("municipality_code", F("municipality__code")),
    ("municipality_ar", F("municipality__name_ar")),
    ("municipality_en", F("municipality__name_en")),
    ("category_code", F("category__code")),
    ("establishment_id", F("establishment_id")),
    ("establishment_ar", F("establishment__name_ar")),
    ("establishment_en", F("establishment__name_en")),
    ("licence_no", F("establishment__licence_no")),
    ("inspector", F("inspector__username")),
    ("checklist_code", F("checklist_version__checklist__code")),
    ("checklist_version", F("checklist_version__number")),
    ("outcome", F("outcome")),
    ("has_violation", F("has_violation")),
    ("violation_count", F("violation_count")),
    ("geo_status", F("geo_status")),
    ("lat", F("lat")),
    ("lon", F("lon")),
    ("accuracy_m", F("accuracy_m")),
    ("h3_r9", F("h3_r9")),
)
FINDING_COLUMNS: tuple[tuple[str, object], ...] = (
    ("id", F("id")),
    ("visit_id", F("visit_id")),
    ("item_code", F("item_code")),
    ("severity", F("severity")),
    ("status", F("status")),
    ("fine_sar", F("fine_sar")),
    ("opened_at", F("opened_at")),
    ("due_date", F("due_date")),
    ("closed_at", F("closed_at")),
    ("municipality_code", F("municipality__code")),
    ("municipality_ar", F("municipality__name_ar")),
    ("establishment_id", F("establishment_id")),
    ("establishment_ar", F("establishment__name_ar")),
    ("establishment_en", F("establishment__name_en")),
    ("licence_no", F("establishment__licence_no")),
    ("lat", F("establishment__lat")),
    ("lon", F("establishment__lon")),
)
DATETIME_COLUMNS = {"finished_at", "received_at", "opened_at", "closed_at"}
# Free text (names, codes, usernames, licence numbers): neutralised against formula injection. Numbers,
# booleans, dates and UUIDs are left alone, so a negative coordinate stays a number.
TEXT_COLUMNS = {
    "municipality_code",
    "municipality_ar",
    "municipality_en",
    "category_code",
    "establishment_ar",
    "establishment_en",
    "licence_no",
    "inspector",
    "checklist_code",
    "outcome",
    "geo_status",
    "item_code",
    "severity",
    "status",
}


def _aliased(queryset: QuerySet, columns) -> QuerySet:
    # Annotations under a prefix so that their names never clash with the model's own fields.
    annotated = queryset.order_by("id").annotate(**{f"x_{name}": expr for name, expr in columns})
    return annotated.values_list(*(f"x_{name}" for name, _ in columns))


class _UtcIso(Func):
    """A timestamp as ISO 8601 in UTC, as the iterator path writes it (PostgreSQL)."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    output_field = TextField()


class _CsvText(Func):
    """A text cell neutralised against formula injection (backend.csv_cells, PostgreSQL)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return csv_text_cell_sql(f"({sql})"), tuple(params) * 3  # the column appears three times


def _copy_wrapped(name: str, expression):
    if name in DATETIME_COLUMNS:
        return _UtcIso(expression)
    if name in TEXT_COLUMNS:
        return _CsvText(expression)
    return expression


def _copy_sql(queryset: QuerySet, columns) -> tuple[str, tuple]:
    """The export's rows in id order, the date format and the formula guard evaluated by PostgreSQL.

    Columns of related rows (`municipality__name_ar`) come from one `LEFT JOIN LATERAL` subquery per
    relation instead of a plain join: PostgreSQL memoizes each subquery's result per foreign key, so the
    guard runs once per municipality or establishment rather than once per visit, and the cached rows
    are three guarded names instead of the whole row. `OFFSET 0` keeps a subquery from being merged
    back into a join. On 1M visits (bench/export.py) this takes a third less database CPU than the
    flat join, which needed PostgreSQL's parallel workers (a lateral subquery runs in one process).
    LEFT: a null foreign key keeps its row with empty cells, as the ORM's outer join did."""
    model = queryset.model
    own = {}  # annotation name -> expression on the exported model's own columns
    relations: dict[str, dict[str, object]] = {}  # relation -> {annotation name: expression on it}
    outer = []  # the outer SELECT's columns, in header order
    for name, expression in columns:
        relation, _, rest = expression.name.partition("__") if isinstance(expression, F) else ("", "", "")
        if rest:
            relations.setdefault(relation, {})[f"x_{name}"] = _copy_wrapped(name, F(rest))
            outer.append(f'"r_{relation}"."x_{name}"')
        else:
            own[f"x_{name}"] = _copy_wrapped(name, expression)
            outer.append(f'"v"."x_{name}"')
    keys = {"k_pk": F("pk")} | {f"k_{relation}": F(model._meta.get_field(relation).attname) for relation in relations}
    inner = queryset.order_by().annotate(**own, **keys).values_list(*own, *keys)
    select, params = inner.query.sql_with_params()
    sql = f'SELECT {", ".join(outer)} FROM ({select}) AS "v"'
    for relation, expressions in relations.items():
        field = model._meta.get_field(relation)
        related = field.related_model._base_manager.order_by().filter(
            **{field.target_field.attname: RawSQL(f'"v"."k_{relation}"', ())}
        )
        related_select, related_params = (
            related.annotate(**expressions).values_list(*expressions).query.sql_with_params()
        )
        sql += f' LEFT JOIN LATERAL ({related_select} OFFSET 0) AS "r_{relation}" ON true'
        params += related_params
    return f'COPY ({sql} ORDER BY "v"."k_pk") TO STDOUT WITH (FORMAT csv)', params


def _csv_header(columns) -> bytes:
    # The header line PostgreSQL's HEADER option would write (plain names, never quoted).
    return (",".join(name for name, _ in columns) + "\n").encode()


def _copy_chunks(queryset: QuerySet, columns) -> Iterator[bytes]:
    sql, params = _copy_sql(queryset, columns)
    connection = connections[queryset.db]  # the replica when the export was routed there
    connection.ensure_connection()
    yield BOM + _csv_header(columns)  # the download starts at once
    with connection.connection.cursor() as cursor:
        # JIT compiling this one statement costs more than it saves on the first rows (and delays the
        # first byte): off for the export, back to the server's setting afterwards.
        cursor.execute("SET jit = off")
        try:
            with cursor.copy(sql, params) as copy:
                buffer = bytearray()
                for data in copy:
                    buffer += data
                    if len(buffer) >= CHUNK_BYTES:
                        yield bytes(buffer)
                        buffer.clear()
                if buffer:
                    yield bytes(buffer)
        finally:
            cursor.execute("RESET jit")


def _csv_value(name: str, value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bool):
        return "t" if value else "f"  # as PostgreSQL's COPY writes booleans
    if name in TEXT_COLUMNS:
        return csv_text_cell(value)
    return value


def _iterator_chunks(queryset: QuerySet, columns) -> Iterator[bytes]:
    names = [name for name, _ in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    yield BOM + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(_aliased(queryset, columns).iterator(chunk_size=CHUNK_ROWS), start=1):
        writer.writerow([_csv_value(name, value) for name, value in zip(names, row, strict=True)])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _csv(queryset: QuerySet, columns) -> Iterator[bytes]:
    if connections[queryset.db].vendor == "postgresql":
        return _copy_chunks(queryset, columns)
    return _iterator_chunks(queryset, columns)


def visits_csv(queryset: QuerySet) -> Iterator[bytes]:
    return _csv(queryset, VISIT_COLUMNS)


def findings_csv(queryset: QuerySet) -> Iterator[bytes]:
    return _csv(queryset, FINDING_COLUMNS)


def _geojson(rows: Iterable[dict], names: list[str]) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    parts: list[str] = []
    for row in rows:
        lat, lon = row.pop("lat"), row.pop("lon")
        geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
        properties = {name: _json_value(row[name]) for name in names if name in row}
        feature = {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": properties}
        parts.append(("" if first else ",") + json.dumps(feature, ensure_ascii=False))
        first = False
        if len(parts) >= 500:
            yield "".join(parts).encode()
            parts.clear()
    if parts:
        yield "".join(parts).encode()
    yield b"]}"


def _json_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal" or value.__class__.__name__ == "UUID":
        return str(value)
    return value


def _rows(queryset: QuerySet, columns) -> Iterator[dict]:
    names = [name for name, _ in columns]
    for row in _aliased(queryset, columns).iterator(chunk_size=CHUNK_ROWS):
        yield dict(zip(names, row, strict=True))


def visits_geojson(queryset: QuerySet) -> Iterator[bytes]:
    return _geojson(_rows(queryset, VISIT_COLUMNS), [name for name, _ in VISIT_COLUMNS])


def findings_geojson(queryset: QuerySet) -> Iterator[bytes]:
    return _geojson(_rows(queryset, FINDING_COLUMNS), [name for name, _ in FINDING_COLUMNS])


# --- the PDF visit report ------------------------------------------------------------------


OUTCOME_AR = {"compliant": "ممتثل", "violations": "مخالفات", "closed": "مغلق", "refused_entry": "رفض الدخول"}
GEO_AR = {"verified": "موثق", "out_of_range": "خارج النطاق", "low_accuracy": "دقة منخفضة", "no_fix": "بلا موقع"}
SEVERITY_AR = {"minor": "بسيطة", "major": "جسيمة", "critical": "حرجة"}


def visit_report_pdf(visit) -> bytes:
    """An A4 report of one visit in Arabic, right to left, with Hijri (Umm al-Qura) and Gregorian dates.

    fpdf2 shapes the Arabic with HarfBuzz (uharfbuzz) and orders mixed text with its bidi algorithm.
    The Hijri date is also written to the document's keywords so that tools can find it.
    """
    from fpdf.enums import XPos, YPos

    from inspections.models import Visit

    visit = (
        Visit.objects.select_related(
            "establishment", "establishment__category", "municipality", "inspector", "checklist_version__checklist"
        )
        .prefetch_related("answers__item", "findings")
        .get(pk=visit.pk)
    )
    finished = visit.finished_at.astimezone(LOCAL_TZ)
    day = finished.date()
    # The one Hijri calendar (inspections.domain.calendar); outside its table the Gregorian date alone.
    hijri_text = hijri_label(day, language="ar")
    hijri_numeric = (hijri_iso(day) or "").replace("-", "/")

    pdf = arabic_pdf(title=f"Jawla visit report {visit.pk}")
    pdf.set_subject(f"Visit {visit.pk} {day.isoformat()}" + (f" / {hijri_numeric}" if hijri_numeric else ""))
    pdf.set_keywords((f"hijri:{hijri_numeric} " if hijri_numeric else "") + f"gregorian:{day.isoformat()}")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: int = 11, bold: bool = False, height: float = 7, colour=(30, 41, 59)) -> None:
        pdf.set_font("Plex", "B" if bold else "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(width, height, text, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_fill_color(15, 76, 92)
    pdf.rect(0, 0, pdf.w, 28, style="F")
    pdf.set_y(8)
    line("تقرير زيارة رقابية — جولة", size=18, bold=True, colour=(255, 255, 255))
    pdf.set_y(34)
    establishment = visit.establishment
    fields = [
        ("رقم الزيارة", str(visit.pk)),
        ("المنشأة", establishment.name_ar),
        ("رقم الترخيص", establishment.licence_no),
        ("النشاط", establishment.category.name_ar),
        ("البلدية", visit.municipality.name_ar),
        ("المراقب", person_name(visit.inspector)),
        ("قائمة الفحص", f"{visit.checklist_version.checklist.name_ar} (إصدار {visit.checklist_version.number})"),
        *([("التاريخ الهجري", f"{hijri_text} ({hijri_numeric})")] if hijri_text else []),
        ("التاريخ الميلادي", f"{day:%Y/%m/%d} — {finished:%H:%M}"),
        ("النتيجة", OUTCOME_AR.get(visit.outcome, visit.outcome)),
        ("التحقق من الموقع", GEO_AR.get(visit.geo_status, visit.geo_status)),
        ("عدد المخالفات", str(visit.violation_count)),
    ]
    label_width = 45
    pdf.set_draw_color(226, 232, 240)
    for index, (label, value) in enumerate(fields):
        pdf.set_fill_color(241, 245, 249) if index % 2 == 0 else pdf.set_fill_color(255, 255, 255)
        y = pdf.get_y()
        pdf.set_font("Plex", "B", 10)
        pdf.set_text_color(71, 85, 105)
        pdf.set_xy(pdf.l_margin + width - label_width, y)
        pdf.cell(label_width, 8, label, align="R", fill=True, border="B")
        pdf.set_font("Plex", "", 10)
        pdf.set_text_color(15, 23, 42)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(width - label_width, 8, f"\u200f{value}", align="R", fill=True, border="B")
        pdf.set_y(y + 8)
    if visit.notes:
        pdf.ln(2)
        line(f"ملاحظات: {visit.notes}")

    pdf.ln(3)
    line("بنود قائمة الفحص", size=14, bold=True, colour=(15, 76, 92))
    for answer in visit.answers.all():
        verdict = "مخالف" if answer.failed else "مستوفى"
        value = (
            answer.value
            if not isinstance(answer.value, str)
            else {"yes": "نعم", "no": "لا", "na": "لا ينطبق"}.get(answer.value, answer.value)
        )
        colour = (185, 28, 28) if answer.failed else (21, 128, 61)
        line(
            f"{verdict}: {answer.item.text_ar} — الإجابة: {value} ({answer.item_code})",
            size=10,
            colour=colour,
            height=6,
        )

    findings = list(visit.findings.all())
    if findings:
        pdf.ln(3)
        line("المخالفات", size=14, bold=True, colour=(15, 76, 92))
        for finding in findings:
            line(
                f"مخالفة {SEVERITY_AR.get(finding.severity, finding.severity)} ({finding.item_code}) — غرامة"
                f" {finding.fine_sar} ريال — موعد التصحيح: "
                + " — ".join(
                    part
                    for part in (hijri_label(finding.due_date, language="ar"), f"{finding.due_date:%Y/%m/%d}")
                    if part
                ),
                size=10,
                height=6,
            )
    pdf.ln(4)
    generated = timezone.localtime()
    line(
        "أُنشئ في "
        + " — ".join(
            part for part in (hijri_label(generated.date(), language="ar"), f"{generated:%Y/%m/%d %H:%M}") if part
        ),
        size=8,
        colour=(100, 116, 139),
    )
    return bytes(pdf.output())


# The indicators table as CSV: the first twelve columns are the ones the CSV always had, in the same
# order; the target's margin and where it was set (`target_scope`: the municipality or Amanah id, empty
# for a class target or the national default; `target_scope_label`: its name, "Class C", or "National")
# follow, then `target_class` (a class target's class, else empty), so a reader of the old columns still
# reads them.
INDICATORS_HEADER = (
    "calendar", "period", "group", "label", "indicator", "value", "ci_low", "ci_high", "numerator", "denominator",
    "target", "light", "amber_margin", "target_scope", "target_scope_label", "target_class",
)  # fmt: skip
INDICATOR_FIGURE_COLUMNS = INDICATORS_HEADER[5:]
LABEL_AT = INDICATOR_FIGURE_COLUMNS.index("target_scope_label")


def indicators_csv(*, period, rows: list[dict]) -> bytes:
    """One line per group and indicator (UTF-8 with a BOM for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INDICATORS_HEADER)
    for row in rows:
        for code, figure in row["indicators"].items():
            cells = ["" if figure[name] is None else figure[name] for name in INDICATOR_FIGURE_COLUMNS]
            cells[LABEL_AT] = csv_text_cell(cells[LABEL_AT])  # a scope's name is text typed by an admin
            writer.writerow([period.calendar, period.key, row["key"], csv_text_cell(row["label"]), code, *cells])
    return BOM + buffer.getvalue().encode()
