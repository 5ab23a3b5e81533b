"""The phone's day, end to end through the whole API with real tokens.

Log in, delta-sync today's round, submit an offline batch with one bad visit, retry the whole
batch (duplicates with the same ids), upload a photo twice (one stored), read the findings,
pick up the follow-up stop on the next sync and submit the follow-up visit that closes them.
"""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.utils import timezone

from inspections.models import Finding, Photo, RoundStop, Visit
from tests.visit_support import jpeg_bytes, make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


class Phone:
    """The phone app: a bearer token from POST auth/token and JSON calls."""

    def __init__(self, username: str, password: str):
        self.client = Client()
        response = self.client.post(
            "/api/v1/auth/token", {"username": username, "password": password}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        self.headers = {"Authorization": f"Bearer {response.json()['access']}", "Accept-Language": "en"}
        self.user = response.json()["user"]

    def get(self, path, params=None):
        response = self.client.get(f"/api/v1/{path}", params or {}, headers=self.headers)
        assert response.status_code == 200, response.content
        return response.json()

    def post(self, path, body):
        return self.client.post(f"/api/v1/{path}", body, content_type="application/json", headers=self.headers)

    def upload(self, path, content: bytes, client_id):
        return self.client.post(
            f"/api/v1/{path}",
            {
                "file": SimpleUploadedFile("evidence.jpg", content, content_type="image/jpeg"),
                "client_id": str(client_id),
            },
            headers=self.headers,
        )


def test_phone_day(api, dammam, inspector, supervisor):
    version, _items = make_checklist()
    shops = [shop(dammam, lat=dammam.centre_lat + 0.01 * i, lon=dammam.centre_lon + 0.005 * i) for i in range(3)]
    today = timezone.localdate()
    created = api.as_user(supervisor).post(
        "rounds",
        {
            "inspector_id": inspector.id,
            "date": today.isoformat(),
            "checklist_id": version.checklist_id,
            "establishment_ids": [s.id for s in shops],
            "optimize_route": True,
        },
    )
    assert created.status_code == 201, created.content

    phone = Phone("insp_dammam", "pass12345")
    assert phone.user["role"] == "inspector" and phone.user["municipality_ids"] == [dammam.id]
    full = phone.get("me/rounds")
    assert full["full"] is True and len(full["rounds"]) == 1
    round_ = full["rounds"][0]
    assert round_["checklist_version_id"] == version.id
    stops = {stop["establishment"]["id"]: stop for stop in round_["stops"]}
    assert set(stops) == {s.id for s in shops}
    cursor = full["cursor"]
    # Nothing new: at most the same round again (the delta sync may repeat, never miss).
    assert {r["id"] for r in phone.get("me/rounds", {"updated_since": cursor})["rounds"]} <= {round_["id"]}

    # Offline all morning: three visits, the last one with a typo in an item code.
    start = timezone.now() - timedelta(hours=3)
    batch = [
        visit_payload(
            shops[0],
            version,
            finished_at=start,
            round_stop=RoundStop(id=stops[shops[0].id]["id"]),
            MASKS="no",
            EXPIRED="no",
        ),
        visit_payload(
            shops[1],
            version,
            finished_at=start + timedelta(minutes=30),
            round_stop=RoundStop(id=stops[shops[1].id]["id"]),
        ),
        visit_payload(
            shops[2],
            version,
            finished_at=start + timedelta(minutes=60),
            round_stop=RoundStop(id=stops[shops[2].id]["id"]),
            MASKZ="yes",
        ),
    ]
    with TestCase.captureOnCommitCallbacks(execute=True):  # the commit queues the follow-up's placement
        first = phone.post("visits/sync", {"visits": batch})
    assert first.status_code == 200
    results = first.json()["results"]
    assert [r["status"] for r in results] == ["created", "created", "rejected"]
    assert results[2]["errors"][0]["loc"][:2] == ["answers", "5"]

    # The connection dropped before the answer arrived: the phone sends the whole batch again.
    again = phone.post("visits/sync", {"visits": batch}).json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate", "rejected"]
    assert [r["visit_id"] for r in again[:2]] == [r["visit_id"] for r in results[:2]]
    assert Visit.objects.count() == 2

    # Evidence photo, uploaded twice (retry): one stored.
    violating_visit = results[0]["visit_id"]
    photo_id = uuid.uuid4()
    one = phone.upload(f"visits/{violating_visit}/photos", jpeg_bytes(size=(320, 240)), photo_id)
    two = phone.upload(f"visits/{violating_visit}/photos", jpeg_bytes(size=(320, 240)), photo_id)
    assert (one.status_code, two.status_code) == (201, 200) and one.json()["id"] == two.json()["id"]
    assert Photo.objects.count() == 1

    findings = phone.get("findings", {"status": "open"})
    assert findings["count"] == 2
    assert {f["item_code"] for f in findings["items"]} == {"MASKS", "EXPIRED"}
    follow_up_ids = {f["follow_up_stop_id"] for f in findings["items"]}
    assert len(follow_up_ids) == 1 and None not in follow_up_ids
    detail = phone.get(f"visits/{violating_visit}")
    assert [p["id"] for p in detail["photos"]] == [one.json()["id"]]

    # Next sync: the round progressed and the follow-up stop is on the phone.
    delta = phone.get("me/rounds", {"updated_since": cursor})
    all_stops = [stop for r in delta["rounds"] for stop in r["stops"]]
    follow_up = next(stop for stop in all_stops if stop["is_follow_up"])
    assert follow_up["id"] in follow_up_ids and follow_up["establishment"]["id"] == shops[0].id
    today_round = next(r for r in delta["rounds"] if r["id"] == round_["id"])
    assert today_round["visited_count"] == 2

    follow_up_visit = visit_payload(shops[0], version, round_stop=RoundStop(id=follow_up["id"]))
    (closing,) = phone.post("visits/sync", {"visits": [follow_up_visit]}).json()["results"]
    assert closing["status"] == "created"
    assert phone.get("findings", {"status": "open"})["count"] == 0
    closed = phone.get("findings", {"status": "closed"})["items"]
    assert {f["closed_by_visit_id"] for f in closed} == {closing["visit_id"]}
    assert Finding.objects.filter(status="closed").count() == 2
    assert RoundStop.objects.get(pk=follow_up["id"]).status == "visited"
