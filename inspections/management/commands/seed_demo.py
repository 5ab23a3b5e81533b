"""`manage.py seed_demo`: the demo data of `make run`, in order. Idempotent; refused in production.

It writes only into an empty database or one it created (inspections/demo/records.py), and touches
only the rows it created there.
"""

from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inspections.demo import checklists, foundation, notifications, rounds, visits
from inspections.demo.records import demo_seed_verdict

PARTS = [
    ("municipalities, users and establishments", foundation),
    ("checklists", checklists),
    ("today's rounds", rounds),
    ("past visits, findings and follow-ups", visits),
    ("today's scheduled notifications", notifications),
]


class Command(BaseCommand):
    help = "Seed the demo: Eastern Province municipalities, demo users, establishments, checklists, rounds, visits."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-allowed",
            action="store_true",
            help="Where the demo may not write (a database with data it did not create), say so and exit 0: "
            "`make run` starts without demo data instead of failing.",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo seed never runs in production (DJANGO_ENV=production).")
        verdict = demo_seed_verdict()
        if not verdict.allowed:
            if options["if_allowed"]:
                self.stdout.write(self.style.WARNING(f"No demo data: {verdict.reason}"))
                return
            raise CommandError(f"The demo seed writes nothing here: {verdict.reason}")
        self.stdout.write(f"Seeding the demo into {verdict.reason}.")
        # Other apps' demo parts come last, named in settings (inspections imports none of them by name).
        extra = [(path, import_module(path)) for path in settings.DEMO_SEED_EXTRA_PARTS]
        for label, part in PARTS + extra:
            self.stdout.write(f"Seeding {label}...")
            with transaction.atomic():
                part.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
