"""The demo's past visits go through the real sync service and a second run adds nothing."""

import pytest

from inspections.demo import visits as demo_visits
from inspections.demo.records import demo_record
from inspections.models import AuditEvent, Finding, Visit
from tests.factories import make_user
from tests.visit_support import make_checklist, shop

pytestmark = pytest.mark.django_db


def test_demo_visits_are_plausible_and_idempotent(dammam, supervisor):
    version, _items = make_checklist()
    shops = [shop(dammam, lat=dammam.centre_lat + 0.004 * index, lon=dammam.centre_lon) for index in range(6)]
    inspector = make_user("inspector", dammam, username="inspector_demo")
    # What the demo's other parts make (and record as the demo's): the seed visits only its own.
    demo_record([version.checklist, inspector, supervisor, *shops])

    demo_visits.seed()
    stored = Visit.objects.count()
    assert 100 <= stored <= 6 * 7 * 8
    violating = Visit.objects.filter(has_violation=True).count()
    assert 0.05 < violating / stored < 0.6
    assert Finding.objects.filter(status="closed").exists()  # revisits fixed things
    assert AuditEvent.objects.filter(action="visit.received").count() == stored

    demo_visits.seed()
    assert Visit.objects.count() == stored
