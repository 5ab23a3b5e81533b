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

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from backend.csv_cells import csv_text_cell
from inspections.services.establishments import csv_header_map, establishments_import

EXIT_NOTHING_WRITTEN = 1
EXIT_ROWS_REFUSED = 3  # 2 is argparse's usage error


class Command(BaseCommand):
    help = (
        "Import establishments from CSV, deduplicated by licence number (a re-import updates, never duplicates). "
        "Every row is checked first; bad rows are reported (row, field, reason) and skipped whole, the valid "
        "rows are written in one transaction. --strict writes nothing if any row is bad. "
        f"Exit status: 0 every row was written; {EXIT_NOTHING_WRITTEN} nothing was written (unreadable file, "
        "missing columns, --strict with a bad row, or every row refused); "
        f"{EXIT_ROWS_REFUSED} some rows were refused and the others written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with a header row")
        parser.add_argument("--strict", action="store_true", help="Write nothing at all if any row is bad")
        parser.add_argument("--encoding", default="utf-8-sig", help="File encoding (default UTF-8, BOM or not)")
        parser.add_argument("--delimiter", default=None, help="Column separator (default: detected, , ; or tab)")
        parser.add_argument("--errors-csv", help="Also write the error report to this CSV file")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help=f"Language of the report (default: the site's, {settings.LANGUAGE_CODE})",
        )

    def handle(self, *args, **options):
        with translation.override(options["language"] or translation.get_language()):
            self._import(**options)

    def _import(self, **options):
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
            self.stderr.write(_("row %(row)s, %(field)s: %(reason)s") % vars(error))
        if options["errors_csv"]:
            with open(options["errors_csv"], "w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "field", "reason"])
                writer.writerows(
                    [error.row, csv_text_cell(error.field), csv_text_cell(error.reason)] for error in report.errors
                )
        if not report.written:
            raise CommandError(
                _("%(bad)s bad row(s) of %(rows)s; --strict: nothing was written. Fix them and re-run.")
                % {"bad": report.bad_rows, "rows": report.rows},
                returncode=EXIT_NOTHING_WRITTEN,
            )
        summary = _(
            "%(rows)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(bad)s bad (skipped, not written)."
        ) % {
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "bad": report.bad_rows,
        }
        self.stdout.write(self.style.WARNING(summary) if report.errors else self.style.SUCCESS(summary))
        if not report.rows:
            raise CommandError(
                _("The file has a header and no rows: nothing was written."), returncode=EXIT_NOTHING_WRITTEN
            )
        if report.bad_rows == report.rows:
            raise CommandError(
                _("Every row (%(rows)s) was refused: nothing was written.") % {"rows": report.rows},
                returncode=EXIT_NOTHING_WRITTEN,
            )
        if report.bad_rows:
            raise CommandError(
                _("%(bad)s row(s) refused (see above); the %(good)s other(s) were written.")
                % {"bad": report.bad_rows, "good": report.rows - report.bad_rows},
                returncode=EXIT_ROWS_REFUSED,
            )


def _sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","
