"""POST/GET/PATCH rounds: planning within scope, route order, bad input that writes nothing."""

from datetime import timedelta

import pytest

from inspections.models import AuditEvent, Round, RoundStop
from inspections.services.rounds import riyadh_today
from notifications.models import Notification
from tests.factories import (
    CategoryFactory,
    ChecklistFactory,
    EstablishmentFactory,
    RoundFactory,
    RoundStopFactory,
)
from tests.rounds_helpers import counts, establishments_on_line, published_checklist

pytestmark = pytest.mark.django_db


@pytest.fixture
def checklist(db):
    return published_checklist()


@pytest.fixture
def shops(dammam):
    return establishments_on_line(dammam, 6)


def body(inspector, checklist, shops, **extra):
    return {
        "inspector_id": inspector.pk,
        "date": riyadh_today().isoformat(),
        "checklist_id": checklist.pk,
        "establishment_ids": [shop.pk for shop in shops],
        "optimize_route": True,
    } | extra


@pytest.fixture
def planned(api, supervisor, inspector, checklist, shops):
    response = api.as_user(supervisor).post("rounds", body(inspector, checklist, shops))
    assert response.status_code == 201, response.content
    return response.json()


def test_create_orders_stops_by_a_short_route(api, supervisor, inspector, checklist, shops):
    shuffled = [shops[i] for i in (3, 0, 5, 1, 4, 2)]
    response = api.as_user(supervisor).post("rounds", body(inspector, checklist, shuffled))
    assert response.status_code == 201, response.content
    created = response.json()
    order = [stop["establishment"]["id"] for stop in created["stops"]]
    line = [shop.pk for shop in shops]
    assert order in (line, line[::-1])
    assert [stop["position"] for stop in created["stops"]] == [1, 2, 3, 4, 5, 6]
    assert created["route_optimized"] is True
    assert created["tour_length_m"] == pytest.approx(5 * 399, rel=0.01)  # 0.004° of longitude ≈ 399 m here
    assert created["checklist_version_id"] == checklist.versions.get().pk
    assert created["status"] == "planned" and created["inspector_id"] == inspector.pk
    assert {"lat", "lon", "name_ar"} <= set(created["stops"][0]["establishment"])

    round = Round.objects.get(pk=created["id"])
    assert AuditEvent.objects.filter(action="round.created", object_id=str(round.pk), actor=supervisor).exists()
    assert Notification.objects.filter(recipient=inspector, kind="round_assigned").count() == 1


def test_create_without_optimisation_keeps_the_given_order(api, supervisor, inspector, checklist, shops):
    shuffled = [shops[i] for i in (3, 0, 5, 1, 4, 2)]
    response = api.as_user(supervisor).post("rounds", body(inspector, checklist, shuffled, optimize_route=False))
    assert response.status_code == 201
    created = response.json()
    assert [stop["establishment"]["id"] for stop in created["stops"]] == [shop.pk for shop in shuffled]
    assert created["route_optimized"] is False
    assert created["tour_length_m"] > 3 * 5 * 399  # the zig-zag is much longer than the line


def test_khobar_supervisor_cannot_plan_for_dammam(
    api, supervisor_khobar, inspector, inspector_khobar, checklist, shops, khobar
):
    client = api.as_user(supervisor_khobar)
    before = counts()
    response = client.post("rounds", body(inspector, checklist, establishments_on_line(khobar, 2)))
    assert response.status_code == 400 and response.json()["code"] == "unknown_inspector"
    response = client.post("rounds", body(inspector_khobar, checklist, shops))
    assert response.status_code == 400 and response.json()["code"] == "unknown_establishments"
    assert counts() == before


def test_inspector_and_leadership_cannot_plan(api, inspector, leader, checklist, shops):
    before = counts()
    for user in (inspector, leader):
        response = api.as_user(user).post("rounds", body(inspector, checklist, shops))
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert counts() == before


def test_inspector_must_cover_the_round_municipality(api, admin_user, inspector_khobar, checklist, shops):
    before = counts()
    response = api.as_user(admin_user).post("rounds", body(inspector_khobar, checklist, shops))
    assert response.status_code == 400 and response.json()["code"] == "inspector_out_of_area"
    assert counts() == before


BAD_BODIES = [
    ("missing field", lambda b: {k: v for k, v in b.items() if k != "checklist_id"}, 422),
    ("unknown field", lambda b: b | {"colour": "red"}, 422),
    ("string id", lambda b: b | {"inspector_id": str(b["inspector_id"])}, 422),
    ("bool as int", lambda b: b | {"optimize_route": 1}, 422),
    ("bad date", lambda b: b | {"date": "23/11/2026"}, 422),
    ("no stops", lambda b: b | {"establishment_ids": []}, 422),
    ("too many stops", lambda b: b | {"establishment_ids": list(range(1, 62))}, 422),
    ("nul in notes", lambda b: b | {"notes": "a\x00b"}, 422),
    ("past date", lambda b: b | {"date": (riyadh_today() - timedelta(days=1)).isoformat()}, 400),
    ("far future", lambda b: b | {"date": (riyadh_today() + timedelta(days=400)).isoformat()}, 400),
    ("duplicate stop", lambda b: b | {"establishment_ids": b["establishment_ids"] + b["establishment_ids"][:1]}, 400),
    ("unknown establishment", lambda b: b | {"establishment_ids": [987654]}, 400),
    ("unknown checklist", lambda b: b | {"checklist_id": 987654}, 400),
    ("unknown inspector", lambda b: b | {"inspector_id": 987654}, 400),
]


@pytest.mark.parametrize("label, mutate, status", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_round_bodies_are_refused_and_write_nothing(
    api, supervisor, inspector, checklist, shops, label, mutate, status
):
    before = counts()
    response = api.as_user(supervisor).post("rounds", mutate(body(inspector, checklist, shops)))
    assert response.status_code == status, response.content
    assert {"detail", "code"} <= set(response.json())
    assert counts() == before


def test_non_json_bodies_are_422(api, supervisor, db):
    before = counts()
    for raw in (b'"just a string"', b"[1, 2]", b"{not json"):
        response = api.as_user(supervisor).raw("post", "rounds", raw)
        assert 400 <= response.status_code < 500
        assert "detail" in response.json()
    assert counts() == before


def test_unpublished_checklist_and_mixed_municipalities_are_refused(api, supervisor, inspector, shops, khobar, dammam):
    admin_scope_supervisor = supervisor
    admin_scope_supervisor.membership.municipalities.add(khobar)
    before = counts()
    draft_only = ChecklistFactory()
    response = api.as_user(supervisor).post("rounds", body(inspector, draft_only, shops))
    assert response.status_code == 400 and response.json()["code"] == "checklist_not_published"
    mixed = shops[:2] + establishments_on_line(khobar, 1)
    response = api.as_user(supervisor).post("rounds", body(inspector, published_checklist(), mixed))
    assert response.status_code == 400 and response.json()["code"] == "mixed_municipalities"
    assert counts() == before


def test_list_is_scoped_and_filtered(api, supervisor, supervisor_khobar, inspector, inspector_khobar, khobar, planned):
    other = RoundFactory(municipality=khobar, inspector=inspector_khobar, date=riyadh_today() + timedelta(days=3))
    client = api.as_user(supervisor)
    listed = client.get("rounds").json()
    assert [row["id"] for row in listed["items"]] == [planned["id"]] and listed["count"] == 1
    assert listed["items"][0]["stop_count"] == 6
    assert api.as_user(supervisor_khobar).get("rounds").json()["count"] == 1
    assert client.get("rounds", {"status": "cancelled"}).json()["count"] == 0
    assert client.get("rounds", {"inspector": inspector.pk}).json()["count"] == 1
    assert client.get("rounds", {"date": planned["date"]}).json()["count"] == 1
    assert client.get("rounds", {"date_from": (riyadh_today() + timedelta(days=1)).isoformat()}).json()["count"] == 0
    assert client.get("rounds", {"limit": 1, "offset": 1}).json()["items"] == []
    assert client.get("rounds", {"status": "sleeping"}).status_code == 422
    assert client.get("rounds", {"date": "yesterday"}).status_code == 422
    assert client.get("rounds", {"limit": 1000}).status_code == 422
    assert api.as_user(supervisor_khobar).get(f"rounds/{other.pk}").status_code == 200


def test_other_municipality_round_is_404_on_get_and_patch(api, supervisor_khobar, inspector_khobar, planned):
    client = api.as_user(supervisor_khobar)
    assert client.get(f"rounds/{planned['id']}").status_code == 404
    response = client.patch(f"rounds/{planned['id']}", {"status": "cancelled"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Round.objects.get(pk=planned["id"]).status == "planned"
    # an inspector sees only their own rounds, even in their municipality
    assert api.as_user(inspector_khobar).get(f"rounds/{planned['id']}").status_code == 404


def test_inspector_sees_own_round_but_cannot_change_it(api, inspector, planned):
    client = api.as_user(inspector)
    assert client.get(f"rounds/{planned['id']}").status_code == 200
    assert client.get("rounds").json()["count"] == 1
    assert client.patch(f"rounds/{planned['id']}", {"status": "cancelled"}).status_code == 403


def test_reassign(api, supervisor, inspector, dammam, planned, monkeypatch):
    from tests.factories import make_user

    calls = []
    monkeypatch.setattr(
        "inspections.services.rounds.commands.notify_round_changed", lambda **kwargs: calls.append(kwargs)
    )
    other = make_user("inspector", dammam, username="insp_dammam_2")
    response = api.as_user(supervisor).patch(f"rounds/{planned['id']}", {"inspector_id": other.pk})
    assert response.status_code == 200, response.content
    assert response.json()["inspector_id"] == other.pk
    assert calls and calls[0]["previous_inspector"] == inspector
    assert calls[0]["changes"]["inspector"] == {"from": inspector.pk, "to": other.pk}
    event = AuditEvent.objects.get(action="round.reassigned", object_id=str(planned["id"]))
    assert event.details == {"from_inspector_id": inspector.pk, "to_inspector_id": other.pk}


def test_reassign_to_out_of_scope_inspector_is_refused(api, supervisor, inspector_khobar, planned):
    before = counts()
    response = api.as_user(supervisor).patch(f"rounds/{planned['id']}", {"inspector_id": inspector_khobar.pk})
    assert response.status_code == 400 and response.json()["code"] == "unknown_inspector"
    assert counts() == before


def test_reorder_is_a_permutation(api, supervisor, planned):
    client = api.as_user(supervisor)
    stop_ids = [stop["id"] for stop in planned["stops"]]
    wanted = stop_ids[::2] + stop_ids[1::2]
    response = client.patch(f"rounds/{planned['id']}", {"stop_ids": wanted})
    assert response.status_code == 200, response.content
    changed = response.json()
    assert [stop["id"] for stop in changed["stops"]] == wanted
    assert changed["route_optimized"] is False and changed["tour_length_m"] > planned["tour_length_m"]
    assert AuditEvent.objects.filter(action="round.reordered").count() == 1
    positions = list(RoundStop.objects.filter(round_id=planned["id"]).order_by("position").values_list("id", flat=True))
    for bad in (wanted[:-1], wanted + wanted[:1], wanted[:-1] + [987654]):
        response = client.patch(f"rounds/{planned['id']}", {"stop_ids": bad})
        assert response.status_code == 400 and response.json()["code"] == "not_a_permutation"
    assert (
        list(RoundStop.objects.filter(round_id=planned["id"]).order_by("position").values_list("id", flat=True))
        == positions
    )
    # and optimising again brings back the short route
    response = client.patch(f"rounds/{planned['id']}", {"optimize_route": True})
    assert response.json()["tour_length_m"] == pytest.approx(planned["tour_length_m"], rel=1e-6)


def test_add_and_remove_stops(api, supervisor, dammam, planned):
    client = api.as_user(supervisor)
    # a new shop half-way along the line goes between its neighbours, not at the end
    middle = EstablishmentFactory(municipality=dammam, lat=dammam.centre_lat, lon=dammam.centre_lon + 0.010)
    response = client.patch(f"rounds/{planned['id']}", {"add_establishment_ids": [middle.pk]})
    assert response.status_code == 200, response.content
    stops = response.json()["stops"]
    assert len(stops) == 7
    ids = [stop["establishment"]["id"] for stop in stops]
    assert 0 < ids.index(middle.pk) < 6
    assert response.json()["tour_length_m"] == pytest.approx(planned["tour_length_m"], rel=1e-3)

    removed = stops[0]["id"]
    response = client.patch(f"rounds/{planned['id']}", {"remove_stop_ids": [removed]})
    assert response.status_code == 200
    changed = response.json()
    assert changed["stop_count"] == 6
    assert changed["stops"][-1] == changed["stops"][-1] | {"id": removed, "status": "cancelled"}
    assert [stop["position"] for stop in changed["stops"]] == [1, 2, 3, 4, 5, 6, 7]
    assert AuditEvent.objects.filter(action__in=["round.stops_added", "round.stops_removed"]).count() == 2


def test_bad_patches_write_nothing(api, supervisor, khobar, planned):
    client = api.as_user(supervisor)
    stop_ids = [stop["id"] for stop in planned["stops"]]
    khobar_shop = establishments_on_line(khobar, 1)[0]
    bad = [
        ({}, 400, "nothing_to_change"),
        ({"status": "done"}, 422, "validation_error"),
        ({"colour": "red"}, 422, "validation_error"),
        ({"stop_ids": "1,2"}, 422, "validation_error"),
        ({"status": "cancelled", "inspector_id": planned["inspector_id"]}, 400, "cancel_alone"),
        ({"stop_ids": stop_ids, "optimize_route": True}, 400, "reorder_alone"),
        ({"remove_stop_ids": [987654]}, 400, "unknown_stops"),
        ({"remove_stop_ids": [stop_ids[0], stop_ids[0]]}, 400, "duplicate_stop"),
        ({"add_establishment_ids": [planned["stops"][0]["establishment"]["id"]]}, 400, "duplicate_establishment"),
        ({"add_establishment_ids": [khobar_shop.pk]}, 400, "unknown_establishments"),
        ({"notes": "x\x00"}, 422, "validation_error"),
    ]
    before = counts()
    for patch, status, code in bad:
        response = client.patch(f"rounds/{planned['id']}", patch)
        assert response.status_code == status, (patch, response.content)
        assert response.json()["code"] == code, patch
    assert counts() == before
    round = Round.objects.get(pk=planned["id"])
    assert round.status == "planned" and round.updated_at.isoformat().startswith(planned["updated_at"][:19])


def test_cancel(api, supervisor, inspector, planned, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "inspections.services.rounds.commands.notify_round_cancelled", lambda **kwargs: calls.append(kwargs)
    )
    response = api.as_user(supervisor).patch(f"rounds/{planned['id']}", {"status": "cancelled", "notes": "Sandstorm"})
    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] and cancelled["notes"] == "Sandstorm"
    assert {stop["status"] for stop in cancelled["stops"]} == {"cancelled"}
    assert len(calls) == 1 and calls[0]["round"].pk == planned["id"]
    assert AuditEvent.objects.filter(action="round.cancelled").count() == 1
    # a cancelled round is closed for changes
    response = api.as_user(supervisor).patch(f"rounds/{planned['id']}", {"optimize_route": True})
    assert response.status_code == 400 and response.json()["code"] == "round_closed"


def test_visited_stop_cannot_be_removed(api, supervisor, planned):
    stop = RoundStop.objects.get(pk=planned["stops"][0]["id"])
    stop.status = RoundStop.Status.VISITED
    stop.save()
    response = api.as_user(supervisor).patch(f"rounds/{planned['id']}", {"remove_stop_ids": [stop.pk]})
    assert response.status_code == 400 and response.json()["code"] == "stop_not_pending"


def test_detail_lists_follow_up_flag(api, supervisor, dammam, inspector):
    round = RoundFactory(municipality=dammam, inspector=inspector, checklist=published_checklist())
    RoundStopFactory(
        round=round, position=1, is_follow_up=True, establishment=EstablishmentFactory(municipality=dammam)
    )
    stops = api.as_user(supervisor).get(f"rounds/{round.pk}").json()["stops"]
    assert stops[0]["is_follow_up"] is True


def test_stops_the_checklist_does_not_apply_to_are_refused(api, supervisor, inspector, dammam, shops, planned):
    """A round whose checklist is for bakeries cannot hold a grocery: its visit could never be synced."""
    bakery = CategoryFactory(code="bakery", name_en="Bakery", name_ar="مخبز")
    bakeries_only = published_checklist()
    bakeries_only.categories.set([bakery])
    client = api.as_user(supervisor)
    before = counts()
    response = client.post("rounds", body(inspector, bakeries_only, shops))  # the shops are groceries
    assert response.status_code == 400
    assert response.json()["code"] == "checklist_not_applicable"
    assert counts() == before
    baker = EstablishmentFactory(municipality=dammam, category=bakery)
    response = client.post("rounds", body(inspector, bakeries_only, [baker]))
    assert response.status_code == 201, response.content
    # adding a stop to a round checks the round's checklist too
    planned_checklist = Round.objects.get(pk=planned["id"]).checklist
    planned_checklist.categories.set([bakery])
    grocery = EstablishmentFactory(municipality=dammam)
    before = counts()
    response = client.patch(f"rounds/{planned['id']}", {"add_establishment_ids": [grocery.pk]})
    assert response.status_code == 400 and response.json()["code"] == "checklist_not_applicable"
    assert counts() == before


def test_phone_sees_a_newly_published_version_at_its_next_sync(
    api, planned, inspector, admin_user, checklist, django_capture_on_commit_callbacks
):
    """The published-version map is cached; publishing a version must reach the next delta sync."""
    from inspections.services.checklists import checklist_version_draft, checklist_version_publish

    phone = api.as_user(inspector)
    first = phone.get("me/rounds").json()
    old_version = checklist.versions.get(status="published").pk
    assert first["rounds"][0]["checklist_version_id"] == old_version
    with django_capture_on_commit_callbacks(execute=True):
        draft = checklist_version_draft(actor=admin_user, checklist=checklist)
        checklist_version_publish(actor=admin_user, version=draft)
    again = phone.get("me/rounds").json()
    assert again["rounds"][0]["checklist_version_id"] == draft.pk != old_version
