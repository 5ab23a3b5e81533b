import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.models import Answer, AuditEvent, Finding, Visit
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(dammam, inspector):
    version, items = make_checklist()
    return {"version": version, "items": items, "shop": shop(dammam), "inspector": inspector}


def test_sync_creates_visits_with_answers_and_audit(api, setup):
    client = api.as_user(setup["inspector"])
    body = {"visits": [visit_payload(setup["shop"], setup["version"]) for _ in range(3)]}
    response = client.post("visits/sync", body)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created"] * 3
    assert Visit.objects.count() == 3
    assert Answer.objects.count() == 15
    visit = Visit.objects.get(pk=results[0]["visit_id"])
    assert str(visit.client_id) == results[0]["client_id"]
    assert visit.geo_status == "verified"
    assert visit.municipality_id == setup["shop"].municipality_id
    assert visit.h3_r7 == setup["shop"].h3_r7
    assert AuditEvent.objects.filter(action="visit.received").count() == 3
