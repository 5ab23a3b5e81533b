"""`manage.py import_violation_catalogue FILE.csv`: load a municipality's official penalty table.

Columns: code, article, text_ar, text_en, grade (serious|not_serious), fine_min_sar, fine_max_sar,
grace_days, repeat_multiplier, repeat_min_days (default 14), repeat_window_days (default 365),
cap_sar, closure_days (0), licence_suspension_days (0). One line of report per row; if any row is
refused nothing is written (exit 1)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from enforcement.services.catalogue import catalogue_import


class Command(BaseCommand):
    help = "Import the violation catalogue from CSV (all rows or none), with a report per row."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", default="", help="What the table is (default: the file name).")
        parser.add_argument("--sample", action="store_true", help="Mark the rows as a SAMPLE (not official).")
        parser.add_argument("--dry-run", action="store_true", help="Check and report, write nothing.")

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {path}: {error}") from error
        report = catalogue_import(
            text=text,
            source=options["source"] or path.name,
            is_sample=options["sample"],
            dry_run=options["dry_run"],
        )
        for line, code, outcome in report.rows:
            style = self.style.ERROR if outcome.startswith("error") else (lambda s: s)
            self.stdout.write(style(f"line {line} {code or '-'}: {outcome}"))
        if not report.ok:
            self.stdout.write(self.style.ERROR(f"{report.errors} rows refused: nothing was written."))
            sys.exit(1)
        written = sum(1 for _l, _c, outcome in report.rows if outcome in ("created", "updated"))
        self.stdout.write(
            self.style.SUCCESS(f"{written} rows written." if not options["dry_run"] else "dry run: nothing written.")
        )
