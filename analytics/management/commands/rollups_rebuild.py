"""Recompute every analytics roll-up from the raw visits and answers (analytics/rollups.py): after a
restore, a bulk load that bypassed the write hooks, or to backfill history. One transaction: readers
see the old roll-ups until it commits, then the new ones."""

import time

from django.core.management.base import BaseCommand

from analytics.rollups import rollup_sizes, rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the analytics roll-ups from the raw Visit and Answer tables."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=None, help="database alias (default: where roll-ups are written)")

    def handle(self, *args, database=None, **options):
        started = time.perf_counter()
        timings = rollups_rebuild(using=database)
        total = time.perf_counter() - started
        sizes = rollup_sizes(using=database)
        for table, seconds in timings.items():
            rows, size = sizes[table]
            self.stdout.write(f"{table}: {rows:,} rows, {size / 2**20:.1f} MiB, {seconds:.1f} s")
        self.stdout.write(f"rebuilt the roll-ups in {total:.1f} s")
