"""The round follows the phone: visits synced through POST visits/sync move it planned → in_progress → done,
the phone's delta sync sees each step, and a failed item schedules one follow-up stop."""

import uuid
from datetime import timedelta

import pytest
from django.test import TestCase, override_settings
from django.utils import timezone

from inspections.models import ChecklistVersion, RoundStop
from inspections.services.rounds import riyadh_today
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory
from tests.rounds_helpers import establishments_on_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(db):
    version = ChecklistVersionFactory(status=ChecklistVersion.Status.PUBLISHED)
    ChecklistItemFactory(version=version, code="MASKS", severity="major", fine_sar=1000)
    return version


def visit_body(stop: dict, version, answer: str) -> dict:
    now = timezone.now()
    establishment = stop["establishment"]
    return {
        "client_id": str(uuid.uuid4()),
        "establishment_id": establishment["id"],
        "round_stop_id": stop["id"],
        "checklist_version_id": version.pk,
        "started_at": (now - timedelta(minutes=12)).isoformat(),
        "finished_at": (now - timedelta(minutes=2)).isoformat(),
        "location": {"lat": establishment["lat"], "lon": establishment["lon"], "accuracy_m": 8.0},
        "outcome": "compliant" if answer == "yes" else "violations",
        "answers": [{"item_code": "MASKS", "value": answer}],
    }


@override_settings(ROUNDS_SYNC_OVERLAP_SECONDS=0)
def test_round_follows_synced_visits(api, supervisor, inspector, dammam, version):
    shops = establishments_on_line(dammam, 2)
    created = api.as_user(supervisor).post(
        "rounds",
        {
            "inspector_id": inspector.pk,
            "date": riyadh_today().isoformat(),
            "checklist_id": version.checklist_id,
            "establishment_ids": [shop.pk for shop in shops],
            "optimize_route": True,
        },
    )
    assert created.status_code == 201, created.content
    phone = api.as_user(inspector)
    first = phone.get("me/rounds").json()
    [round] = first["rounds"]
    assert round["checklist_version_id"] == version.pk

    synced = phone.post("visits/sync", {"visits": [visit_body(round["stops"][0], version, "yes")]})
    assert synced.status_code == 200, synced.content
    assert synced.json()["results"][0]["status"] == "created", synced.content
    delta = phone.get("me/rounds", {"updated_since": first["cursor"]}).json()
    assert [row["status"] for row in delta["rounds"]] == ["in_progress"]
    assert [stop["status"] for stop in delta["rounds"][0]["stops"]] == ["visited", "pending"]

    with TestCase.captureOnCommitCallbacks(execute=True):  # the commit queues the follow-up's placement
        synced = phone.post("visits/sync", {"visits": [visit_body(round["stops"][1], version, "no")]})
    assert synced.json()["results"][0]["status"] == "created", synced.content
    done = phone.get(f"rounds/{round['id']}").json()
    assert done["status"] == "done" and done["visited_count"] == 2
    # the failed item opened a finding and exactly one follow-up stop for that establishment
    follow_ups = RoundStop.objects.filter(establishment_id=round["stops"][1]["establishment"]["id"], is_follow_up=True)
    assert follow_ups.count() == 1 and follow_ups.get().status == "pending"
    assert follow_ups.get().round.date > riyadh_today()
