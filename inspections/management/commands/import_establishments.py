"""`manage.py import_establishments FILE.csv`: the establishment register from a CSV file.

Columns (header row required, order free, case and spaces ignored; aliases in
inspections.services.establishments.CSV_COLUMNS): licence_no, name_ar, category, lat, lon
(required); name_en, address, municipality (a municipality code: overrides point-in-polygon),
status (active / suspended / closed). UTF-8 with or without BOM (Excel's "CSV UTF-8").
"""

import csv
import io
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inspections.services.establishments import csv_header_map, establishments_import


class Command(BaseCommand):
    help = (
        "Import establishments from CSV, deduplicated by licence number (a re-import updates, never duplicates). "
        "Every row is checked first; bad rows are reported (row, field, reason) and skipped whole, the valid "
        "rows are written in one transaction. --strict writes nothing if any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with a header row")
        parser.add_argument("--strict", action="store_true", help="Write nothing at all if any row is bad")
        parser.add_argument("--encoding", default="utf-8-sig", help="File encoding (default UTF-8, BOM or not)")
        parser.add_argument("--delimiter", default=None, help="Column separator (default: detected, , ; or tab)")
        parser.add_argument("--errors-csv", help="Also write the error report to this CSV file")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            text = path.read_bytes().decode(options["encoding"])
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {path}") from error
        except LookupError as error:
            raise CommandError(f"Unknown encoding {options['encoding']}") from error
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{path} is not {options['encoding']} (byte {error.start}): save it as 'CSV UTF-8' "
                "or pass --encoding cp1256 for Windows Arabic."
            ) from error
        text = text.lstrip("\ufeff")
        if not text.strip():
            raise CommandError(f"{path} is empty.")
        delimiter = options["delimiter"] or _sniff_delimiter(text.split("\n", 1)[0])
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(reader)
        mapping, missing = csv_header_map(header)
        if missing:
            raise CommandError(
                f"Missing required column(s): {', '.join(missing)}. Found: {', '.join(header)}. "
                "Expected: licence_no, name_ar, name_en, category, lat, lon, address, municipality, status."
            )
        index = {ours: header.index(theirs) for ours, theirs in mapping.items()}
        records = []
        try:
            for values in reader:
                if any(value.strip() for value in values):  # blank lines are skipped
                    row = {ours: values[i] if i < len(values) else "" for ours, i in index.items()}
                    records.append((reader.line_num, row))
        except csv.Error as error:
            raise CommandError(f"{path}, line {reader.line_num}: not valid CSV ({error}).") from error
        progress = tqdm(
            records,
            unit="row",
            desc="Checking",
            file=sys.stderr,
            disable=options["no_progress"] or None,  # None: off when stderr is not a terminal
        )
        report = establishments_import(rows=progress, strict=options["strict"])
        progress.close()

        for error in report.errors:
            self.stderr.write(f"row {error.row}, {error.field}: {error.reason}")
        if options["errors_csv"]:
            with open(options["errors_csv"], "w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "field", "reason"])
                writer.writerows([error.row, error.field, error.reason] for error in report.errors)
        if not report.written:
            raise CommandError(
                f"{report.bad_rows} bad row(s) of {report.rows}; --strict: nothing was written. Fix them and re-run."
            )
        summary = (
            f"{report.rows} rows: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.bad_rows} bad (skipped, not written)."
        )
        self.stdout.write(self.style.WARNING(summary) if report.errors else self.style.SUCCESS(summary))


def _sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","
