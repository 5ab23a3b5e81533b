"""`manage.py import_history FILE.csv --user USERNAME`: past inspections from a CSV file.

The columns and rules are in inspections.services.history. Every row is checked first: one bad
row and nothing is written (the report lists each bad row, column and reason; exit status 1). A
good file is written in one transaction; a second run of the same file writes nothing new.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from backend.exceptions import ApplicationError
from inspections.services.history import history_import_run, history_import_submit


class Command(BaseCommand):
    help = (
        "Import past inspections (licence_no, date, inspector, result and/or item codes) marked as imported, "
        "without follow-ups, notifications or overdue findings. Nothing is written if any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with a header row (UTF-8)")
        parser.add_argument("--user", required=True, help="The administrator recorded as importing it")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {path}") from error
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        try:
            job = history_import_submit(actor=user, data=data, file_name=path.name)
        except ApplicationError as error:
            for problem in error.extra.get("errors") or []:
                _rows, row, column = problem["loc"]
                self.stderr.write(f"row {row}, column {column or '-'}: {problem['msg']}")
            raise CommandError(f"{error.message} ({error.code})") from error
        job = history_import_run(import_id=job.pk)
        for entry in job.report:
            self.stdout.write(f"row {entry['row']}: {entry['status']} (visit {entry['visit_id']})")
        self.stdout.write(
            self.style.SUCCESS(f"{path.name}: {job.imported} visit(s) imported, {job.duplicates} already there.")
        )
