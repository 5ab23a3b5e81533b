"""Indicator targets per scope (issue 16): a municipality's own target, else its Amanah's, else the
national default, in the JSON table, the CSV and the PDF; who may set and remove them, and bad input.

The October 2026 world of test_analytics_indicators (figures by hand there), with Khobar given two
active shops, one inspected in October, so both siblings have a coverage of 0.5:
- Dammam: 2 of 4 active shops inspected = 0.5; Khobar: 1 of 2 = 0.5; the Amanah (and the whole
  scope): 3 of 6 = 0.5.
- Targets for coverage: national 0.9 (margin 0), the Amanah 0.6 (margin 0.05), Dammam its own 0.45.
  Dammam: 0.5 >= 0.45, green (its own). Khobar inherits the Amanah's: 0.5 is 0.1 under 0.6, beyond the
  0.05 margin, red. The violation rate has only a national target, 0.3 with margin 0.1: Dammam's 2 of
  4 = 0.5 is red against it, Khobar's 0 of 1 is green.
"""

import csv
import io
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from analytics.indicators import INDICATORS
from analytics.models import IndicatorTarget
from analytics.targets import TargetBook
from inspections.models import AuditEvent, Membership, Visit
from tests.factories import (
    AmanahFactory,
    EstablishmentFactory,
    MunicipalityFactory,
    UserFactory,
    VisitFactory,
    make_user,
)
from tests.test_analytics_indicators import at, by_key, table, world  # noqa: F401 - the hand-computed world
from tests.test_analytics_indicators_pdf import contains, pdf_text


@pytest.fixture
def siblings(world, khobar, amanah):  # noqa: F811
    inspector = make_user(Membership.Role.INSPECTOR, khobar, username="i_khobar")
    seen = EstablishmentFactory(municipality=khobar, risk_score=10)
    EstablishmentFactory(municipality=khobar, risk_score=10)
    VisitFactory(establishment=seen, inspector=inspector, outcome=Visit.Outcome.COMPLIANT, finished_at=at(2026, 10, 9))
    return world


def put(client, code: str, body: dict):
    return client.raw("PUT", f"analytics/indicators/targets/{code}", json.dumps(body).encode())


@pytest.fixture
def targets(api, admin_user, siblings, amanah):
    admin = api.as_user(admin_user)
    dammam = siblings["dammam"]
    for code, body in (
        ("coverage", {"target": 0.9}),  # no municipality: the national default, as before scopes
        ("coverage", {"target": 0.6, "amber_margin": 0.05, "municipality": amanah.id}),
        ("coverage", {"target": 0.45, "municipality": dammam.id}),
        ("violation_rate", {"target": 0.3, "amber_margin": 0.1}),
    ):
        response = put(admin, code, body)
        assert response.status_code == 200, response.content
        assert response.json()["municipality"] == body.get("municipality")
    return admin


def test_a_municipality_with_its_own_target_gets_another_light_than_its_sibling(api, leader, targets, amanah, siblings):
    rows = by_key(table(api.as_user(leader), month="2026-10"))
    dammam_id = siblings["dammam"].id
    dammam, khobar = rows[str(dammam_id)], rows[str(siblings["khobar"].id)]
    assert dammam["coverage"]["value"] == khobar["coverage"]["value"] == 0.5
    assert {name: dammam["coverage"][name] for name in ("target", "target_scope", "target_scope_label", "light")} == {
        "target": 0.45, "target_scope": dammam_id, "target_scope_label": "Dammam", "light": "green"
    }  # fmt: skip
    assert {name: khobar["coverage"][name] for name in ("target", "amber_margin", "target_scope", "light")} == {
        "target": 0.6, "amber_margin": 0.05, "target_scope": amanah.id, "light": "red"
    }  # fmt: skip
    assert khobar["coverage"]["target_scope_label"] == "Eastern Province Amanah"
    # Only a national target for the violation rate: both take it, labelled "National".
    for row, light in ((dammam, "red"), (khobar, "green")):
        assert (row["violation_rate"]["target"], row["violation_rate"]["target_scope"]) == (0.3, None)
        assert (row["violation_rate"]["target_scope_label"], row["violation_rate"]["light"]) == ("National", light)
    assert dammam["follow_ups_on_time"]["target"] is None and dammam["follow_ups_on_time"]["target_scope_label"] is None


def test_amanah_total_and_chosen_scope_rows_take_their_own_scopes_target(api, leader, targets, amanah, siblings):
    client = api.as_user(leader)
    amanah_row = table(client, month="2026-10", group_by="amanah")["rows"][0]
    assert (amanah_row["scope"], amanah_row["scope_label"]) == (amanah.id, "Eastern Province Amanah")
    coverage = amanah_row["indicators"]["coverage"]
    assert (coverage["value"], coverage["target"], coverage["target_scope"], coverage["light"]) == (
        0.5, 0.6, amanah.id, "red"
    )  # fmt: skip
    # The leader's whole scope is the Amanah's municipalities: the total is held to the Amanah's target.
    total = table(client, month="2026-10", group_by="total")["rows"][0]
    assert total["scope"] == amanah.id and total["indicators"]["coverage"]["target"] == 0.6
    # Narrowed to Dammam, the total is Dammam's figure and target.
    dammam = siblings["dammam"]
    only = table(client, month="2026-10", group_by="total", municipality=dammam.id)["rows"][0]
    assert only["scope"] == dammam.id and only["indicators"]["coverage"]["light"] == "green"


def test_the_ministrys_total_over_two_amanahs_takes_the_national_target(api, targets):
    other = AmanahFactory(code="RIYADH-AMANAH", name_ar="أمانة الرياض", name_en="Riyadh Amanah")
    MunicipalityFactory(parent=other, name_en="Olaya")
    ministry = make_user(Membership.Role.LEADERSHIP, username="ministry", national=True)
    total = table(api.as_user(ministry), month="2026-10", group_by="total")["rows"][0]
    assert (total["scope"], total["scope_label"]) == (None, "National")
    coverage = total["indicators"]["coverage"]
    # 3 of 6 shops (Olaya has none) against the national 0.9: red, set nationally.
    assert (coverage["value"], coverage["target"], coverage["target_scope"], coverage["light"]) == (
        0.5, 0.9, None, "red"
    )  # fmt: skip
    by_amanah = {row["label"]: row["indicators"]["coverage"] for row in table(
        api.as_user(ministry), month="2026-10", group_by="amanah")["rows"]}  # fmt: skip
    assert by_amanah["Riyadh Amanah"]["target"] == 0.9  # no target of its own: the national default
    assert by_amanah["Riyadh Amanah"]["light"] is None  # no shops, no value, no light


def test_removing_a_scoped_target_falls_back_to_the_parents(api, leader, targets, amanah, siblings):
    dammam = siblings["dammam"]
    response = targets.delete(f"analytics/indicators/targets/coverage?municipality={dammam.id}")
    assert response.status_code == 204, response.content
    coverage = by_key(table(api.as_user(leader), month="2026-10"))[str(dammam.id)]["coverage"]
    assert (coverage["target"], coverage["target_scope"], coverage["light"]) == (0.6, amanah.id, "red")
    assert targets.delete(f"analytics/indicators/targets/coverage?municipality={amanah.id}").status_code == 204
    coverage = by_key(table(api.as_user(leader), month="2026-10"))[str(dammam.id)]["coverage"]
    assert (coverage["target"], coverage["target_scope"], coverage["light"]) == (0.9, None, "red")
    assert AuditEvent.objects.filter(action="indicator.target_delete").count() == 2
    # Twice is a 404: the scope has no target of its own any more.
    again = targets.delete(f"analytics/indicators/targets/coverage?municipality={dammam.id}")
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_a_municipality_without_establishments_and_an_empty_month_still_resolve(api, leader, targets, amanah, world):  # noqa: F811
    qatif = MunicipalityFactory(parent=amanah, code="QATIF", name_en="Qatif", name_ar="القطيف")
    assert put(targets, "coverage", {"target": 0.2, "municipality": qatif.id}).status_code == 200
    leader_all = api.as_user(make_user(Membership.Role.LEADERSHIP, username="leader2", amanah=amanah))
    coverage = by_key(table(leader_all, month="2026-10"))[str(qatif.id)]["coverage"]
    assert (coverage["value"], coverage["denominator"], coverage["target"], coverage["target_scope"]) == (
        None, 0, 0.2, qatif.id
    )  # fmt: skip
    assert coverage["light"] is None  # a target but no value: no light
    # January 2025 has no visits: Dammam's 4 active shops, none inspected, 0.0 against its own 0.45.
    empty = by_key(table(api.as_user(leader), month="2025-01"))[str(world["dammam"].id)]
    assert (empty["coverage"]["value"], empty["coverage"]["target"], empty["coverage"]["light"]) == (0.0, 0.45, "red")
    assert (empty["violation_rate"]["value"], empty["violation_rate"]["target"]) == (None, 0.3)
    assert empty["violation_rate"]["light"] is None


def test_the_csv_carries_the_resolved_target_and_its_scope(api, leader, targets, amanah, siblings):
    response = api.as_user(leader).get("analytics/indicators.csv", {"month": "2026-10"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = response.content.decode("utf-8-sig").splitlines()[0]
    # The old twelve columns first, unchanged, then the margin and the target's scope.
    assert header == (
        "calendar,period,group,label,indicator,value,ci_low,ci_high,numerator,denominator,target,light,"
        "amber_margin,target_scope,target_scope_label"
    )
    assert len(rows) == 2 * len(INDICATORS)
    coverage = {row["label"]: row for row in rows if row["indicator"] == "coverage"}
    dammam, khobar = coverage["Dammam"], coverage["Khobar"]
    assert (dammam["target"], dammam["light"], dammam["target_scope"], dammam["target_scope_label"]) == (
        "0.45", "green", str(siblings["dammam"].id), "Dammam"
    )  # fmt: skip
    assert (khobar["target"], khobar["light"], khobar["target_scope"], khobar["amber_margin"]) == (
        "0.6", "red", str(amanah.id), "0.05"
    )  # fmt: skip
    violation = next(row for row in rows if row["label"] == "Dammam" and row["indicator"] == "violation_rate")
    assert (violation["target"], violation["target_scope"], violation["target_scope_label"]) == ("0.3", "", "National")


def test_the_pdf_carries_the_resolved_target_and_where_it_was_set(api, leader, targets, siblings):
    response = api.as_user(leader).get("analytics/indicators.pdf", {"month": "2026-10"})
    assert response.status_code == 200, response.content
    text = pdf_text(response.content)
    assert contains(text, "مصدر الهدف")
    # Dammam's own 45% and the Amanah's 60% for Khobar (coverage); the national 30% (violation rate).
    assert "45.0%" in text and "60.0%" in text and "30.0%" in text
    # The national default's origin, in words: Dammam's and Khobar's violation rate, and the footnote
    # (extraction may hand a short right-to-left cell back in visual order: "نيوط").
    assert text.count("وطني") + text.count("نيوط") >= 4, text
    assert contains(text, "يحقق الهدف") and contains(text, "دون الهدف")


@pytest.mark.parametrize(
    ("code", "body", "status"),
    [
        ("nonsense", {"target": 0.5, "municipality": "amanah"}, 404),
        ("coverage", {"target": 0.5, "municipality": 999_999}, 422),  # no such municipality
        ("coverage", {"target": 0.5, "amber_margin": -0.1, "municipality": "dammam"}, 422),
        ("coverage", {"target": 1.5, "municipality": "dammam"}, 400),  # a proportion is a share
        ("coverage", {"target": 0.5, "municipality": "abc"}, 422),
        ("coverage", {"target": 0.5, "municipality": 1.5}, 422),
        ("coverage", {"target": 0.5, "municipality": True}, 422),
        ("coverage", {"target": 0.5, "municipality": 0}, 422),
        ("coverage", {"target": 0.5, "municipality": -3}, 422),
        ("coverage", {"target": "0.5", "municipality": "dammam"}, 422),  # strict: a string is not a number
        ("coverage", {"municipality": "dammam"}, 422),  # no target
        ("coverage", {"target": 0.5, "scope": "dammam"}, 422),  # unknown field
    ],
)
def test_bad_scoped_targets_write_nothing(api, admin_user, targets, amanah, siblings, code, body, status):
    ids = {"amanah": amanah.id, "dammam": siblings["dammam"].id}
    body = {key: ids.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    before = list(IndicatorTarget.objects.order_by("pk").values_list("code", "municipality_id", "target"))
    audits = AuditEvent.objects.count()
    response = put(api.as_user(admin_user), code, body)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert {"detail", "code"} <= response.json().keys()
    assert list(IndicatorTarget.objects.order_by("pk").values_list("code", "municipality_id", "target")) == before
    assert AuditEvent.objects.count() == audits


@pytest.mark.parametrize(
    ("who", "method", "query", "status"),
    [
        ("admin_user", "DELETE", "?municipality=999999", 422),  # unknown municipality
        ("admin_user", "DELETE", "?municipality=abc", 422),
        ("admin_user", "DELETE", "?municipality=0", 422),
        ("admin_user", "DELETE", "?municipality=khobar", 404),  # Khobar has no target of its own
        ("leader", "DELETE", "?municipality=dammam", 403),  # leadership reads targets, admins set them
        ("leader", "PUT", "dammam", 403),
        ("ministry", "PUT", "", 403),
        ("supervisor", "PUT", "dammam", 403),  # their own municipality: still not theirs to set
        ("supervisor", "PUT", "khobar", 403),  # another municipality: the same answer, nothing confirmed
        ("supervisor", "DELETE", "?municipality=khobar", 403),
    ],
)
def test_who_may_set_and_remove_scoped_targets(api, request, targets, amanah, siblings, who, method, query, status):
    user = (
        make_user(Membership.Role.LEADERSHIP, username="ministry", national=True)
        if who == "ministry"
        else request.getfixturevalue(who)
    )
    ids = {"dammam": siblings["dammam"].id, "khobar": siblings["khobar"].id}
    before = list(IndicatorTarget.objects.order_by("pk").values_list("code", "municipality_id", "target"))
    client = api.as_user(user)
    if method == "DELETE":
        for name, pk in ids.items():
            query = query.replace(name, str(pk))
        response = client.delete(f"analytics/indicators/targets/coverage{query}")
    else:
        body = {"target": 0.1} | ({"municipality": ids[query]} if query else {})
        response = put(client, "coverage", body)
    assert response.status_code == status, response.content
    assert {"detail", "code"} <= response.json().keys()
    assert list(IndicatorTarget.objects.order_by("pk").values_list("code", "municipality_id", "target")) == before


def test_unknown_code_on_delete_is_404(api, admin_user, world):  # noqa: F811
    response = api.as_user(admin_user).delete("analytics/indicators/targets/nonsense")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_setting_a_scope_again_replaces_its_target_and_is_audited(api, admin_user, targets, siblings):
    dammam = siblings["dammam"]
    assert put(targets, "coverage", {"target": 0.55, "amber_margin": 0.1, "municipality": dammam.id}).status_code == 200
    assert IndicatorTarget.objects.filter(code="coverage").count() == 3  # national, Amanah, Dammam: replaced
    assert IndicatorTarget.objects.get(code="coverage", municipality=dammam).target == 0.55
    assert put(targets, "coverage", {"target": 0.8}).status_code == 200  # the national default again
    assert IndicatorTarget.objects.get(code="coverage", municipality=None).target == 0.8
    event = AuditEvent.objects.filter(action="indicator.target_set").order_by("pk")[4]
    assert event.details["scope"] == dammam.id and event.municipality_id == dammam.id


@pytest.mark.django_db
def test_one_target_per_indicator_and_scope_the_national_one_included(dammam):
    IndicatorTarget.objects.create(code="coverage", target=0.5)
    IndicatorTarget.objects.create(code="coverage", municipality=dammam, target=0.6)
    for scope in (None, dammam):
        with pytest.raises(IntegrityError), transaction.atomic():
            IndicatorTarget.objects.create(code="coverage", municipality=scope, target=0.7)


def test_resolution_walks_up_the_chain_then_to_the_national_default():
    """Pure: no database. A three-level tree (region 1 > Amanah 2 > municipalities 3, 4)."""
    national = IndicatorTarget(code="coverage", target=0.9)
    region = IndicatorTarget(code="coverage", municipality_id=1, target=0.8)
    own = IndicatorTarget(code="coverage", municipality_id=3, target=0.7)
    book = TargetBook(
        targets={("coverage", None): national, ("coverage", 1): region, ("coverage", 3): own},
        parents={1: None, 2: 1, 3: 2, 4: 2, 5: None},
        names={1: ("منطقة", "Region"), 2: ("أمانة", "Amanah"), 3: ("أ", "A"), 4: ("ب", "B"), 5: ("ج", "C")},
    )
    assert book.chain(4) == [4, 2, 1, None]
    assert book.resolve(code="coverage", scope_id=3) is own
    assert book.resolve(code="coverage", scope_id=4) is region  # the Amanah has none: its parent's
    assert book.resolve(code="coverage", scope_id=5) is national
    assert book.resolve(code="coverage", scope_id=None) is national
    assert book.resolve(code="violation_rate", scope_id=3) is None
    assert book.common_scope([3]) == 3 and book.common_scope([3, 4]) == 2 and book.common_scope([3, 5]) is None
    assert book.common_scope([]) is None
    looped = TargetBook(targets={}, parents={7: 8, 8: 7}, names={})  # bad data ends the walk, no hang
    assert looped.chain(7) == [7, 8, None]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_existing_targets_as_national_defaults():
    executor = MigrationExecutor(connection)
    executor.migrate([("analytics", "0006_rollup_pending")])
    old = executor.loader.project_state([("analytics", "0006_rollup_pending")]).apps
    old.get_model("analytics", "IndicatorTarget").objects.create(code="coverage", target=0.7, amber_margin=0.1)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    (row,) = IndicatorTarget.objects.all()
    assert (row.code, row.municipality_id, row.target, row.amber_margin) == ("coverage", None, 0.7, 0.1)


def test_the_admin_lists_targets_with_their_scope_read_only(targets, siblings):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:analytics_indicatortarget_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "National" in html and "Eastern Province Amanah" in html and "Dammam" in html
    assert client.get(reverse("admin:analytics_indicatortarget_changelist"), {"q": "Dammam"}).status_code == 200
    assert client.get(reverse("admin:analytics_indicatortarget_add")).status_code == 403
    row = IndicatorTarget.objects.get(code="coverage", municipality=siblings["dammam"])
    delete = client.post(reverse("admin:analytics_indicatortarget_delete", args=[row.pk]), {"post": "yes"})
    assert delete.status_code == 403 and IndicatorTarget.objects.filter(pk=row.pk).exists()


def test_an_unknown_scope_is_named_where_the_client_sent_it(api, admin_user, targets, siblings):
    """The PUT's municipality is in its body, the DELETE's in its query: the 422 points there."""
    client = api.as_user(admin_user)
    put_error = put(client, "coverage", {"target": 0.5, "municipality": 999_999}).json()
    delete_error = client.delete("analytics/indicators/targets/coverage?municipality=999999").json()
    assert [error["loc"] for error in put_error["errors"]] == [["body", "municipality"]]
    assert [error["loc"] for error in delete_error["errors"]] == [["query", "municipality"]]
