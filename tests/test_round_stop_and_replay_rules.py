"""Issue 11 item 7: a visit completes a round stop only on the round's day (Asia/Riyadh, within a
configurable tolerance) and only once. Item 8: replaying a client_id with other content answers
`duplicate` with the stored visit's id and `payload_differed: true`, keeps the stored visit as it
was and records the replay in the audit trail."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from inspections.domain.calendar import local_day_start, round_day_covers
from inspections.models import AuditEvent, RoundStop, Visit
from inspections.services.rounds import riyadh_today
from tests.factories import RoundFactory, RoundStopFactory
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db
RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.fixture
def world(dammam, inspector):
    version, _items = make_checklist()
    shops = [shop(dammam) for _ in range(3)]
    return {"version": version, "shops": shops}


def _stop(world, inspector, dammam, *, day: date, index: int = 0) -> RoundStop:
    round = RoundFactory(date=day, inspector=inspector, municipality=dammam, checklist=world["version"].checklist)
    return RoundStopFactory(round=round, establishment=world["shops"][index], position=0)


def _sync(api, user, visits):
    response = api.as_user(user).post("visits/sync", {"visits": visits})
    assert response.status_code == 200, response.content[:400]
    return response.json()["results"]


def _types(result) -> list[str]:
    return [error["type"] for error in result["errors"]]


def test_a_visit_55_days_old_does_not_complete_todays_stop(api, world, inspector, dammam, settings):
    settings.VISIT_MAX_AGE = timedelta(days=60)
    stop = _stop(world, inspector, dammam, day=riyadh_today())
    old = visit_payload(
        world["shops"][0], world["version"], round_stop=stop, finished_at=timezone.now() - timedelta(days=55)
    )
    [result] = _sync(api, inspector, [old])
    assert result["status"] == "rejected" and _types(result) == ["round_stop_other_day"]
    stop.refresh_from_db()
    assert stop.status == RoundStop.Status.PENDING


def test_todays_visit_does_not_complete_tomorrows_stop(api, world, inspector, dammam):
    stop = _stop(world, inspector, dammam, day=riyadh_today() + timedelta(days=1))
    # Early today (Riyadh): a visit 'now' late in the evening would fall within the tolerance before
    # tomorrow's midnight and rightly complete the stop (the test failed when CI ran after 21:00 Riyadh).
    early = local_day_start(riyadh_today()) + timedelta(minutes=1)
    payload = visit_payload(
        world["shops"][0], world["version"], round_stop=stop, finished_at=min(early, timezone.now())
    )
    [result] = _sync(api, inspector, [payload])
    assert result["status"] == "rejected" and _types(result) == ["round_stop_other_day"]
    assert RoundStop.objects.get(pk=stop.pk).status == RoundStop.Status.PENDING


def test_a_stop_is_completed_once(api, world, inspector, dammam):
    stop = _stop(world, inspector, dammam, day=riyadh_today())
    [first] = _sync(api, inspector, [visit_payload(world["shops"][0], world["version"], round_stop=stop)])
    assert first["status"] == "created"
    assert RoundStop.objects.get(pk=stop.pk).status == RoundStop.Status.VISITED
    [again] = _sync(api, inspector, [visit_payload(world["shops"][0], world["version"], round_stop=stop)])
    assert again["status"] == "rejected" and _types(again) == ["round_stop_visited"]
    assert Visit.objects.filter(round_stop=stop).count() == 1


def test_two_visits_for_one_stop_in_one_batch(api, world, inspector, dammam):
    stop = _stop(world, inspector, dammam, day=riyadh_today())
    visits = [visit_payload(world["shops"][0], world["version"], round_stop=stop) for _ in range(2)]
    results = _sync(api, inspector, visits)
    assert [result["status"] for result in results] == ["created", "rejected"]
    assert _types(results[1]) == ["round_stop_visited"]


def test_the_tolerance_is_configurable(api, world, inspector, dammam, settings):
    stop = _stop(world, inspector, dammam, day=riyadh_today() - timedelta(days=1))
    settings.ROUND_STOP_DAY_TOLERANCE = timedelta(hours=0)
    [refused] = _sync(api, inspector, [visit_payload(world["shops"][0], world["version"], round_stop=stop)])
    assert _types(refused) == ["round_stop_other_day"]
    settings.ROUND_STOP_DAY_TOLERANCE = timedelta(hours=48)
    [accepted] = _sync(api, inspector, [visit_payload(world["shops"][0], world["version"], round_stop=stop)])
    assert accepted["status"] == "created"


def test_round_day_edges_are_riyadh_days():
    day, tolerance = date(2026, 3, 1), timedelta(hours=2)
    covers = lambda moment: round_day_covers(round_day=day, finished_at=moment, tz=RIYADH, tolerance=tolerance)  # noqa: E731
    assert covers(datetime(2026, 3, 1, 1, 0, tzinfo=RIYADH))  # 01:00 Riyadh = 22:00 UTC the day before
    assert covers(datetime(2026, 2, 28, 22, 0, tzinfo=RIYADH))  # 2 h early: within the tolerance
    assert not covers(datetime(2026, 2, 28, 21, 59, tzinfo=RIYADH))
    assert covers(datetime(2026, 3, 2, 1, 59, tzinfo=RIYADH))
    assert not covers(datetime(2026, 3, 2, 2, 0, tzinfo=RIYADH))
    strict = lambda moment: round_day_covers(round_day=day, finished_at=moment, tz=RIYADH, tolerance=timedelta(0))  # noqa: E731
    assert strict(datetime(2026, 2, 28, 21, 0, tzinfo=ZoneInfo("UTC")))  # 00:00 Riyadh on the 1st
    assert not strict(datetime(2026, 2, 28, 20, 59, tzinfo=ZoneInfo("UTC")))
    # A follow-up stop (due by its round's day) is completed by a re-check made since its finding opened.
    opened = datetime(2026, 2, 20, 9, 0, tzinfo=RIYADH)
    follow_up = lambda moment: round_day_covers(  # noqa: E731
        round_day=day, finished_at=moment, tz=RIYADH, tolerance=timedelta(0), follow_up_since=opened
    )
    assert follow_up(datetime(2026, 2, 25, 10, 0, tzinfo=RIYADH))
    assert not follow_up(datetime(2026, 2, 20, 8, 59, tzinfo=RIYADH))
    assert not follow_up(datetime(2026, 3, 2, 0, 0, tzinfo=RIYADH))


# --- item 8: replays with other content ---------------------------------------------------------


def test_replay_with_other_content_is_a_duplicate_that_says_so(api, world, inspector):
    payload = visit_payload(world["shops"][0], world["version"])
    [created] = _sync(api, inspector, [payload])
    assert created["status"] == "created" and created["payload_differed"] is None
    [same] = _sync(api, inspector, [payload])
    assert (same["status"], same["visit_id"], same["payload_differed"]) == ("duplicate", created["visit_id"], False)
    assert not AuditEvent.objects.filter(action="visit.replay_differed").exists()

    changed = {**payload, "notes": "written again after the first send"}
    [replay] = _sync(api, inspector, [changed])
    assert (replay["status"], replay["visit_id"], replay["payload_differed"]) == (
        "duplicate",
        created["visit_id"],
        True,
    )
    visit = Visit.objects.get(pk=created["visit_id"])
    assert visit.notes == ""  # the stored visit stands
    [event] = AuditEvent.objects.filter(action="visit.replay_differed")
    assert event.object_id == str(visit.pk) and event.actor_id == inspector.pk
    assert event.municipality_id == visit.municipality_id
    assert event.details["client_id"] == payload["client_id"]


def test_a_changed_repeat_inside_one_batch(api, world, inspector):
    payload = visit_payload(world["shops"][0], world["version"])
    changed = {**payload, "answers": [*payload["answers"][:-1], {"item_code": "FLOOR", "value": "dirty"}]}
    results = _sync(api, inspector, [payload, payload, changed])
    assert [r["status"] for r in results] == ["created", "duplicate", "duplicate"]
    assert [r["payload_differed"] for r in results] == [None, False, True]
    assert AuditEvent.objects.filter(action="visit.replay_differed").count() == 1


def test_a_visit_stored_before_fingerprints_answers_unknown(api, world, inspector):
    payload = visit_payload(world["shops"][0], world["version"])
    [created] = _sync(api, inspector, [payload])
    Visit.objects.filter(pk=created["visit_id"]).update(payload_sha256="")
    [replay] = _sync(api, inspector, [{**payload, "notes": "other"}])
    assert replay["status"] == "duplicate" and replay["payload_differed"] is None


def test_the_field_is_documented(api):
    schema = api.get("/api/v1/openapi.json").json()
    field = schema["components"]["schemas"]["SyncResultOut"]["properties"]["payload_differed"]
    assert "differs" in field["description"]
