"""The review queue of flagged visits: accept, correct through an amendment, send back with a reason
(the inspector is notified and sees it returned; the answer is an amendment); bad input."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.models import AuditEvent, Visit, VisitAmendment, VisitReview
from notifications.models import Notification
from tests.factories import EstablishmentFactory, VisitFactory


@pytest.fixture
def flagged(dammam, khobar, inspector, inspector_khobar):
    shop = EstablishmentFactory(municipality=dammam)
    now = timezone.now()
    return {
        "far": VisitFactory(
            establishment=shop, inspector=inspector, geo_status=Visit.GeoStatus.OUT_OF_RANGE, geo_distance_m=900
        ),
        "jump": VisitFactory(
            establishment=shop, inspector=inspector, impossible_travel=True, finished_at=now - timedelta(hours=1)
        ),
        "short": VisitFactory(
            establishment=shop,
            inspector=inspector,
            finished_at=now - timedelta(hours=2),
            started_at=now - timedelta(hours=2, minutes=1),
        ),
        "long": VisitFactory(
            establishment=shop,
            inspector=inspector,
            finished_at=now - timedelta(hours=3),
            started_at=now - timedelta(hours=8),
        ),
        "fine": VisitFactory(establishment=shop, inspector=inspector, finished_at=now - timedelta(hours=4)),
        "foreign": VisitFactory(
            establishment=EstablishmentFactory(municipality=khobar), inspector=inspector_khobar, impossible_travel=True
        ),
    }


def test_the_queue_lists_each_flag_in_scope_only(api, supervisor, flagged):
    queue = api.as_user(supervisor).get("reviews").json()
    flags = {row["id"]: row["flags"] for row in queue}
    assert flags == {
        flagged["far"].pk: ["out_of_range"],
        flagged["jump"].pk: ["impossible_travel"],
        flagged["short"].pk: ["too_short"],
        flagged["long"].pk: ["too_long"],
    }


def test_a_replay_with_a_different_payload_is_flagged(api, supervisor, flagged):
    AuditEvent.objects.create(
        action="visit.replay_differed", object_type="inspections.visit", object_id=str(flagged["fine"].pk)
    )
    queue = api.as_user(supervisor).get("reviews").json()
    assert next(row for row in queue if row["id"] == flagged["fine"].pk)["flags"] == ["replay_differed"]


def test_send_back_notifies_and_the_inspector_sees_it_returned_then_answers(api, supervisor, inspector, flagged):
    visit = flagged["far"]
    response = api.as_user(supervisor).post(
        f"visits/{visit.pk}/review", {"action": "send_back", "reason": "The location is 900 m away: explain."}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "returned" and response.json()["flags"] == ["out_of_range"]
    note = Notification.objects.get(recipient=inspector, kind="visit_returned")
    assert "900 m" in note.body and note.payload["visit_id"] == str(visit.pk)
    returned = api.as_user(inspector).get("me/returned-visits").json()
    assert [row["id"] for row in returned] == [visit.pk] and returned[0]["reason"].startswith("The location")
    assert visit.pk not in {row["id"] for row in api.as_user(supervisor).get("reviews").json()}

    answer = api.as_user(inspector).post(
        f"visits/{visit.pk}/return-answer", {"reason": "The shop moved next door.", "changes": {"notes": "Moved"}}
    )
    assert answer.status_code == 201, answer.json()
    amendment = VisitAmendment.objects.get(pk=answer.json()["id"])
    assert amendment.author == inspector and amendment.changes["notes"]["to"] == "Moved"
    assert Visit.objects.get(pk=visit.pk).notes == ""  # the visit itself is untouched
    assert api.as_user(inspector).get("me/returned-visits").json() == []
    queue = api.as_user(supervisor).get("reviews").json()
    assert next(row for row in queue if row["id"] == visit.pk)["review_status"] == "answered"
    accepted = api.as_user(supervisor).post(f"visits/{visit.pk}/review", {"action": "accept"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


def test_accept_and_correct(api, supervisor, flagged):
    client = api.as_user(supervisor)
    assert client.post(f"visits/{flagged['jump'].pk}/review", {"action": "accept"}).json()["status"] == "accepted"
    again = client.post(f"visits/{flagged['jump'].pk}/review", {"action": "accept"})
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
    corrected = client.post(
        f"visits/{flagged['short'].pk}/review",
        {"action": "correct", "reason": "Closed shop", "changes": {"outcome": "closed"}},
    )
    assert corrected.status_code == 200 and corrected.json()["status"] == "corrected"
    amendment = VisitAmendment.objects.get(pk=corrected.json()["amendment_id"])
    assert amendment.changes == {"outcome": {"from": "compliant", "to": "closed"}}
    assert {row["id"] for row in client.get("reviews").json()} == {flagged["far"].pk, flagged["long"].pk}


@pytest.mark.parametrize(
    "body,code",
    [
        ({"action": "send_back"}, "reason_required"),
        ({"action": "send_back", "reason": "   "}, "reason_required"),
        ({"action": "correct", "reason": "x"}, "empty_amendment"),
        ({"action": "delete"}, "validation_error"),
        ({"action": "accept", "reason": "a\u0000b"}, "validation_error"),
        ({"action": "accept", "extra": True}, "validation_error"),
    ],
)
def test_bad_reviews_write_nothing(api, supervisor, inspector, flagged, body, code):
    response = api.as_user(supervisor).post(f"visits/{flagged['far'].pk}/review", body)
    assert response.status_code == 422 and response.json()["code"] == code
    assert not VisitReview.objects.exists() and not VisitAmendment.objects.exists()
    assert not Notification.objects.filter(kind="visit_returned").exists()


def test_who_may_review_and_answer(api, supervisor, inspector, leader, flagged):
    assert (
        api.as_user(supervisor).post(f"visits/{flagged['foreign'].pk}/review", {"action": "accept"}).status_code == 404
    )
    assert api.as_user(inspector).post(f"visits/{flagged['far'].pk}/review", {"action": "accept"}).status_code == 403
    assert api.as_user(leader).post(f"visits/{flagged['far'].pk}/review", {"action": "accept"}).status_code == 403
    not_returned = api.as_user(inspector).post(f"visits/{flagged['far'].pk}/return-answer", {"reason": "x"})
    assert not_returned.status_code == 409 and not_returned.json()["code"] == "not_returned"
    assert api.as_user(supervisor).get("me/returned-visits").status_code == 403
    assert not VisitReview.objects.exists()
