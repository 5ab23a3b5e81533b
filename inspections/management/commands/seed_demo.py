"""`manage.py seed_demo`: the demo data of `make run`, in order. Idempotent; refused in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inspections.demo import checklists, foundation, notifications, rounds, visits

PARTS = [
    ("municipalities, users and establishments", foundation),
    ("checklists", checklists),
    ("today's rounds", rounds),
    ("past visits, findings and follow-ups", visits),
    ("today's scheduled notifications", notifications),
]


class Command(BaseCommand):
    help = "Seed the demo: Eastern Province municipalities, demo users, establishments, checklists, rounds, visits."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo seed never runs in production (DJANGO_ENV=production).")
        for label, part in PARTS:
            self.stdout.write(f"Seeding {label}...")
            with transaction.atomic():
                part.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
