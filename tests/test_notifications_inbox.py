"""GET notifications, POST notifications/{id}/read and read-all: a user only ever sees their own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.alerts.policy import notify_round_assigned
from notifications.models import Notification
from tests.factories import RoundFactory

pytestmark = pytest.mark.django_db


def _notification(user, n: int, **fields) -> Notification:
    notification = Notification.objects.create(
        recipient=user,
        kind="round_assigned",
        title=f"title {n}",
        body=f"body {n}",
        payload={"kind": "round_assigned", "round_id": str(n)},
        language="en",
        dedupe_key=f"test:{user.pk}:{n}",
        **fields,
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - timedelta(minutes=100 - n))
    return notification


def test_inbox_is_newest_first_and_only_the_callers(api, inspector, inspector_khobar):
    for n in range(3):
        _notification(inspector, n)
    _notification(inspector_khobar, 10)
    response = api.as_user(inspector).get("notifications")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["title"] for item in body["items"]] == ["title 2", "title 1", "title 0"]
    assert body["items"][0]["payload"] == {"kind": "round_assigned", "round_id": "2"}
    other = api.as_user(inspector_khobar).get("notifications").json()
    assert [item["title"] for item in other["items"]] == ["title 10"]


def test_unread_filter_and_pagination(api, inspector):
    for n in range(5):
        _notification(inspector, n, read_at=timezone.now() if n % 2 else None)
    client = api.as_user(inspector)
    unread = client.get("notifications", {"unread": "true"}).json()
    assert [item["title"] for item in unread["items"]] == ["title 4", "title 2", "title 0"]
    read = client.get("notifications", {"unread": "false"}).json()
    assert read["count"] == 2
    page = client.get("notifications", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 5 and [item["title"] for item in page["items"]] == ["title 2", "title 1"]


@pytest.mark.parametrize("params", [{"unread": "maybe"}, {"limit": "-1"}, {"limit": "x"}, {"offset": "-5"}])
def test_bad_query_is_422(api, inspector, params):
    response = api.as_user(inspector).get("notifications", params)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_mark_read_is_idempotent_and_scoped(api, inspector, inspector_khobar):
    mine = _notification(inspector, 1)
    theirs = _notification(inspector_khobar, 2)
    client = api.as_user(inspector)
    response = client.post(f"notifications/{mine.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    first_read_at = response.json()["read_at"]
    assert client.post(f"notifications/{mine.pk}/read").json()["read_at"] == first_read_at
    denied = client.post(f"notifications/{theirs.pk}/read")
    assert denied.status_code == 404 and denied.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post("notifications/99999999/read").status_code == 404
    assert client.post("notifications/abc/read").status_code == 422


def test_read_all_only_touches_the_callers(api, inspector, inspector_khobar):
    _notification(inspector, 1)
    _notification(inspector, 2)
    theirs = _notification(inspector_khobar, 3)
    response = api.as_user(inspector).post("notifications/read-all")
    assert response.status_code == 200 and response.json() == {"updated": 2}
    assert api.as_user(inspector).get("notifications", {"unread": "true"}).json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_event_shows_up_in_the_recipients_inbox(
    api, dammam, inspector, supervisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify_round_assigned(round=RoundFactory(municipality=dammam, inspector=inspector))
    items = api.as_user(inspector).get("notifications").json()["items"]
    assert [item["kind"] for item in items] == ["round_assigned"]
    assert items[0]["status"] == "no_device"  # no phone registered: still in the inbox
    assert api.as_user(supervisor).get("notifications").json()["count"] == 0


def test_inbox_needs_authentication(api):
    assert api.get("notifications").status_code == 401
