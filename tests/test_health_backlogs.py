"""`GET health` reports the work bounded-lag tasks owe (issue 16): follow-ups waiting for placement, risk
scores waiting for a recompute and the roll-ups of visits just synced. A backlog older than its bound
means the worker or beat is down: the status says `degraded` to everyone (load balancers and
monitoring); staff see which backlog, how many items and how old the oldest is. Nothing pending, or
only fresh items: `ok`."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from analytics.models import RollupPending
from inspections.models import FollowUpPending, RiskPending, Visit
from tests.factories import EstablishmentFactory, VisitFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(dammam):
    user = make_user("admin", username="health_staff")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def health(client: Client) -> dict:
    response = client.get("/api/v1/health")
    assert response.status_code == 200, response.content
    return response.json()


def test_nothing_pending_is_ok_and_staff_see_every_backlog_empty(staff):
    body = health(staff)
    assert body["status"] == "ok", body
    assert set(body["backlogs"]) == {"follow_ups", "risk", "rollups"}
    assert all(queue["pending"] == 0 and queue["late"] is False for queue in body["backlogs"].values())
    assert "backlogs" not in health(Client())  # anonymous: the status only


def test_a_follow_up_older_than_its_bound_degrades_the_status(staff, dammam):
    shop = EstablishmentFactory(municipality=dammam)
    fresh = FollowUpPending.objects.create(establishment=shop, due_date=timezone.localdate())
    body = health(staff)
    assert body["status"] == "ok" and body["backlogs"]["follow_ups"]["pending"] == 1
    assert body["backlogs"]["follow_ups"]["late"] is False

    FollowUpPending.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    body = health(staff)
    queue = body["backlogs"]["follow_ups"]
    assert body["status"] == "degraded" and queue["late"] is True
    assert queue["oldest_seconds"] >= 600 > queue["bound_seconds"]
    anonymous = health(Client())
    assert anonymous["status"] == "degraded" and anonymous["database"] == "ok" and "backlogs" not in anonymous


def test_rollups_of_a_visit_received_long_ago_and_still_pending_degrade_the_status(staff, dammam):
    shop = EstablishmentFactory(municipality=dammam)
    old, new = VisitFactory(establishment=shop), VisitFactory(establishment=shop)
    Visit.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    RollupPending.objects.create(visit_id=new.pk)
    assert health(staff)["backlogs"]["rollups"] == {
        "pending": 1, "oldest_seconds": pytest.approx(0, abs=30), "bound_seconds": 60.0, "late": False
    }  # fmt: skip
    RollupPending.objects.create(visit_id=old.pk)
    body = health(staff)
    assert body["status"] == "degraded"
    assert body["backlogs"]["rollups"]["pending"] == 2 and body["backlogs"]["rollups"]["oldest_seconds"] >= 300
    # A pending id whose visit was deleted meanwhile contributes nothing and is not "late" by itself.
    RollupPending.objects.all().delete()
    RollupPending.objects.create(visit_id=new.pk + 1000)
    assert health(staff)["status"] == "ok", connection.vendor


def test_risk_scores_waiting_longer_than_their_bound_degrade_the_status(staff, dammam):
    shop = EstablishmentFactory(municipality=dammam)
    RiskPending.objects.create(establishment_id=shop.pk)
    body = health(staff)
    assert body["status"] == "ok"
    assert body["backlogs"]["risk"]["pending"] == 1 and body["backlogs"]["risk"]["late"] is False
    RiskPending.objects.update(queued_at=timezone.now() - timedelta(minutes=3))
    body = health(staff)
    assert body["status"] == "degraded" and body["backlogs"]["risk"]["late"] is True
    assert body["backlogs"]["risk"]["oldest_seconds"] >= 180 > body["backlogs"]["risk"]["bound_seconds"]
