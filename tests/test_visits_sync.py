"""POST visits/sync: per-visit validation, idempotency, limits, and what a stored visit carries."""

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from inspections.models import Answer, AuditEvent, Category, Finding, Membership, Photo, RoundStop, Visit
from tests.factories import (
    ChecklistVersionFactory,
    RoundFactory,
    RoundStopFactory,
    make_user,
)
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(dammam, khobar, inspector):
    version, items = make_checklist()
    return {
        "version": version,
        "items": items,
        "shop": shop(dammam),
        "khobar_shop": shop(khobar),
        "inspector": inspector,
    }


def counts():
    return (Visit.objects.count(), Answer.objects.count(), Finding.objects.count(), Photo.objects.count())


def sync(api, user, visits):
    response = api.as_user(user).post("visits/sync", {"visits": visits})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_sync_creates_visits_with_answers_and_audit(api, setup):
    before = timezone.now()
    results = sync(api, setup["inspector"], [visit_payload(setup["shop"], setup["version"]) for _ in range(3)])
    assert [r["status"] for r in results] == ["created"] * 3
    assert all(r["errors"] == [] for r in results)
    assert Visit.objects.count() == 3
    assert Answer.objects.count() == 15
    visit = Visit.objects.get(pk=results[0]["visit_id"])
    assert str(visit.client_id) == results[0]["client_id"]
    assert visit.geo_status == "verified"
    assert visit.inspector == setup["inspector"]
    assert visit.received_at >= before
    assert visit.municipality_id == setup["shop"].municipality_id
    assert visit.category_id == setup["shop"].category_id
    assert (visit.h3_r5, visit.h3_r7, visit.h3_r9) == (setup["shop"].h3_r5, setup["shop"].h3_r7, setup["shop"].h3_r9)
    assert not visit.has_violation and visit.violation_count == 0
    events = AuditEvent.objects.filter(action="visit.received")
    assert sorted(int(e.object_id) for e in events) == sorted(r["visit_id"] for r in results)
    assert all(e.actor_id == setup["inspector"].id for e in events)


def test_violations_counted_and_answers_marked_failed(api, setup):
    payload = visit_payload(setup["shop"], setup["version"], MASKS="no", TEMP=12.5, FLOOR="dirty")
    (result,) = sync(api, setup["inspector"], [payload])
    visit = Visit.objects.get(pk=result["visit_id"])
    assert visit.outcome == "violations" and visit.has_violation and visit.violation_count == 3
    failed = set(Answer.objects.filter(visit=visit, failed=True).values_list("item_code", flat=True))
    assert failed == {"MASKS", "TEMP", "FLOOR"}


def test_one_bad_visit_never_sinks_the_batch_and_retry_is_duplicate(api, setup):
    good = [visit_payload(setup["shop"], setup["version"]) for _ in range(2)]
    bad = visit_payload(setup["shop"], setup["version"], MASKS="maybe")
    batch = [good[0], bad, good[1]]
    first = sync(api, setup["inspector"], batch)
    assert [r["status"] for r in first] == ["created", "rejected", "created"]
    assert first[1]["visit_id"] is None
    assert first[1]["client_id"] == bad["client_id"]
    assert first[1]["errors"][0]["loc"] == ["answers", "0", "value"]
    assert first[1]["errors"][0]["type"] == "invalid_value"
    assert Visit.objects.count() == 2

    again = sync(api, setup["inspector"], batch)
    assert [r["status"] for r in again] == ["duplicate", "rejected", "duplicate"]
    assert [r["visit_id"] for r in again] == [first[0]["visit_id"], None, first[2]["visit_id"]]
    assert Visit.objects.count() == 2 and Answer.objects.count() == 10


def test_malformed_visits_are_rejected_one_by_one(api, setup):
    good = visit_payload(setup["shop"], setup["version"])
    no_client_id = {**visit_payload(setup["shop"], setup["version"])}
    del no_client_id["client_id"]
    extra_field = {**visit_payload(setup["shop"], setup["version"]), "surprise": 1}
    number_as_date = {**visit_payload(setup["shop"], setup["version"]), "finished_at": 1700000000}
    naive_date = {**visit_payload(setup["shop"], setup["version"]), "finished_at": "2026-11-20T10:00:00"}
    string_id = {**visit_payload(setup["shop"], setup["version"]), "establishment_id": str(setup["shop"].id)}
    nul = {**visit_payload(setup["shop"], setup["version"]), "notes": "a\x00b"}
    results = sync(
        api,
        setup["inspector"],
        [good, "not a visit", no_client_id, extra_field, number_as_date, naive_date, string_id, nul, None],
    )
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 8
    assert results[1]["client_id"] is None
    assert results[3]["client_id"] == extra_field["client_id"]
    assert all(r["errors"] for r in results[1:])
    assert Visit.objects.count() == 1


def test_envelope_errors_are_422_and_write_nothing(api, setup):
    client = api.as_user(setup["inspector"])
    too_many = [visit_payload(setup["shop"], setup["version"]) for _ in range(201)]
    for body in ({"visits": too_many}, {"visits": "x"}, {"visits": []} | {"more": 1}, {}):
        response = client.post("visits/sync", body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    response = client.raw("post", "visits/sync", b'"a bare string"')
    assert response.status_code == 422
    response = client.raw("post", "visits/sync", b"{not json")
    assert response.status_code == 422
    assert response.json()["detail"]
    assert counts() == (0, 0, 0, 0)


@override_settings(VISIT_SYNC_MAX_BATCH=200)
def test_exactly_the_maximum_batch_is_accepted(api, setup):
    batch = [
        visit_payload(setup["shop"], setup["version"], finished_at=timezone.now() - timedelta(hours=i))
        for i in range(200)
    ]
    results = sync(api, setup["inspector"], batch)
    assert {r["status"] for r in results} == {"created"}
    assert Visit.objects.count() == 200


def test_unauthenticated_and_wrong_role(api, setup, leader):
    payload = visit_payload(setup["shop"], setup["version"])
    assert api.post("visits/sync", {"visits": [payload]}).status_code == 401
    response = api.as_user(leader).post("visits/sync", {"visits": [payload]})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert counts() == (0, 0, 0, 0)


def test_supervisor_may_submit_a_visit(api, setup, supervisor):
    (result,) = sync(api, supervisor, [visit_payload(setup["shop"], setup["version"])])
    assert result["status"] == "created"


def test_client_id_of_another_inspector_is_rejected_without_leaking(api, setup, dammam):
    other = make_user(Membership.Role.INSPECTOR, dammam, username="other_dammam")
    payload = visit_payload(setup["shop"], setup["version"])
    (first,) = sync(api, other, [payload])
    (mine,) = sync(api, setup["inspector"], [payload])
    assert mine["status"] == "rejected" and mine["visit_id"] is None
    assert mine["errors"][0]["type"] == "client_id_conflict"
    assert first["status"] == "created"
    assert set(mine) == {"client_id", "status", "visit_id", "errors", "payload_differed"}
    assert mine["payload_differed"] is None  # says nothing about the other inspector's visit
    assert Visit.objects.count() == 1


def test_same_client_id_twice_in_one_batch(api, setup):
    payload = visit_payload(setup["shop"], setup["version"])
    results = sync(api, setup["inspector"], [payload, payload])
    assert [r["status"] for r in results] == ["created", "duplicate"]
    assert results[0]["visit_id"] == results[1]["visit_id"]
    assert Visit.objects.count() == 1


def test_establishment_out_of_scope_looks_unknown(api, setup):
    payload = visit_payload(setup["khobar_shop"], setup["version"])
    unknown = {**visit_payload(setup["shop"], setup["version"]), "establishment_id": 999999}
    results = sync(api, setup["inspector"], [payload, unknown])
    assert [r["errors"][0]["type"] for r in results] == ["unknown_establishment"] * 2
    assert results[0]["errors"] == results[1]["errors"]
    assert Visit.objects.count() == 0


def test_checklist_checks(api, setup, dammam):
    version, items = setup["version"], setup["items"]
    draft = ChecklistVersionFactory(checklist=version.checklist, number=2, status="draft", published_at=None)
    bakery = Category.objects.create(code="bakery", name_ar="مخبز", name_en="Bakery")
    bakery_shop = shop(dammam, category=bakery)
    items["EXTRA"].categories.add(Category.objects.get(code="grocery"))

    cases = {
        "unknown_item": visit_payload(setup["shop"], version, NOPE="yes"),
        "missing_items": visit_payload(setup["shop"], version, SANITISER=None),
        "invalid_value": visit_payload(setup["shop"], version, TEMP="4"),
        "invalid_choice": visit_payload(setup["shop"], version, FLOOR="sparkling"),
        "bool_as_number": visit_payload(setup["shop"], version, TEMP=True),
        "unknown_checklist_version": {**visit_payload(setup["shop"], version), "checklist_version_id": draft.id},
        "item_not_applicable": visit_payload(bakery_shop, version, EXTRA="yes"),
    }
    results = sync(api, setup["inspector"], list(cases.values()))
    types = {name: [e["type"] for e in r["errors"]] for name, r in zip(cases, results, strict=True)}
    assert all(r["status"] == "rejected" for r in results), types
    assert types["unknown_item"] == ["unknown_item"]
    assert types["missing_items"] == ["missing_items"]
    assert types["invalid_value"] == ["invalid_value"]
    assert types["invalid_choice"] == ["invalid_value"]
    assert types["bool_as_number"] == ["invalid_value"]
    assert types["unknown_checklist_version"] == ["unknown_checklist_version"]
    assert types["item_not_applicable"] == ["item_not_applicable"]
    # An optional item applicable to the category is fine, as is leaving it out.
    (ok,) = sync(api, setup["inspector"], [visit_payload(setup["shop"], version, EXTRA="yes")])
    assert ok["status"] == "created"


def test_checklist_not_for_this_category(api, setup, dammam):
    bakery = Category.objects.create(code="bakery", name_ar="مخبز", name_en="Bakery")
    setup["version"].checklist.categories.add(bakery)
    (result,) = sync(api, setup["inspector"], [visit_payload(setup["shop"], setup["version"])])
    assert result["errors"][0]["type"] == "checklist_not_applicable"


def test_retired_version_accepted_for_visits_started_while_published(api, setup):
    version = setup["version"]
    version.status = "retired"
    version.published_at = timezone.now() - timedelta(days=10)
    version.save()
    ok = visit_payload(setup["shop"], version, finished_at=timezone.now() - timedelta(days=2))
    too_early = visit_payload(setup["shop"], version, finished_at=timezone.now() - timedelta(days=20))
    results = sync(api, setup["inspector"], [ok, too_early])
    assert results[0]["status"] == "created"
    assert results[1]["errors"][0]["type"] == "retired_version"


def test_clocks(api, setup):
    now = timezone.now()
    shop_, version = setup["shop"], setup["version"]
    cases = [
        visit_payload(shop_, version, finished_at=now - timedelta(days=5)),  # offline for days: fine
        visit_payload(shop_, version, finished_at=now + timedelta(minutes=5)),  # within the skew: fine
        visit_payload(shop_, version, finished_at=now + timedelta(hours=3)),
        visit_payload(shop_, version, finished_at=now - timedelta(days=61)),
        visit_payload(shop_, version, minutes=-5),
    ]
    results = sync(api, setup["inspector"], cases)
    assert [r["status"] for r in results] == ["created", "created", "rejected", "rejected", "rejected"]
    assert [r["errors"][0]["type"] for r in results[2:]] == ["clock_future", "clock_too_old", "clock_order"]
    old = Visit.objects.get(pk=results[0]["visit_id"])
    assert (old.received_at - old.finished_at) > timedelta(days=4)  # both clocks stored


def test_the_old_visit_error_names_the_limit_and_the_setting(api, setup, settings):
    """Item 10: "too old" alone left the inspector and the admin guessing which limit, set where."""
    settings.VISIT_MAX_AGE = timedelta(days=45)
    old = visit_payload(setup["shop"], setup["version"], finished_at=timezone.now() - timedelta(days=46))
    error = sync(api, setup["inspector"], [old])[0]["errors"][0]
    assert error["type"] == "clock_too_old"
    assert "45 days" in error["msg"] and "VISIT_MAX_AGE_DAYS" in error["msg"]


def test_outcome_must_match_answers(api, setup):
    shop_, version = setup["shop"], setup["version"]
    cases = [
        visit_payload(shop_, version, outcome="violations"),
        visit_payload(shop_, version, outcome="compliant", MASKS="no"),
        {**visit_payload(shop_, version, outcome="closed"), "answers": []},
        {**visit_payload(shop_, version, outcome="refused_entry"), "answers": []},
        visit_payload(shop_, version, outcome="closed", MASKS="no"),
    ]
    results = sync(api, setup["inspector"], cases)
    assert [r["status"] for r in results] == ["rejected", "rejected", "created", "created", "rejected"]
    assert {e["type"] for r in (results[0], results[1], results[4]) for e in r["errors"]} == {"outcome_mismatch"}


def test_round_stop_checks_and_visited(api, setup, dammam):
    inspector, version = setup["inspector"], setup["version"]
    round_ = RoundFactory(municipality=dammam, inspector=inspector, checklist=version.checklist)
    stop = RoundStopFactory(round=round_, establishment=setup["shop"])
    other_shop_stop = RoundStopFactory(round=round_, establishment=shop(dammam))
    cancelled = RoundStopFactory(round=round_, establishment=setup["shop"], status=RoundStop.Status.CANCELLED)
    someone_else = RoundStopFactory(
        round=RoundFactory(municipality=dammam, inspector=make_user("inspector", dammam), checklist=version.checklist),
        establishment=setup["shop"],
    )
    cases = [
        visit_payload(setup["shop"], version, round_stop=stop),
        visit_payload(setup["shop"], version, round_stop=other_shop_stop),
        visit_payload(setup["shop"], version, round_stop=cancelled),
        visit_payload(setup["shop"], version, round_stop=someone_else),
    ]
    results = sync(api, inspector, cases)
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected"]
    assert [r["errors"][0]["type"] for r in results[1:]] == [
        "round_stop_mismatch",
        "round_stop_cancelled",
        "unknown_round_stop",
    ]
    stop.refresh_from_db()
    assert stop.status == RoundStop.Status.VISITED
    assert Visit.objects.get(pk=results[0]["visit_id"]).round_stop_id == stop.id


def test_visit_client_id_is_a_uuid_everywhere(api, setup):
    client_id = uuid.uuid4()
    (result,) = sync(api, setup["inspector"], [visit_payload(setup["shop"], setup["version"], client_id=client_id)])
    assert result["client_id"] == str(client_id)
    assert Visit.objects.get(client_id=client_id).pk == result["visit_id"]
