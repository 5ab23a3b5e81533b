"""GET me/rounds?updated_since=: the inspector's delta sync and its cursor contract."""

from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from inspections.models import Round
from inspections.services.rounds import RoundChange, riyadh_today, round_create, round_refresh_status, round_update
from tests.factories import make_user
from tests.rounds_helpers import establishments_on_line, published_checklist

pytestmark = pytest.mark.django_db


@pytest.fixture
def checklist(db):
    return published_checklist()


def plan(supervisor, inspector, checklist, shops, days=0):
    return round_create(
        actor=supervisor,
        inspector_id=inspector.pk,
        date=riyadh_today() + timedelta(days=days),
        checklist_id=checklist.pk,
        establishment_ids=[shop.pk for shop in shops],
    )


def sync(api, inspector, cursor=None):
    params = {"updated_since": cursor} if cursor else {}
    response = api.as_user(inspector).get("me/rounds", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_first_sync_has_current_rounds_with_stops_and_version(api, supervisor, inspector, checklist, dammam):
    round = plan(supervisor, inspector, checklist, establishments_on_line(dammam, 3))
    body = sync(api, inspector)
    assert body["full"] is True and body["removed_round_ids"] == []
    [synced] = body["rounds"]
    assert synced["id"] == round.pk and synced["checklist_version_id"] == checklist.versions.get().pk
    assert [stop["position"] for stop in synced["stops"]] == [1, 2, 3]
    establishment = synced["stops"][0]["establishment"]
    assert {"id", "name_ar", "name_en", "lat", "lon"} <= set(establishment)
    assert datetime.fromisoformat(body["cursor"]) <= timezone.now()


@override_settings(ROUNDS_SYNC_OVERLAP_SECONDS=0)
def test_delta_returns_changed_and_cancelled_rounds_only(api, supervisor, inspector, checklist, dammam):
    shops = establishments_on_line(dammam, 6)
    unchanged = plan(supervisor, inspector, checklist, shops[:2])
    changed = plan(supervisor, inspector, checklist, shops[2:4], days=1)
    cancelled = plan(supervisor, inspector, checklist, shops[4:], days=2)
    cursor = sync(api, inspector)["cursor"]

    assert sync(api, inspector, cursor)["rounds"] == []  # nothing happened
    round_update(actor=supervisor, round_id=changed.pk, change=RoundChange(notes="Start at the souq"))
    round_update(actor=supervisor, round_id=cancelled.pk, change=RoundChange(cancel=True))
    body = sync(api, inspector, cursor)
    assert body["full"] is False
    by_id = {row["id"]: row for row in body["rounds"]}
    assert set(by_id) == {changed.pk, cancelled.pk}
    assert unchanged.pk not in by_id
    assert by_id[cancelled.pk]["status"] == "cancelled"
    assert by_id[changed.pk]["notes"] == "Start at the souq"

    # the next cursor moves on: the same changes do not come back
    assert sync(api, inspector, body["cursor"])["rounds"] == []


@override_settings(ROUNDS_SYNC_OVERLAP_SECONDS=0)
def test_visited_stop_and_new_round_show_up(api, supervisor, inspector, checklist, dammam):
    shops = establishments_on_line(dammam, 3)
    round = plan(supervisor, inspector, checklist, shops[:2])
    cursor = sync(api, inspector)["cursor"]
    stop = round.stops.first()
    stop.status = "visited"
    stop.save()
    round_refresh_status(round_id=round.pk)
    later = plan(supervisor, inspector, checklist, shops[2:], days=1)
    body = sync(api, inspector, cursor)
    assert {row["id"] for row in body["rounds"]} == {round.pk, later.pk}
    assert next(row for row in body["rounds"] if row["id"] == round.pk)["status"] == "in_progress"


@override_settings(ROUNDS_SYNC_OVERLAP_SECONDS=0)
def test_reassigned_round_is_removed_from_the_old_inspector(api, supervisor, inspector, checklist, dammam):
    other = make_user("inspector", dammam, username="insp_other")
    round = plan(supervisor, inspector, checklist, establishments_on_line(dammam, 2))
    cursor_old = sync(api, inspector)["cursor"]
    cursor_new = sync(api, other)["cursor"]
    round_update(actor=supervisor, round_id=round.pk, change=RoundChange(inspector_id=other.pk))
    old = sync(api, inspector, cursor_old)
    assert old["rounds"] == [] and old["removed_round_ids"] == [round.pk]
    new = sync(api, other, cursor_new)
    assert [row["id"] for row in new["rounds"]] == [round.pk] and new["removed_round_ids"] == []
    # reassigned back: it is the old inspector's again, not removed
    round_update(actor=supervisor, round_id=round.pk, change=RoundChange(inspector_id=inspector.pk))
    back = sync(api, inspector, cursor_old)
    assert [row["id"] for row in back["rounds"]] == [round.pk] and back["removed_round_ids"] == []


def test_cursor_misses_a_change_committed_after_the_sync_began(api, supervisor, inspector, checklist, dammam):
    """The race the overlap window exists for: a transaction stamps updated_at = t, a sync reads its
    cursor at t + 2 s before that transaction commits, so the change is invisible to that sync. The
    next sync, made with that cursor, must still return it."""
    round = plan(supervisor, inspector, checklist, establishments_on_line(dammam, 2))
    first = sync(api, inspector)
    cursor = datetime.fromisoformat(first["cursor"])
    # the late writer: its updated_at is two seconds before the cursor the phone now holds
    Round.objects.filter(pk=round.pk).update(notes="late commit", updated_at=cursor - timedelta(seconds=2))
    body = sync(api, inspector, first["cursor"])
    assert [row["notes"] for row in body["rounds"]] == ["late commit"]
    with override_settings(ROUNDS_SYNC_OVERLAP_SECONDS=0):  # without the overlap it would be lost
        assert sync(api, inspector, first["cursor"])["rounds"] == []


def test_cursor_is_taken_before_the_query(api, supervisor, inspector, checklist, dammam, monkeypatch):
    """Anything written while the query runs has updated_at later than the returned cursor."""
    from inspections.selectors import rounds as selectors

    round = plan(supervisor, inspector, checklist, establishments_on_line(dammam, 2))
    real = selectors._with_stops
    stamped = {}

    def write_during_query(queryset):
        Round.objects.filter(pk=round.pk).update(notes="during", updated_at=timezone.now())
        stamped["at"] = Round.objects.get(pk=round.pk).updated_at
        return real(queryset)

    monkeypatch.setattr(selectors, "_with_stops", write_during_query)
    body = sync(api, inspector)
    assert datetime.fromisoformat(body["cursor"]) < stamped["at"]


def test_only_inspectors_sync_and_bad_cursor_is_422(api, supervisor, inspector):
    assert api.as_user(supervisor).get("me/rounds").status_code == 403
    response = api.as_user(inspector).get("me/rounds", {"updated_since": "last tuesday"})
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    response = api.as_user(inspector).get("me/rounds", {"updated_since": "2026-11-23T10:00:00"})
    assert response.status_code == 400 and response.json()["code"] == "naive_datetime"
    assert api.get("me/rounds").status_code == 401


def test_ancient_and_future_cursors_are_answered(api, supervisor, inspector, checklist, dammam):
    round = plan(supervisor, inspector, checklist, establishments_on_line(dammam, 2))
    assert [row["id"] for row in sync(api, inspector, "0001-01-01T00:00:00Z")["rounds"]] == [round.pk]
    # a cursor from the future is read as "now" (it can only return more, never less)
    with override_settings(ROUNDS_SYNC_OVERLAP_SECONDS=0):
        assert sync(api, inspector, "9999-12-31T23:59:59Z")["rounds"] == []
        assert sync(api, inspector, "8061-07-06T18:03:44+16:04")["rounds"] == []
    assert [row["id"] for row in sync(api, inspector, "9999-12-31T23:59:59Z")["rounds"]] == [round.pk]  # overlap
    assert sync(api, inspector, "0001-01-01T00:00:00-16:00")["rounds"][0]["id"] == round.pk


def test_other_inspectors_rounds_never_sync(api, supervisor, inspector, inspector_khobar, checklist, dammam):
    plan(supervisor, inspector, checklist, establishments_on_line(dammam, 2))
    assert sync(api, inspector_khobar)["rounds"] == []
    assert sync(api, inspector_khobar, "2000-01-01T00:00:00+00:00")["rounds"] == []
