"""Round and stop status following the visits, the end-of-day close, and follow-up scheduling."""

from datetime import date, timedelta

import pytest

from inspections.models import AuditEvent, Round, RoundStop
from inspections.services import rounds as rounds_service
from inspections.services.rounds import (
    follow_up_schedule,
    next_working_day,
    riyadh_today,
    round_refresh_status,
    rounds_close_day,
)
from notifications.models import Notification
from tests.factories import ChecklistVersionFactory, RoundFactory, RoundStopFactory, VisitFactory, make_user
from tests.rounds_helpers import establishments_on_line, published_checklist

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_with_stops(dammam, inspector):
    round = RoundFactory(municipality=dammam, inspector=inspector, checklist=published_checklist(), date=riyadh_today())
    shops = establishments_on_line(dammam, 3)
    for position, shop in enumerate(shops, start=1):
        RoundStopFactory(round=round, establishment=shop, position=position)
    return round


def visit(stop):
    return VisitFactory(establishment=stop.establishment, round_stop=stop, inspector=stop.round.inspector)


def test_status_follows_the_visits(round_with_stops):
    stops = list(round_with_stops.stops.order_by("position"))
    before = round_with_stops.updated_at
    round_refresh_status(round_id=round_with_stops.pk)
    round_with_stops.refresh_from_db()
    assert round_with_stops.status == "planned"

    stops[0].status = RoundStop.Status.VISITED  # as the visit-sync service does
    stops[0].save()
    round_refresh_status(round_id=round_with_stops.pk)
    round_with_stops.refresh_from_db()
    assert round_with_stops.status == "in_progress"
    assert round_with_stops.updated_at > before  # the phone's delta sync sees it

    # a visit linked to a stop marks it visited even if the caller did not
    visit(stops[1])
    visit(stops[2])
    round_refresh_status(round_id=round_with_stops.pk)
    round_with_stops.refresh_from_db()
    assert round_with_stops.status == "done"
    assert set(round_with_stops.stops.values_list("status", flat=True)) == {"visited"}
    assert list(
        AuditEvent.objects.filter(action="round.status_changed").order_by("id").values_list("details", flat=True)
    ) == [{"from": "planned", "to": "in_progress"}, {"from": "in_progress", "to": "done"}]


def test_refresh_ignores_cancelled_stops_and_rounds(round_with_stops):
    stops = list(round_with_stops.stops.order_by("position"))
    stops[2].status = RoundStop.Status.CANCELLED
    stops[2].save()
    visit(stops[0])
    visit(stops[1])
    round_refresh_status(round_id=round_with_stops.pk)
    round_with_stops.refresh_from_db()
    assert round_with_stops.status == "done"

    cancelled = RoundFactory(status=Round.Status.CANCELLED)
    stop = RoundStopFactory(round=cancelled)
    visit(stop)
    round_refresh_status(round_id=cancelled.pk)
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled"
    round_refresh_status(round_id=987654)  # unknown: nothing to do, no error


def test_close_day_marks_pending_stops_missed(round_with_stops, dammam, inspector):
    stops = list(round_with_stops.stops.order_by("position"))
    visit(stops[0])
    round_refresh_status(round_id=round_with_stops.pk)
    complete = RoundFactory(municipality=dammam, inspector=inspector, date=riyadh_today() - timedelta(days=2))
    visit(RoundStopFactory(round=complete, position=1))
    untouched = RoundFactory(municipality=dammam, inspector=inspector, date=riyadh_today() - timedelta(days=1))
    RoundStopFactory(round=untouched, position=1)
    tomorrow = RoundFactory(municipality=dammam, inspector=inspector, date=riyadh_today() + timedelta(days=1))
    RoundStopFactory(round=tomorrow, position=1)
    cancelled = RoundFactory(municipality=dammam, date=riyadh_today(), status=Round.Status.CANCELLED)

    closed = rounds_close_day(day=riyadh_today())
    assert {round.pk for round in closed} == {round_with_stops.pk, complete.pk, untouched.pk}
    statuses = dict(Round.objects.values_list("pk", "status"))
    assert statuses[round_with_stops.pk] == "partly_done"
    assert statuses[complete.pk] == "done"
    assert statuses[untouched.pk] == "partly_done"
    assert statuses[tomorrow.pk] == "planned"
    assert statuses[cancelled.pk] == "cancelled"
    assert list(round_with_stops.stops.order_by("position").values_list("status", flat=True)) == [
        "visited",
        "missed",
        "missed",
    ]
    assert tomorrow.stops.get().status == "pending"
    assert rounds_close_day(day=riyadh_today()) == []  # idempotent


def test_next_working_day_skips_the_saudi_weekend():
    assert next_working_day(date(2026, 11, 19)) == date(2026, 11, 22)  # Thursday → Sunday
    assert next_working_day(date(2026, 11, 20)) == date(2026, 11, 22)  # Friday → Sunday
    assert next_working_day(date(2026, 11, 21)) == date(2026, 11, 22)  # Saturday → Sunday
    assert next_working_day(date(2026, 11, 22)) == date(2026, 11, 23)  # Sunday → Monday


@pytest.fixture
def fixed_today(monkeypatch):
    today = date(2026, 11, 24)  # a Tuesday
    monkeypatch.setattr(rounds_service.follow_ups, "riyadh_today", lambda: today)
    return today


def test_follow_up_joins_a_planned_round_before_the_due_date(fixed_today, dammam, inspector):
    checklist = published_checklist()
    shops = establishments_on_line(dammam, 4)
    planned = RoundFactory(
        municipality=dammam, inspector=inspector, checklist=checklist, date=fixed_today + timedelta(days=3)
    )
    for position, shop in enumerate([shops[0], shops[3]], start=1):
        RoundStopFactory(round=planned, establishment=shop, position=position)
    too_late = RoundFactory(
        municipality=dammam, inspector=inspector, checklist=checklist, date=fixed_today + timedelta(days=20)
    )
    RoundStopFactory(round=too_late, establishment=shops[2], position=1)
    VisitFactory(establishment=shops[1], checklist_version=checklist.versions.get())

    stop = follow_up_schedule(establishment=shops[1], due_date=fixed_today + timedelta(days=7))
    assert stop.round_id == planned.pk and stop.is_follow_up and stop.status == "pending"
    # inserted between its neighbours on the line (cheapest insertion)
    assert list(planned.stops.order_by("position").values_list("establishment_id", flat=True)) == [
        shops[0].pk,
        shops[1].pk,
        shops[3].pk,
    ]
    assert AuditEvent.objects.filter(action="round.follow_up_added", object_id=str(planned.pk)).exists()
    # never two pending follow-ups for one establishment
    again = follow_up_schedule(establishment=shops[1], due_date=fixed_today + timedelta(days=2))
    assert again.pk == stop.pk
    assert RoundStop.objects.filter(establishment=shops[1], is_follow_up=True).count() == 1


def test_follow_up_creates_a_round_on_the_next_working_day(fixed_today, dammam, inspector):
    checklist = published_checklist()
    shop = establishments_on_line(dammam, 1)[0]
    VisitFactory(establishment=shop, checklist_version=checklist.versions.get())
    # a round of another checklist does not take the follow-up (it could not close the findings)
    RoundFactory(
        municipality=dammam, inspector=inspector, checklist=published_checklist(), date=fixed_today + timedelta(days=1)
    )
    stop = follow_up_schedule(establishment=shop, due_date=fixed_today + timedelta(days=14), inspector=inspector)
    round = stop.round
    assert round.date == date(2026, 11, 25) and round.inspector == inspector and round.checklist == checklist
    assert round.municipality == dammam and stop.is_follow_up
    assert Notification.objects.filter(recipient=inspector, kind="round_assigned").count() == 1
    # a second establishment the same day joins that round instead of making another one
    other = establishments_on_line(dammam, 2)[1]
    VisitFactory(establishment=other, checklist_version=checklist.versions.get())
    second = follow_up_schedule(establishment=other, due_date=fixed_today + timedelta(days=1))
    assert second.round_id == round.pk


def test_follow_up_picks_the_least_loaded_inspector(fixed_today, dammam, inspector):
    checklist = published_checklist()
    busy_day = next_working_day(fixed_today)
    idle = make_user("inspector", dammam, username="insp_idle")
    busy_round = RoundFactory(
        municipality=dammam, inspector=inspector, checklist=ChecklistVersionFactory().checklist, date=busy_day
    )
    RoundStopFactory(round=busy_round, position=1)
    shop = establishments_on_line(dammam, 1)[0]
    VisitFactory(establishment=shop, checklist_version=checklist.versions.get())
    stop = follow_up_schedule(establishment=shop, due_date=fixed_today + timedelta(days=5))
    assert stop.round.inspector == idle


def test_follow_up_without_any_inspector_returns_none(fixed_today, khobar):
    published_checklist()
    shop = establishments_on_line(khobar, 1)[0]
    before = Round.objects.count()
    assert follow_up_schedule(establishment=shop, due_date=fixed_today + timedelta(days=5)) is None
    assert Round.objects.count() == before


def test_a_full_round_takes_no_more_follow_ups(fixed_today, dammam, inspector, monkeypatch):
    monkeypatch.setattr(rounds_service.follow_ups, "FOLLOW_UP_ROUND_MAX_STOPS", 3)
    checklist = published_checklist()
    shops = establishments_on_line(dammam, 5)
    for shop in shops:
        VisitFactory(establishment=shop, checklist_version=checklist.versions.get())
    stops = [
        follow_up_schedule(establishment=shop, due_date=fixed_today + timedelta(days=7), inspector=inspector)
        for shop in shops
    ]
    first_round, second_round = stops[0].round_id, stops[3].round_id
    assert {stop.round_id for stop in stops[:3]} == {first_round}
    assert second_round != first_round and stops[4].round_id == second_round
    assert Round.objects.get(pk=first_round).stops.count() == 3
