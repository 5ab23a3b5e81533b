"""The demo's past visits go through the real sync service and a second run adds nothing."""

import pytest

from inspections.demo import visits as demo_visits
from inspections.models import AuditEvent, Finding, Visit
from tests.factories import make_user
from tests.visit_support import make_checklist, shop

pytestmark = pytest.mark.django_db


def test_demo_visits_are_plausible_and_idempotent(dammam, supervisor):
    make_checklist()
    for index in range(6):
        shop(dammam, lat=dammam.centre_lat + 0.004 * index, lon=dammam.centre_lon)
    make_user("inspector", dammam, username="inspector_demo")

    demo_visits.seed()
    stored = Visit.objects.count()
    assert 100 <= stored <= 6 * 7 * 8
    violating = Visit.objects.filter(has_violation=True).count()
    assert 0.05 < violating / stored < 0.6
    assert Finding.objects.filter(status="closed").exists()  # revisits fixed things
    assert AuditEvent.objects.filter(action="visit.received").count() == stored

    demo_visits.seed()
    assert Visit.objects.count() == stored
