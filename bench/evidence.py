"""Evidence verification benchmark: what `manage.py evidence_verify` costs for 100,000 sealed visits,
beside same-run baselines over the very same bytes.

    python bench/evidence.py [--visits 100000] [--answers 4] [--inspectors 50] [--photos 200]

- Drops and re-creates its own PostgreSQL database (BENCH_DATABASE_URL, default
  postgres://postgres@127.0.0.1:5432/jawla_enforcement_bench), migrates it, bulk-creates the visits
  (4 answers each) and a few photo files, seals them (evidence_seal_pending) and signs the day.
- Times: (a) the full verification (re-derive every canonical form from the database and storage,
  check every hash, chain link and day signature); (b) the hash-and-chain part alone (no
  re-derivation); baselines: (c) reading the stored canonical texts from the database, and
  (d) plain SHA-256 of the same bytes in memory.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jawla_enforcement_bench")


def recreate_database() -> None:
    import psycopg

    name = BENCH_URL.rsplit("/", 1)[1]
    with psycopg.connect(BENCH_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="jawla-bench-evidence-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seed(*, visits: int, answers: int, inspectors: int, photos: int) -> None:
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from inspections.domain.geo import h3_cells
    from inspections.models import Answer, Photo, Visit
    from tests.factories import (
        CategoryFactory,
        ChecklistItemFactory,
        ChecklistVersionFactory,
        EstablishmentFactory,
        MunicipalityFactory,
        UserFactory,
    )

    municipality = MunicipalityFactory(code="BENCH")
    category = CategoryFactory()
    shops = [EstablishmentFactory(municipality=municipality, category=category) for _ in range(200)]
    version = ChecklistVersionFactory()
    items = [ChecklistItemFactory(version=version, code=f"B-{i}") for i in range(answers)]
    people = [UserFactory(username=f"bench_inspector_{i}") for i in range(inspectors)]
    cells = h3_cells(shops[0].lat, shops[0].lon)
    now = timezone.now() - timedelta(hours=2)
    batch = 5000
    for start in range(0, visits, batch):
        rows = []
        for index in range(start, min(start + batch, visits)):
            shop = shops[index % len(shops)]
            finished = now - timedelta(seconds=visits - index)
            rows.append(
                Visit(
                    client_id=uuid.uuid4(),
                    establishment=shop,
                    inspector=people[index % inspectors],
                    checklist_version=version,
                    municipality=municipality,
                    category=category,
                    started_at=finished - timedelta(minutes=9),
                    finished_at=finished,
                    received_at=finished + timedelta(seconds=3),
                    lat=shop.lat + (index % 97) * 1e-6,
                    lon=shop.lon,
                    accuracy_m=8.5,
                    outcome="compliant",
                    geo_status="verified",
                    geo_distance_m=12.25,
                    **cells,
                )
            )
        created = Visit.objects.bulk_create(rows)
        Answer.objects.bulk_create(
            [
                Answer(visit=visit, item=item, item_code=item.code, value="yes", failed=False)
                for visit in created
                for item in items
            ]
        )
    photo_bytes = os.urandom(150_000)
    first = list(Visit.objects.order_by("id")[:photos])
    for visit in first:
        photo = Photo(
            client_id=uuid.uuid4(),
            visit=visit,
            uploaded_by=visit.inspector,
            width=1600,
            height=1200,
            size_bytes=len(photo_bytes),
            sha256=hashlib.sha256(photo_bytes).hexdigest(),
        )
        photo.file.save("p.jpg", ContentFile(photo_bytes), save=False)
        photo.thumbnail.save("t.jpg", ContentFile(photo_bytes[:5000]), save=False)
        photo.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=4)
    parser.add_argument("--inspectors", type=int, default=50)
    parser.add_argument("--photos", type=int, default=200)
    args = parser.parse_args()
    recreate_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from enforcement.models import EvidenceRecord
    from enforcement.services.evidence import evidence_seal_pending, evidence_sign_day, evidence_verify

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed(visits=args.visits, answers=args.answers, inspectors=args.inspectors, photos=args.photos)
    print(
        f"seeded {args.visits:,} visits × {args.answers} answers, {args.photos} photo files: "
        f"{time.perf_counter() - started:.1f} s"
    )

    later = timezone.now() + timedelta(hours=1)
    started = time.perf_counter()
    sealed = evidence_seal_pending(now=later, limit=10 * args.visits)
    seal_seconds = time.perf_counter() - started
    evidence_sign_day(day=timezone.localdate(later), now=later)
    print(f"sealed {sealed:,} links in {seal_seconds:.1f} s ({sealed / seal_seconds:,.0f} links/s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    started = time.perf_counter()
    report = evidence_verify()
    full = time.perf_counter() - started
    assert report.clean, report.problems[:5]

    started = time.perf_counter()
    evidence_verify(recompute=False)
    chain_only = time.perf_counter() - started

    started = time.perf_counter()
    texts = [
        text.encode()
        for text in EvidenceRecord.objects.order_by("inspector_id", "seq")
        .values_list("canonical", flat=True)
        .iterator(chunk_size=2000)
    ]
    read_only = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        hashlib.sha256(text).hexdigest()
    hash_only = time.perf_counter() - started
    size = sum(len(text) for text in texts)

    print(f"{report.records:,} links ({size / 1e6:,.1f} MB of canonical JSON), 1 signed day")
    print(f"{'what':<62}{'seconds':>10}{'per 100k links':>18}")
    scale = 100_000 / report.records
    for label, seconds in (
        ("evidence_verify: re-derive from DB + storage, hashes, chain, sig", full),
        ("evidence_verify(recompute=False): hashes, chain, signature", chain_only),
        ("baseline: read the stored canonical texts from the database", read_only),
        ("baseline: plain SHA-256 of the same bytes in memory", hash_only),
    ):
        print(f"{label:<62}{seconds:>10.2f}{seconds * scale:>18.2f}")
    print(f"full verification = {full / hash_only:,.0f}× plain hashing, {full / read_only:,.1f}× reading the texts")


if __name__ == "__main__":
    main()
