"""`manage.py import_municipalities FILE.geojson [--amanah CODE]`: the Amanah's official boundaries."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backend.exceptions import ApplicationError
from inspections.services.municipalities import municipalities_import


class Command(BaseCommand):
    help = (
        "Create or update municipalities (by code) from a GeoJSON FeatureCollection. Invalid rings are "
        "repaired with shapely's make_valid and reported; unusable features are refused with a reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="GeoJSON FeatureCollection (UTF-8)")
        parser.add_argument(
            "--amanah",
            help=(
                "Code of the parent Amanah (created if it does not exist). Required to create municipalities; "
                "without it only existing ones are updated and keep their parent."
            ),
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and report, keep nothing")
        parser.add_argument("--code-field", help="Property holding the municipality code")
        parser.add_argument("--name-ar-field", help="Property holding the Arabic name")
        parser.add_argument("--name-en-field", help="Property holding the English name")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            collection = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {path}") from error
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path} is not UTF-8 JSON: {error}") from error
        try:
            report = municipalities_import(
                collection=collection,
                amanah_code=options["amanah"],
                dry_run=options["dry_run"],
                code_field=options["code_field"],
                name_ar_field=options["name_ar_field"],
                name_en_field=options["name_en_field"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if report.amanah_created:
            self.stdout.write(
                self.style.WARNING(f"Created the Amanah {options['amanah']}: set its names in the admin.")
            )
        for problem in report.repaired:
            self.stdout.write(
                self.style.WARNING(f"feature {problem.index} ({problem.code}): repaired: {problem.reason}")
            )
        for problem in report.notes:
            self.stdout.write(f"feature {problem.index} ({problem.code}): {problem.reason}")
        for problem in report.refused:
            self.stderr.write(f"feature {problem.index} ({problem.code or '?'}): REFUSED: {problem.reason}")
        prefix = "[dry run, nothing kept] " if report.dry_run else ""
        summary = (
            f"{prefix}{len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.repaired)} repaired, {len(report.refused)} refused."
        )
        self.stdout.write(self.style.SUCCESS(summary) if not report.refused else self.style.WARNING(summary))
        if report.imported == 0 and report.refused:
            raise CommandError("No feature could be imported.")
