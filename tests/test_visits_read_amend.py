"""GET visits (filters, scope, pagination), GET visits/{id}, and amendments that never touch the visit."""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from inspections.models import Answer, AuditEvent, Finding, Visit, VisitAmendment
from tests.factories import make_user
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(api, dammam, khobar, inspector, inspector_khobar):
    version, _ = make_checklist()
    dammam_shop, khobar_shop = shop(dammam), shop(khobar)
    now = timezone.now()
    mine = (
        api.as_user(inspector)
        .post(
            "visits/sync",
            {
                "visits": [
                    visit_payload(dammam_shop, version, finished_at=now - timedelta(days=3), MASKS="no"),
                    visit_payload(dammam_shop, version, finished_at=now - timedelta(days=1)),
                    {
                        **visit_payload(dammam_shop, version, finished_at=now - timedelta(hours=2), outcome="closed"),
                        "answers": [],
                    },
                ]
            },
        )
        .json()["results"]
    )
    theirs = (
        api.as_user(inspector_khobar)
        .post("visits/sync", {"visits": [visit_payload(khobar_shop, version, SANITISER="no")]})
        .json()["results"]
    )
    return {
        "version": version,
        "dammam_shop": dammam_shop,
        "ids": [r["visit_id"] for r in mine],
        "khobar_id": theirs[0]["visit_id"],
    }


def test_list_is_scoped_newest_first_and_paginated(api, inspector, dammam, world):
    colleague = make_user("inspector", dammam, username="colleague")
    body = api.as_user(colleague).get("visits").json()  # inspectors see their municipality's visits
    assert body["count"] == 3
    assert [v["id"] for v in body["items"]] == list(reversed(world["ids"]))
    page = api.as_user(inspector).get("visits", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [v["id"] for v in page["items"]] == [world["ids"][1]]


def test_leader_sees_everything_and_filters_work(api, leader, inspector, dammam, khobar, world):
    client = api.as_user(leader)
    assert client.get("visits").json()["count"] == 4
    assert client.get("visits", {"municipality": khobar.id}).json()["count"] == 1
    assert client.get("visits", {"outcome": "violations"}).json()["count"] == 2
    assert client.get("visits", {"outcome": "closed"}).json()["count"] == 1
    assert client.get("visits", {"inspector": inspector.id}).json()["count"] == 3
    assert client.get("visits", {"establishment": world["dammam_shop"].id}).json()["count"] == 3
    today = timezone.localdate()
    assert client.get("visits", {"date_from": str(today - timedelta(days=1))}).json()["count"] == 3
    assert client.get("visits", {"date_to": str(today - timedelta(days=2))}).json()["count"] == 1
    assert client.get("visits", {"has_violation": "true"}).json()["count"] == 2
    for bad in (
        {"date_from": "yesterday"},
        {"outcome": "great"},
        {"geo_status": "x"},
        {"limit": 0},
        {"municipality": "a"},
    ):
        response = client.get("visits", bad)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "validation_error"


def test_detail_has_answers_findings_geo_and_is_404_elsewhere(api, inspector, inspector_khobar, world):
    first = world["ids"][0]
    detail = api.as_user(inspector).get(f"visits/{first}").json()
    assert {a["item_code"]: a["failed"] for a in detail["answers"]}["MASKS"] is True
    assert [f["item_code"] for f in detail["findings"]] == ["MASKS"]
    assert detail["findings"][0]["status"] == "closed"
    assert detail["geo"]["status"] == "verified"
    closing = api.as_user(inspector).get(f"visits/{world['ids'][1]}").json()
    assert [f["item_code"] for f in closing["closed_findings"]] == ["MASKS"]
    for user, visit_id in ((inspector_khobar, first), (inspector, world["khobar_id"]), (inspector, 10**9)):
        response = api.as_user(user).get(f"visits/{visit_id}")
        assert response.status_code == 404 and response.json() == {"detail": "Not found.", "code": "not_found"}


def amend(api, user, visit_id, body):
    return api.as_user(user).post(f"visits/{visit_id}/amendments", body)


def test_amendment_records_who_when_why_what_and_never_updates_the_visit(api, supervisor, inspector, world):
    visit_id = world["ids"][0]
    visit = Visit.objects.get(pk=visit_id)
    original = model_to_dict(visit)
    original_answers = list(Answer.objects.filter(visit=visit).values())
    response = amend(
        api,
        supervisor,
        visit_id,
        {
            "reason": "Masks were on: the inspector tapped the wrong answer",
            "changes": {"outcome": "compliant", "answers": {"MASKS": "yes"}},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["author_id"] == supervisor.id
    assert body["changes"]["outcome"] == {"from": "violations", "to": "compliant"}
    assert body["changes"]["answers"]["MASKS"] == {"from": "no", "to": "yes", "failed": False}
    visit.refresh_from_db()
    assert model_to_dict(visit) == original
    assert list(Answer.objects.filter(visit=visit).values()) == original_answers
    event = AuditEvent.objects.get(action="visit.amended")
    assert event.object_id == str(visit_id) and event.actor_id == supervisor.id
    detail = api.as_user(inspector).get(f"visits/{visit_id}").json()
    assert detail["outcome"] == "violations" and detail["effective_outcome"] == "compliant"
    assert [a["id"] for a in detail["amendments"]] == [body["id"]]


def test_amendment_refusals_write_nothing(api, inspector, supervisor, supervisor_khobar, world):
    visit_id = world["ids"][0]
    good = {"reason": "Correction", "changes": {"notes": "fixed"}}
    cases = [
        (inspector, visit_id, good, 403),
        (supervisor_khobar, visit_id, good, 404),
        (supervisor, world["khobar_id"], good, 404),
        (supervisor, visit_id, {"reason": "x", "changes": {"notes": "a"}}, 422),
        (supervisor, visit_id, {"reason": "Correction", "changes": {}}, 422),
        (supervisor, visit_id, {"reason": "Correction", "changes": {"outcome": "violations"}}, 422),  # no change
        (supervisor, visit_id, {"reason": "Correction", "changes": {"outcome": "amazing"}}, 422),
        (supervisor, visit_id, {"reason": "Correction", "changes": {"answers": {"NOPE": "yes"}}}, 422),
        (supervisor, visit_id, {"reason": "Correction", "changes": {"answers": {"TEMP": "hot"}}}, 422),
        (supervisor, visit_id, {"reason": "Correction", "changes": {"visit_id": 3}}, 422),
        (supervisor, visit_id, {"reason": "Cor\x00rection", "changes": {"notes": "x"}}, 422),
    ]
    for user, target, body, status in cases:
        response = amend(api, user, target, body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["code"] and response.json()["detail"]
    response = api.as_user(supervisor).raw("post", f"visits/{visit_id}/amendments", b'"just a string"')
    assert response.status_code == 422
    assert VisitAmendment.objects.count() == 0
    assert not AuditEvent.objects.filter(action="visit.amended").exists()
    assert Finding.objects.filter(status="open").count() == 1  # khobar's finding, untouched
