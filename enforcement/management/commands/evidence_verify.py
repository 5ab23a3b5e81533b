"""`manage.py evidence_verify`: re-derive every evidence hash, chain link and day signature from the
database and the stored files, and name what changed. Exit 0 when clean, 1 when anything changed."""

import sys
import time

from django.core.management.base import BaseCommand

from enforcement.services.evidence import evidence_seal_pending, evidence_verify


class Command(BaseCommand):
    help = "Verify the evidence chains: name every visit field, photo file, record or day signature that changed."

    def add_arguments(self, parser):
        parser.add_argument("--seal-first", action="store_true", help="Seal pending evidence before verifying.")

    def handle(self, *args, **options):
        if options["seal_first"]:
            self.stdout.write(f"sealed {evidence_seal_pending()} new links")
        started = time.perf_counter()
        report = evidence_verify()
        seconds = time.perf_counter() - started
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"CHANGED  {problem}"))
        self.stdout.write(
            f"{report.records} links, {report.days_signed} signed days, {report.unsigned_records} links awaiting "
            f"their day's signature, {len(report.problems)} problems, {seconds:.2f} s"
        )
        if report.problems:
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("evidence verifies clean"))
