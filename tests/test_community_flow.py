"""The acceptance path: a public report with a photo, sent twice by one citizen and once by another,
is one case with two reporters; a supervisor triages it into today's round; the inspector visits
through the sync API; requests/{id}.json then shows the case closed with the inspection's result."""

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Case, Report
from inspections.models import Round, RoundStop
from inspections.services.rounds import riyadh_today
from tests.community_support import Open311, as_json, code_of, photo
from tests.factories import RoundFactory, RoundStopFactory
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(dammam, inspector, supervisor):
    version, _items = make_checklist()
    version.status = "published"
    version.save()
    # Today's round: a visit completes a stop only on its round's day (issue 11 item 7), and a visit
    # cannot be dated in the future.
    other = shop(dammam, lat=dammam.centre_lat + 0.01)
    round_ = RoundFactory(municipality=dammam, inspector=inspector, checklist=version.checklist, date=riyadh_today())
    RoundStopFactory(round=round_, establishment=other, position=1)
    return {"version": version, "shop": shop(dammam), "round": round_}


def _report(client: Open311, establishment, *, device: str, email: str, with_photo: bool = True):
    data = {
        "service_code": "expired-products",
        "address_id": code_of(establishment),
        "description": "Expired milk on the shelf by the door",
        "device_id": device,
        "email": email,
        "attribute[product]": "milk",
    }
    if with_photo:
        data["media"] = photo()
    response = client.post("requests.json", data)
    assert response.status_code == 200, response.content
    return as_json(response)[0]


def test_two_citizens_one_case_triaged_visited_and_closed_with_the_result(api, world, supervisor, inspector):
    first, second = Open311(ip="10.1.0.1"), Open311(ip="10.1.0.2")
    opened = _report(first, world["shop"], device="phone-A", email="a@example.com")
    again = _report(first, world["shop"], device="phone-A", email="a@example.com")
    joined = _report(second, world["shop"], device="phone-B", email="b@example.com", with_photo=False)

    assert opened["joined_existing"] is False and opened["reporters"] == 1
    assert again["service_request_id"] == opened["service_request_id"] and again["reporters"] == 1
    assert joined["service_request_id"] == opened["service_request_id"] and joined["reporters"] == 2
    assert f"case {opened['service_request_id']}" in joined["service_notice"]
    assert Case.objects.count() == 1 and Report.objects.count() == 3
    case_id = int(opened["service_request_id"])

    (public,) = as_json(first.get(f"requests/{case_id}.json"))
    assert public["status"] == "open" and public["reporters"] == 2
    assert public["media_url"].endswith(".jpg")
    media = first.client.get(public["media_url"])
    assert media.status_code == 200 and media["Content-Type"] == "image/jpeg"

    # the supervisor's queue, then triage into today's round as its priority stop
    queue = api.as_user(supervisor).get("community/cases")
    assert [item["id"] for item in queue.json()["items"]] == [case_id]
    triaged = api.as_user(supervisor).post(f"community/cases/{case_id}/triage", {"round_id": world["round"].pk})
    assert triaged.status_code == 200, triaged.content
    assert triaged.json()["state"] == "acknowledged"
    stops = list(world["round"].stops.order_by("position"))
    assert stops[0].establishment_id == world["shop"].pk  # priority: first
    (public,) = as_json(first.get(f"requests/{case_id}.json"))
    assert public["status"] == "open" and public["expected_datetime"] == world["round"].date.isoformat()
    assert "planned" in public["status_notes"]

    # the inspector visits through the sync API
    stop = RoundStop.objects.get(round=world["round"], establishment=world["shop"])
    visit = visit_payload(world["shop"], world["version"], round_stop=stop, EXPIRED="no")
    synced = api.as_user(inspector).post("visits/sync", {"visits": [visit]})
    assert synced.json()["results"][0]["status"] == "created", synced.content

    (public,) = as_json(first.get(f"requests/{case_id}.json"))
    assert public["status"] == "closed"
    assert public["inspection_outcome"] == "violations"
    assert "Violations were found: 1" in public["status_notes"]
    closed = as_json(first.get("requests.json", {"status": "closed"}))
    assert [row["service_request_id"] for row in closed] == [str(case_id)]
    assert as_json(first.get("requests.json", {"status": "open"})) == []
    assert Round.objects.get(pk=world["round"].pk).status in ("in_progress", "partly_done", "done")


def test_a_missed_stop_puts_the_case_back_in_the_queue(api, world, supervisor):
    opened = _report(Open311(), world["shop"], device="phone-A", email="")
    case_id = int(opened["service_request_id"])
    api.as_user(supervisor).post(f"community/cases/{case_id}/triage", {"round_id": world["round"].pk})
    RoundStop.objects.filter(round=world["round"], establishment=world["shop"]).update(status="missed")
    assert [item["id"] for item in api.as_user(supervisor).get("community/cases").json()["items"]] == [case_id]


def test_triage_into_a_new_round_and_dismiss(api, world, supervisor, inspector):
    one = int(_report(Open311(), world["shop"], device="p1", email="")["service_request_id"])
    two_shop = shop(world["shop"].municipality, lat=world["shop"].lat + 0.02)
    data = {"service_code": "food-hygiene", "address_id": code_of(two_shop), "description": "Cockroaches"}
    two = int(as_json(Open311(ip="10.9.9.9").post("requests.json", data))[0]["service_request_id"])
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    created = api.as_user(supervisor).post(
        f"community/cases/{one}/triage",
        {"inspector_id": inspector.pk, "date": day, "checklist_id": world["version"].checklist_id},
    )
    assert created.status_code == 200, created.content
    assert Round.objects.get(pk=created.json()["round_id"]).date.isoformat() == day
    again = api.as_user(supervisor).post(f"community/cases/{one}/triage", {"round_id": world["round"].pk})
    assert again.status_code == 409 and again.json()["code"] == "case_not_new"
    dismissed = api.as_user(supervisor).post(f"community/cases/{two}/dismiss", {"reason": "Photo shows another shop"})
    assert dismissed.json()["state"] == "dismissed"
    (public,) = as_json(Open311().get(f"requests/{two}.json"))
    assert public["status"] == "closed" and "another shop" in public["status_notes"]
