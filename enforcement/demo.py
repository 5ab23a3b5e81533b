"""The enforcement part of the demo seed (run after inspections' parts, see DEMO_SEED_EXTRA_PARTS).

Loads the clearly labelled SAMPLE violation catalogue (enforcement/data/sample_catalogue.csv: codes
SMP-<item code>, articles marked "SAMPLE ... (demo, not official)"), gives the demo municipalities
classes and the establishments size classes so every factor shows, then assesses the past findings
(notices for the serious ones and for those whose grace lapsed) and seals the visits' evidence.
Idempotent.
"""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from enforcement.services.catalogue import catalogue_import
from enforcement.services.evidence import evidence_seal_pending
from enforcement.services.penalties import penalties_assess_due
from inspections.demo.records import demo_only
from inspections.models import Establishment, Municipality

SAMPLE_CATALOGUE = Path(__file__).parent / "data" / "sample_catalogue.csv"
SAMPLE_SOURCE = "SAMPLE catalogue for the demo, modelled on the published structure - NOT the official table"
DEMO_CLASSES = {"DAMMAM": "A", "KHOBAR": "A", "AHSA": "B", "HAFAR": "B", "QATIF": "C", "JUBAIL": "B"}
SIZES = ("large", "medium", "small", "micro")


def seed(*, stdout=None) -> None:
    report = catalogue_import(text=SAMPLE_CATALOGUE.read_text(encoding="utf-8"), source=SAMPLE_SOURCE, is_sample=True)
    if not report.ok:
        raise RuntimeError(f"the sample catalogue does not import: {report.rows}")
    for municipality in demo_only(Municipality.objects.filter(kind=Municipality.Kind.BALADIYA)):
        wanted = next((cls for key, cls in DEMO_CLASSES.items() if municipality.code.upper().startswith(key)), "C")
        if municipality.municipality_class != wanted:
            Municipality.objects.filter(pk=municipality.pk).update(municipality_class=wanted)
    # Sizes spread over the register (demo only: a real register carries them).
    establishments = demo_only(Establishment.objects.all())
    if establishments.exclude(size_class="large").exists():
        ids = []  # already spread by an earlier run
    else:
        ids = list(establishments.filter(size_class="large").order_by("id").values_list("id", flat=True))
    for index, size in enumerate(SIZES):
        chosen = ids[index::4]
        if size != "large" and chosen:
            Establishment.objects.filter(id__in=chosen).update(size_class=size)
    counts = penalties_assess_due(limit=100_000)
    sealed = evidence_seal_pending(
        now=timezone.now() + timedelta(seconds=settings.EVIDENCE_SEAL_DELAY_SECONDS), limit=1_000_000
    )
    if stdout is not None:
        stdout.write(f"  SAMPLE violation catalogue: {len(report.rows)} rows; findings assessed: {counts}")
        stdout.write(f"  evidence: {sealed} links sealed")
