"""The violation catalogue as data: `catalogue_import` loads a municipality's official table from
CSV (all rows or none) and reports on every row."""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from enforcement.models import ViolationType

COLUMNS = (
    "code",
    "article",
    "text_ar",
    "text_en",
    "grade",
    "fine_min_sar",
    "fine_max_sar",
    "grace_days",
    "repeat_multiplier",
    "repeat_min_days",
    "repeat_window_days",
    "cap_sar",
    "closure_days",
    "licence_suspension_days",
)
OPTIONAL = {"repeat_min_days": "14", "repeat_window_days": "365", "closure_days": "0", "licence_suspension_days": "0"}


@dataclass
class ImportReport:
    rows: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, "created"/"updated"/error)
    errors: int = 0

    @property
    def ok(self) -> bool:
        return self.errors == 0


def _decimal(value: str, name: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation as error:
        raise ValueError(f"{name} is not a number: {value!r}") from error
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} must be a non-negative number: {value!r}")
    return number


def _integer(value: str, name: str) -> int:
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a whole number of days: {value!r}")
    return int(value)


def _row_fields(row: dict[str, str]) -> dict:
    values = {name: (row.get(name) or OPTIONAL.get(name, "")).strip() for name in COLUMNS}
    missing = [name for name in ("code", "article", "text_ar", "text_en", "grade") if not values[name]]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if values["grade"] not in ViolationType.Grade.values:
        raise ValueError(f"grade must be one of {', '.join(ViolationType.Grade.values)}: {values['grade']!r}")
    if len(values["code"]) > 32:
        raise ValueError("code is longer than 32 characters")
    fields = {
        "article": values["article"][:200],
        "text_ar": values["text_ar"],
        "text_en": values["text_en"],
        "grade": values["grade"],
        "fine_min_sar": _decimal(values["fine_min_sar"], "fine_min_sar"),
        "fine_max_sar": _decimal(values["fine_max_sar"], "fine_max_sar"),
        "cap_sar": _decimal(values["cap_sar"], "cap_sar"),
        "repeat_multiplier": _decimal(values["repeat_multiplier"], "repeat_multiplier"),
        "grace_days": _integer(values["grace_days"], "grace_days"),
        "repeat_min_days": _integer(values["repeat_min_days"], "repeat_min_days"),
        "repeat_window_days": _integer(values["repeat_window_days"], "repeat_window_days"),
        "closure_days": _integer(values["closure_days"], "closure_days"),
        "licence_suspension_days": _integer(values["licence_suspension_days"], "licence_suspension_days"),
    }
    if fields["fine_min_sar"] > fields["fine_max_sar"]:
        raise ValueError("fine_min_sar is above fine_max_sar")
    if fields["fine_max_sar"] > fields["cap_sar"]:
        raise ValueError("cap_sar is below fine_max_sar")
    if fields["repeat_multiplier"] < 1:
        raise ValueError("repeat_multiplier must be at least 1")
    if fields["repeat_min_days"] > fields["repeat_window_days"]:
        raise ValueError("repeat_min_days is above repeat_window_days")
    return fields


def catalogue_import(*, text: str, source: str, is_sample: bool = False, dry_run: bool = False) -> ImportReport:
    """Create or update catalogue rows from CSV text (header = COLUMNS). Any bad row: nothing is written."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    absent = [name for name in COLUMNS if name not in (reader.fieldnames or []) and name not in OPTIONAL]
    if absent:
        report.rows.append((1, "", f"error: the header lacks {', '.join(absent)}"))
        report.errors += 1
        return report
    parsed: list[tuple[int, str, dict]] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip()
        try:
            fields = _row_fields(row)
            if code in seen:
                raise ValueError("the code appears twice in the file")
            seen.add(code)
            parsed.append((line, code, fields))
        except ValueError as error:
            report.rows.append((line, code, f"error: {error}"))
            report.errors += 1
    if not parsed and not report.errors:
        report.rows.append((1, "", "error: the file has no rows"))
        report.errors += 1
    if report.errors or dry_run:
        if not report.errors:
            existing = set(ViolationType.objects.filter(code__in=seen).values_list("code", flat=True))
            report.rows.extend(
                (line, code, "would update" if code in existing else "would create") for line, code, _f in parsed
            )
        return report
    with transaction.atomic():
        for line, code, fields in parsed:
            _row, created = ViolationType.objects.update_or_create(
                code=code, defaults={**fields, "source": source[:200], "is_sample": is_sample}
            )
            report.rows.append((line, code, "created" if created else "updated"))
    report.rows.sort()
    return report
