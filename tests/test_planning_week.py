"""The week planner: a draft the phones cannot see, balanced and routed, edited by moving a stop,
published to the inspectors; settings, recurring visits, the weekly beat job and bad input."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.models import Establishment, Membership, PlanSettings, RecurringVisit, Round, RoundStop, WeekPlan
from inspections.services.planning import next_week_start, plans_draft_weekly
from inspections.services.rounds import riyadh_today
from notifications.models import Notification
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory, EstablishmentFactory, make_user

Role = Membership.Role


@pytest.fixture
def week(dammam, inspector, supervisor):
    """Dammam with two inspectors, a published checklist for every category and 40 never-inspected shops
    licensed long ago (all due), scattered around the centre."""
    second = make_user(Role.INSPECTOR, dammam, username="insp_dammam_b")
    version = ChecklistVersionFactory()
    ChecklistItemFactory(version=version, code="CLEAN")
    rng = random.Random(7)
    shops = [
        EstablishmentFactory(
            municipality=dammam,
            lat=dammam.centre_lat + rng.uniform(-0.04, 0.04),
            lon=dammam.centre_lon + rng.uniform(-0.04, 0.04),
        )
        for _ in range(40)
    ]
    Establishment.objects.filter(pk__in=[shop.pk for shop in shops]).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    return {"inspectors": [inspector, second], "shops": shops, "checklist": version.checklist}


def _draft(api, supervisor, municipality, **extra):
    response = api.as_user(supervisor).post("plans", {"municipality_id": municipality.pk, **extra})
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_draft_is_invisible_to_phones_until_published(api, dammam, supervisor, inspector, week):
    plan = _draft(api, supervisor, dammam)
    assert plan["status"] == "draft" and plan["summary"]["due"] == 40 and plan["summary"]["planned"] == 40
    days = {r["date"] for r in plan["rounds"]}
    assert len(days) == 5 and all(r["is_draft"] for r in plan["rounds"])
    phone = api.as_user(inspector)
    assert phone.get("me/rounds").json()["rounds"] == []
    assert phone.get("rounds").json()["count"] == 0
    assert not Notification.objects.filter(recipient=inspector).exists()

    published = api.as_user(supervisor).post(f"plans/{plan['id']}/publish").json()
    assert published["status"] == "published" and not any(r["is_draft"] for r in published["rounds"])
    mine = phone.get("me/rounds").json()["rounds"]
    expected = {r["id"] for r in plan["rounds"] if r["inspector_id"] == inspector.pk}
    assert {r["id"] for r in mine} == expected and expected
    assert Notification.objects.filter(recipient=inspector, kind="round_assigned").count() == len(expected)
    again = api.as_user(supervisor).post(f"plans/{plan['id']}/publish")
    assert again.status_code == 409 and again.json()["code"] == "plan_not_draft"


def test_loads_are_balanced_and_routes_are_compact(api, dammam, supervisor, week):
    plan = _draft(api, supervisor, dammam)
    loads = {}
    for round in plan["rounds"]:
        loads[round["inspector_id"]] = loads.get(round["inspector_id"], 0) + len(round["stops"])
    assert sum(loads.values()) == 40 and max(loads.values()) - min(loads.values()) <= 2
    per_round = [len(r["stops"]) for r in plan["rounds"]]
    assert max(per_round) - min(per_round) <= 1


def test_capacity_limits_what_is_planned_most_urgent_first(api, dammam, supervisor, week):
    PlanSettings.objects.create(municipality=dammam, daily_capacity=2)
    plan = _draft(api, supervisor, dammam)
    summary = plan["summary"]
    assert summary["capacity"] == 2 * 2 * len(summary["days"])
    assert summary["planned"] == summary["capacity"] and summary["unplanned"] == 40 - summary["capacity"]


def test_moving_a_stop_to_another_inspector_in_the_draft(api, dammam, supervisor, inspector, week):
    plan = _draft(api, supervisor, dammam)
    mine = next(r for r in plan["rounds"] if r["inspector_id"] == inspector.pk)
    theirs = next(r for r in plan["rounds"] if r["inspector_id"] != inspector.pk and r["date"] == mine["date"])
    stop = mine["stops"][0]
    moved = api.as_user(supervisor).post("stops/move", {"stop_id": stop["id"], "to_round_id": theirs["id"]})
    assert moved.status_code == 200, moved.json()
    source, target = moved.json()
    assert stop["establishment_id"] not in {s["establishment_id"] for s in source["stops"]}
    assert stop["establishment_id"] in {s["establishment_id"] for s in target["stops"]}
    assert [s["position"] for s in target["stops"]] == list(range(1, len(target["stops"]) + 1))
    assert not RoundStop.objects.filter(pk=stop["id"]).exists()  # a draft's stop simply moves
    api.as_user(supervisor).post(f"plans/{plan['id']}/publish")
    other = week["inspectors"][1]
    synced = api.as_user(other).get("me/rounds").json()["rounds"]
    assert stop["establishment_id"] in {s["establishment"]["id"] for r in synced for s in r["stops"]}


def test_one_live_plan_per_week_and_discard(api, dammam, supervisor, week):
    plan = _draft(api, supervisor, dammam)
    second = api.as_user(supervisor).post("plans", {"municipality_id": dammam.pk})
    assert second.status_code == 409 and second.json()["code"] == "plan_exists"
    discarded = api.as_user(supervisor).post(f"plans/{plan['id']}/discard")
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    assert not Round.objects.filter(plan_id=plan["id"]).exists()
    assert _draft(api, supervisor, dammam)["summary"]["planned"] == 40


def test_shops_already_planned_are_not_planned_twice(api, dammam, supervisor, inspector, week):
    first = _draft(api, supervisor, dammam)
    api.as_user(supervisor).post(f"plans/{first['id']}/publish")
    later = next_week_start(riyadh_today()) + timedelta(days=7)
    again = _draft(api, supervisor, dammam, week_start=later.isoformat())
    assert again["summary"]["planned"] == 0


def test_recurring_visits_join_the_week_they_fall_in(api, dammam, supervisor, week):
    PlanSettings.objects.create(municipality=dammam, low_every_months=12, new_licence_days=365 * 50)
    # Inspected yesterday: nothing is due, except the recurring shop.
    from tests.factories import VisitFactory

    for shop in week["shops"]:
        VisitFactory(establishment=shop, inspector=week["inspectors"][0])
    start = next_week_start(riyadh_today())
    response = api.as_user(supervisor).post(
        "recurring-visits",
        {
            "municipality_id": dammam.pk,
            "establishment_ids": [week["shops"][3].pk],
            "every_weeks": 2,
            "start_week": start.isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    plan = _draft(api, supervisor, dammam)
    assert [s["establishment_id"] for r in plan["rounds"] for s in r["stops"]] == [week["shops"][3].pk]


def test_weekly_beat_job_drafts_where_turned_on(dammam, khobar, supervisor, week):
    PlanSettings.objects.create(municipality=dammam, weekly_auto=True)
    drafted = plans_draft_weekly()
    assert [plan.municipality_id for plan in drafted] == [dammam.pk]
    assert plans_draft_weekly() == []  # idempotent
    assert WeekPlan.objects.get().status == "draft"


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"municipality_id": "1"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"municipality_id": 1, "week_start": "2020-01-05"}, None, None),
        ({"municipality_id": 1, "extra": 1}, 422, "validation_error"),
    ],
)
def test_bad_plan_requests(api, dammam, supervisor, week, body, status, code):
    if body.get("municipality_id") == 1:
        body["municipality_id"] = dammam.pk
    if status is None:  # a week in the past
        response = api.as_user(supervisor).post("plans", body)
        assert response.status_code == 422 and response.json()["code"] in {"date_in_past", "not_a_sunday"}
    else:
        response = api.as_user(supervisor).post("plans", body)
        assert response.status_code == status and response.json()["code"] == code
    assert not WeekPlan.objects.exists()


def test_not_a_sunday_and_foreign_municipality(api, dammam, khobar, supervisor, week):
    monday = next_week_start(riyadh_today()) + timedelta(days=1)
    response = api.as_user(supervisor).post("plans", {"municipality_id": dammam.pk, "week_start": monday.isoformat()})
    assert response.status_code == 422 and response.json()["code"] == "not_a_sunday"
    response = api.as_user(supervisor).post("plans", {"municipality_id": khobar.pk})
    assert response.status_code == 404
    assert not WeekPlan.objects.exists()


def test_bad_moves(api, dammam, supervisor, inspector, week):
    plan = _draft(api, supervisor, dammam)
    round_ = plan["rounds"][0]
    stop = round_["stops"][0]
    client = api.as_user(supervisor)
    assert (
        client.post("stops/move", {"stop_id": stop["id"], "to_round_id": round_["id"]}).json()["code"] == "same_round"
    )
    assert client.post("stops/move", {"stop_id": stop["id"], "to_round_id": 10**9}).status_code == 404
    assert client.post("stops/move", {"stop_id": 10**9, "to_round_id": round_["id"]}).status_code == 404
    assert client.post("stops/move", {"stop_id": "x", "to_round_id": round_["id"]}).status_code == 422
    assert (
        api.as_user(inspector)
        .post("stops/move", {"stop_id": stop["id"], "to_round_id": plan["rounds"][1]["id"]})
        .status_code
        == 403
    )
    assert RoundStop.objects.filter(pk=stop["id"]).exists()


def test_settings_and_bad_settings(api, dammam, khobar, supervisor, inspector):
    client = api.as_user(supervisor)
    assert client.get(f"municipalities/{dammam.pk}/plan-settings").json()["daily_capacity"] == 12
    changed = client.patch(f"municipalities/{dammam.pk}/plan-settings", {"daily_capacity": 8, "weekly_auto": True})
    assert changed.status_code == 200 and changed.json()["daily_capacity"] == 8
    bad = client.patch(f"municipalities/{dammam.pk}/plan-settings", {"medium_threshold": 90})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_thresholds"
    assert client.patch(f"municipalities/{dammam.pk}/plan-settings", {"daily_capacity": 0}).status_code == 422
    assert client.patch(f"municipalities/{dammam.pk}/plan-settings", {}).status_code == 422
    assert client.patch(f"municipalities/{khobar.pk}/plan-settings", {"daily_capacity": 3}).status_code == 404
    assert (
        api.as_user(inspector).patch(f"municipalities/{dammam.pk}/plan-settings", {"daily_capacity": 3}).status_code
        == 403
    )
    assert PlanSettings.objects.get(municipality=dammam).daily_capacity == 8
    assert not PlanSettings.objects.filter(municipality=khobar).exists()
    assert not RecurringVisit.objects.exists()


def test_the_weekly_job_is_scheduled_and_runs_as_a_task(dammam, supervisor, week):
    from django_celery_beat.models import PeriodicTask

    from inspections.tasks import draft_next_weeks

    task = PeriodicTask.objects.get(name="planning: draft next week")
    assert task.task == "inspections.plans_draft_weekly" and task.crontab.day_of_week == "3"
    PlanSettings.objects.create(municipality=dammam, weekly_auto=True)
    assert len(draft_next_weeks.delay().get()) == 1
    assert draft_next_weeks.delay().get() == []


def test_follow_ups_go_on_or_before_their_deadline_when_a_slot_allows():
    from datetime import date

    from inspections.domain.planning import Candidate, Slot, allocate

    sunday = date(2026, 12, 6)
    days = [sunday + timedelta(days=offset) for offset in range(5)]
    rng = random.Random(3)
    candidates = [
        Candidate(
            id=i,
            lat=26.4 + rng.uniform(-0.05, 0.05),
            lon=50.1 + rng.uniform(-0.05, 0.05),
            priority=rng.random(),
            deadline=sunday if i < 15 else None,
            follow_up=i < 15,
        )
        for i in range(100)
    ]
    slots = [Slot(inspector_id=inspector, day=day, capacity=10) for inspector in (1, 2) for day in days]
    allocation = allocate(candidates, slots)
    placed = {c.id: day for (_inspector, day), group in allocation.groups.items() for c in group}
    assert all(placed[i] == sunday for i in range(15))  # 15 follow-ups due Sunday fit Sunday's 20 places
    assert sorted(len(group) for group in allocation.groups.values()) == [10] * 10
