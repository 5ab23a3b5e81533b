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
from django.utils import translation

from analytics.indicators import INDICATORS
from analytics.models import IndicatorTarget
from analytics.services import indicator_target_set
from analytics.targets import TargetBook
from backend.exceptions import ApplicationError
from inspections.models import AuditEvent, Membership, Visit
from inspections.selectors.scope import Role, Scope
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
    # The old twelve columns first, unchanged, then the margin and the target's scope, then its class.
    assert header == (
        "calendar,period,group,label,indicator,value,ci_low,ci_high,numerator,denominator,target,light,"
        "amber_margin,target_scope,target_scope_label,target_class"
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
    assert {row["target_class"] for row in rows} == {""}  # no class targets here


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
    assert row.municipality_class == ""


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


# --- Targets per municipality class ---------------------------------------------------------------
# The same October world. Khobar is class C; Dammam stays class A (the default). Figures: Dammam's and
# Khobar's coverage 0.5 each, the Amanah's 3 of 6 = 0.5. A class-C coverage target of 0.4: Khobar's 0.5
# meets it; a class-C target of 0.55 (margin 0.1): 0.05 under, within the margin, amber.


def test_class_targets_resolve_below_own_and_amanah_and_above_national():
    """Pure: no database. Amanah 2 > municipalities 3 (class C, its own target), 4 (class C); Amanah 7
    > municipalities 6 (class E), 8 (class C). Targets: national 0.9, Amanah 2 0.6, municipality 3 0.45,
    class C 0.5. Own beats the Amanah's, which beats the class's, which beats the national default."""
    national = IndicatorTarget(code="coverage", target=0.9)
    amanah = IndicatorTarget(code="coverage", municipality_id=2, target=0.6)
    own = IndicatorTarget(code="coverage", municipality_id=3, target=0.45)
    class_c = IndicatorTarget(code="coverage", municipality_class="C", target=0.5)
    book = TargetBook(
        targets={("coverage", None): national, ("coverage", 2): amanah, ("coverage", 3): own},
        parents={2: None, 3: 2, 4: 2, 6: 7, 7: None, 8: 7},
        names={2: ("أمانة", "Amanah"), 3: ("أ", "A"), 4: ("ب", "B"), 6: ("د", "D"), 7: ("ج", "J"), 8: ("ح", "H")},
        class_targets={("coverage", "C"): class_c},
        classes={3: "C", 4: "C", 6: "E", 8: "C"},  # Amanahs have no class
    )
    assert book.resolve(code="coverage", scope_id=3) is own  # own beats all
    assert book.resolve(code="coverage", scope_id=4) is amanah  # the Amanah's beats the class's
    assert book.resolve(code="coverage", scope_id=8) is class_c  # no own, no Amanah target: its class's
    assert book.resolve(code="coverage", scope_id=6) is national  # class E has no target: national
    # An Amanah's figure takes no class target: 7 has none of its own, so the national default.
    assert book.resolve(code="coverage", scope_id=7) is national
    assert book.resolve(code="coverage", scope_id=None) is national
    assert book.scope_class(7) is None and book.scope_class(None) is None and book.scope_class(8) == "C"
    # A class row passes its class: the nation's class-C figure takes the class C target.
    assert book.resolve(code="coverage", scope_id=None, municipality_class="C") is class_c
    assert book.resolve(code="coverage", scope_id=None, municipality_class="E") is national
    assert book.resolve(code="violation_rate", scope_id=8) is None
    with translation.override("en"):  # outside a request the active language is whatever ran before
        _target, fields = book.figure_target(code="coverage", scope_id=8)
        assert fields == {
            "target": 0.5, "amber_margin": 0.0, "target_scope": None, "target_class": "C",
            "target_scope_label": "Class C",
        }  # fmt: skip
        _target, fields = book.figure_target(code="coverage", scope_id=6)
        assert (fields["target_scope"], fields["target_class"], fields["target_scope_label"]) == (
            None,
            None,
            "National",
        )
    with translation.override("ar"):
        assert book.figure_target(code="coverage", scope_id=8)[1]["target_scope_label"] == "الفئة C"


@pytest.fixture
def class_c(siblings):
    khobar = siblings["khobar"]
    khobar.municipality_class = "C"
    khobar.save()
    return siblings


def test_a_class_target_reaches_a_class_c_municipality_once_its_amanah_has_none(api, leader, targets, amanah, class_c):
    dammam, khobar = class_c["dammam"], class_c["khobar"]
    response = put(targets, "coverage", {"target": 0.4, "municipality_class": "C"})
    assert response.status_code == 200, response.content
    assert response.json() == {"code": "coverage", "target": 0.4, "amber_margin": 0.0, "municipality": None,
                               "municipality_class": "C"}  # fmt: skip
    client = api.as_user(leader)
    # The Amanah's 0.6 still beats Khobar's class target: 0.5 is red against it.
    coverage = by_key(table(client, month="2026-10"))[str(khobar.id)]["coverage"]
    assert (coverage["target"], coverage["target_scope"], coverage["target_class"], coverage["light"]) == (
        0.6, amanah.id, None, "red"
    )  # fmt: skip
    assert targets.delete(f"analytics/indicators/targets/coverage?municipality={amanah.id}").status_code == 204
    body = table(client, month="2026-10")
    rows = {row["key"]: row for row in body["rows"]}
    coverage = rows[str(khobar.id)]["indicators"]["coverage"]
    # Without the Amanah's: class C's 0.4, met by 0.5.
    assert {name: coverage[name] for name in ("target", "target_scope", "target_class", "target_scope_label")} == {
        "target": 0.4, "target_scope": None, "target_class": "C", "target_scope_label": "Class C"
    }  # fmt: skip
    assert coverage["light"] == "green" and rows[str(khobar.id)]["scope_class"] == "C"
    # Dammam (class A) keeps its own 0.45; the violation rate has no class target: national for both.
    assert rows[str(dammam.id)]["indicators"]["coverage"]["target"] == 0.45
    assert rows[str(dammam.id)]["scope_class"] == "A"
    assert rows[str(khobar.id)]["indicators"]["violation_rate"]["target_scope_label"] == "National"
    # Dammam's own removed: class A has no target, so the national 0.9 (red), not class C's.
    assert targets.delete(f"analytics/indicators/targets/coverage?municipality={dammam.id}").status_code == 204
    coverage = by_key(table(client, month="2026-10"))[str(dammam.id)]["coverage"]
    assert (coverage["target"], coverage["target_class"], coverage["light"]) == (0.9, None, "red")
    # In Arabic, the class target's origin reads "الفئة C".
    client.language = "ar"
    arabic = by_key(table(client, month="2026-10"))[str(khobar.id)]["coverage"]
    assert arabic["target_scope_label"] == "الفئة C"


def test_an_amanah_row_and_its_total_take_no_class_target(api, leader, targets, amanah, class_c):
    """Both Dammam and Khobar class C, class C's coverage 0.55 (margin 0.1), the Amanah's own removed:
    each municipality takes class C's (0.5: amber), but the Amanah row and the leader's total (whose
    common scope is the Amanah) take the national 0.9 (red): classes are a municipality's."""
    dammam = class_c["dammam"]
    dammam.municipality_class = "C"
    dammam.save()
    assert put(targets, "coverage", {"target": 0.55, "amber_margin": 0.1, "municipality_class": "C"}).status_code == 200
    for scope in (amanah.id, dammam.id):
        assert targets.delete(f"analytics/indicators/targets/coverage?municipality={scope}").status_code == 204
    client = api.as_user(leader)
    for row in table(client, month="2026-10")["rows"]:
        coverage = row["indicators"]["coverage"]
        assert (coverage["target"], coverage["target_class"], coverage["light"]) == (0.55, "C", "amber")
    for group_by in ("amanah", "total"):
        (row,) = table(client, month="2026-10", group_by=group_by)["rows"]
        coverage = row["indicators"]["coverage"]
        assert (row["scope"], row["scope_class"]) == (amanah.id, None)
        assert (coverage["value"], coverage["target"], coverage["target_class"], coverage["light"]) == (
            0.5, 0.9, None, "red"
        )  # fmt: skip
    # Narrowed to Dammam, the total is Dammam's: its class's target.
    (only,) = table(client, month="2026-10", group_by="total", municipality=dammam.id)["rows"]
    assert (only["scope"], only["scope_class"]) == (dammam.id, "C")
    assert only["indicators"]["coverage"]["target_class"] == "C"


def test_rows_per_class_take_their_class_target(api, leader, targets, amanah, class_c):
    """group_by=municipality_class: Dammam alone is class A, Khobar alone class C. A class row's
    scope is its members' common scope, so its own targets come first (Dammam's 0.45), then its
    Amanah's (0.6), then the class's. The ministry's class C over two Amanahs: the nation, class C's."""
    dammam, khobar = class_c["dammam"], class_c["khobar"]
    assert put(targets, "coverage", {"target": 0.4, "municipality_class": "C"}).status_code == 200
    rows = {
        row["key"]: row for row in table(api.as_user(leader), month="2026-10", group_by="municipality_class")["rows"]
    }
    assert set(rows) == {"A", "C"} and (rows["A"]["label"], rows["C"]["label"]) == ("Class A", "Class C")
    assert (rows["A"]["scope"], rows["A"]["scope_class"], rows["C"]["scope"], rows["C"]["scope_class"]) == (
        dammam.id, "A", khobar.id, "C"
    )  # fmt: skip
    assert rows["A"]["indicators"]["coverage"]["target"] == 0.45  # Dammam's own
    assert rows["C"]["indicators"]["coverage"]["target_scope"] == amanah.id  # Khobar's Amanah's 0.6
    # The CSV and the Arabic PDF take the same grouping: one group per class.
    csv_lines = api.as_user(leader).get(
        "analytics/indicators.csv", {"month": "2026-10", "group_by": "municipality_class"}
    )
    assert {line.split(",")[2] for line in csv_lines.content.decode("utf-8-sig").splitlines()[1:]} == {"A", "C"}
    pdf = api.as_user(leader).get("analytics/indicators.pdf", {"month": "2026-10", "group_by": "municipality_class"})
    assert pdf.status_code == 200 and contains(pdf_text(pdf.content), "الفئة C")
    other = AmanahFactory(code="RIYADH-AMANAH", name_ar="أمانة الرياض", name_en="Riyadh Amanah")
    MunicipalityFactory(parent=other, name_en="Olaya", municipality_class="C")
    ministry = make_user(Membership.Role.LEADERSHIP, username="ministry", national=True)
    rows = {
        row["key"]: row for row in table(api.as_user(ministry), month="2026-10", group_by="municipality_class")["rows"]
    }
    coverage = rows["C"]["indicators"]["coverage"]
    # Khobar's 1 of 2 and Olaya's none: 0.5 against class C's 0.4, green; scope the nation.
    assert (rows["C"]["scope"], coverage["value"], coverage["target"], coverage["target_class"], coverage["light"]) == (
        None, 0.5, 0.4, "C", "green"
    )  # fmt: skip


def test_the_csv_ends_each_line_with_the_targets_class(api, leader, targets, amanah, class_c):
    assert put(targets, "coverage", {"target": 0.4, "municipality_class": "C"}).status_code == 200
    assert targets.delete(f"analytics/indicators/targets/coverage?municipality={amanah.id}").status_code == 204
    response = api.as_user(leader).get("analytics/indicators.csv", {"month": "2026-10"})
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][-3:] == ["target_scope", "target_scope_label", "target_class"]
    coverage = {line[3]: line for line in lines[1:] if line[4] == "coverage"}
    assert coverage["Khobar"][-6:] == ["0.4", "green", "0.0", "", "Class C", "C"]
    assert coverage["Dammam"][-6:] == ["0.45", "green", "0.0", str(class_c["dammam"].id), "Dammam", ""]


def test_the_pdf_names_a_class_target_as_its_origin(api, leader, targets, amanah, class_c):
    assert put(targets, "coverage", {"target": 0.4, "municipality_class": "C"}).status_code == 200
    assert targets.delete(f"analytics/indicators/targets/coverage?municipality={amanah.id}").status_code == 204
    response = api.as_user(leader).get("analytics/indicators.pdf", {"month": "2026-10"})
    assert response.status_code == 200, response.content
    text = pdf_text(response.content)
    assert "40.0%" in text and (contains(text, "الفئة C") or contains(text, "C الفئة")), text


def test_class_targets_are_set_replaced_removed_and_audited(api, admin_user, targets, class_c):
    assert put(targets, "coverage", {"target": 0.4, "municipality_class": "C"}).status_code == 200
    assert (
        put(targets, "coverage", {"target": 0.45, "amber_margin": 0.05, "municipality_class": "C"}).status_code == 200
    )
    row = IndicatorTarget.objects.get(code="coverage", municipality_class="C")
    assert (row.municipality_id, row.target, row.amber_margin) == (None, 0.45, 0.05)
    assert IndicatorTarget.objects.get(code="coverage", municipality=None, municipality_class="").target == 0.9
    event = AuditEvent.objects.filter(action="indicator.target_set").latest("pk")
    assert (event.details["class"], event.details["scope"], event.municipality_id) == ("C", None, None)
    assert AuditEvent.objects.filter(action="indicator.target_set").order_by("pk").first().details["class"] is None
    assert targets.delete("analytics/indicators/targets/coverage?municipality_class=C").status_code == 204
    assert not IndicatorTarget.objects.filter(municipality_class="C").exists()
    event = AuditEvent.objects.filter(action="indicator.target_delete").latest("pk")
    assert (event.details["class"], event.details["target"]) == ("C", 0.45)
    # The national default was untouched; a second removal is a 404.
    assert IndicatorTarget.objects.filter(code="coverage", municipality=None, municipality_class="").exists()
    again = targets.delete("analytics/indicators/targets/coverage?municipality_class=C")
    assert again.status_code == 404 and again.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        ({"target": 0.5, "municipality_class": "C", "municipality": "dammam"}, 422, ["body", "municipality_class"]),
        ({"target": 0.5, "municipality_class": "F"}, 422, ["body", "municipality_class"]),
        ({"target": 0.5, "municipality_class": "c"}, 422, ["body", "municipality_class"]),
        ({"target": 0.5, "municipality_class": "CC"}, 422, ["body", "municipality_class"]),
        ({"target": 0.5, "municipality_class": 3}, 422, ["body", "municipality_class"]),
        ({"target": 1.5, "municipality_class": "C"}, 400, None),  # a proportion is a share
    ],
)
def test_bad_class_targets_write_nothing(api, admin_user, targets, siblings, body, status, loc):
    body = {key: siblings["dammam"].id if value == "dammam" else value for key, value in body.items()}
    before = list(IndicatorTarget.objects.order_by("pk").values_list("code", "municipality_id", "municipality_class"))
    audits = AuditEvent.objects.count()
    response = put(api.as_user(admin_user), "coverage", body)
    assert response.status_code == status, response.content
    answer = response.json()
    assert {"detail", "code"} <= answer.keys()
    if loc is not None:  # ninja names the body parameter ("payload") between; the service does not
        assert [(error["loc"][0], error["loc"][-1]) for error in answer["errors"]] == [tuple(loc)], answer
    after = list(IndicatorTarget.objects.order_by("pk").values_list("code", "municipality_id", "municipality_class"))
    assert after == before and AuditEvent.objects.count() == audits


@pytest.mark.parametrize(
    ("query", "status", "loc"),
    [
        ("?municipality_class=F", 422, ["query", "municipality_class"]),
        ("?municipality_class=C&municipality=dammam", 422, ["query", "municipality_class"]),
        ("?municipality_class=C", 404, None),  # no class C target
    ],
)
def test_bad_class_removals_remove_nothing(api, admin_user, targets, siblings, query, status, loc):
    before = IndicatorTarget.objects.count()
    response = api.as_user(admin_user).delete(
        "analytics/indicators/targets/coverage" + query.replace("dammam", str(siblings["dammam"].id))
    )
    assert response.status_code == status, response.content
    if loc is not None:
        assert loc in [error["loc"] for error in response.json()["errors"]]
    assert IndicatorTarget.objects.count() == before


def test_both_scopes_are_refused_by_the_service_too(admin_user, targets, siblings):
    """The API's pattern stops a bad class first; the service refuses on its own (admin, tasks)."""
    for kwargs in ({"municipality_class": "F"}, {"municipality_class": "C", "municipality_id": siblings["dammam"].id}):
        with pytest.raises(ApplicationError) as refused:
            indicator_target_set(actor=admin_user, code="coverage", target=0.5, **kwargs)
        assert refused.value.status == 422
        assert refused.value.extra["errors"][0]["loc"] == ["body", "municipality_class"]
    assert not IndicatorTarget.objects.exclude(municipality_class="").exists()


@pytest.mark.parametrize("who", ["leader", "supervisor", "ministry", "inspector"])
def test_only_admins_set_class_targets(api, request, targets, siblings, who):
    user = (
        make_user(Membership.Role.LEADERSHIP, username="ministry", national=True)
        if who == "ministry"
        else request.getfixturevalue(who)
    )
    client = api.as_user(user)
    assert put(client, "coverage", {"target": 0.4, "municipality_class": "C"}).status_code == 403
    assert client.delete("analytics/indicators/targets/coverage?municipality_class=C").status_code == 403
    assert not IndicatorTarget.objects.exclude(municipality_class="").exists()


def test_an_admin_narrower_than_the_nation_sets_no_class_or_national_target(
    api, admin_user, targets, amanah, siblings, monkeypatch
):
    """Every admin's scope is national today (scope_for: `everything`), so class targets are
    authorised as the national default is. Should an admin of one Amanah appear, the service refuses
    both to them (403) and still lets them set their own municipalities' targets."""
    amanah_admin = Scope(role=Role.ADMIN, municipality_ids=frozenset({amanah.id, *(m.id for m in siblings.values())}))
    monkeypatch.setattr("analytics.services.scope_for", lambda user: amanah_admin)
    client = api.as_user(admin_user)
    before = IndicatorTarget.objects.count()
    for body in ({"target": 0.4, "municipality_class": "C"}, {"target": 0.4}):
        response = put(client, "coverage", body)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert client.delete("analytics/indicators/targets/coverage?municipality_class=C").status_code == 403
    assert IndicatorTarget.objects.count() == before
    assert put(client, "coverage", {"target": 0.4, "municipality": siblings["khobar"].id}).status_code == 200


@pytest.mark.django_db
def test_one_target_per_class_and_never_a_municipality_and_a_class(dammam):
    IndicatorTarget.objects.create(code="coverage", target=0.5)  # the national default
    IndicatorTarget.objects.create(code="coverage", municipality_class="C", target=0.6)  # beside it
    IndicatorTarget.objects.create(code="coverage", municipality_class="E", target=0.3)
    IndicatorTarget.objects.create(code="violation_rate", municipality_class="C", target=0.2)
    for kwargs in (
        {"municipality_class": "C"},  # a second class C target
        {},  # a second national default
        {"municipality": dammam, "municipality_class": "C"},  # both scopes
        {"municipality_class": "F"},  # no such class
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            IndicatorTarget.objects.create(code="coverage", target=0.7, **kwargs)
    assert IndicatorTarget.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_class_migration_keeps_scoped_and_national_targets():
    """Rows written before 0009 (a national default and an Amanah's) keep their scope, get an empty
    class, and resolve as before; a class target then sits beside the national default."""
    executor = MigrationExecutor(connection)
    executor.migrate([("analytics", "0008_cellperiod_weeks")])
    old = executor.loader.project_state([("analytics", "0008_cellperiod_weeks")]).apps
    amanah = old.get_model("inspections", "Municipality").objects.create(
        code="EP-AMANAH", name_ar="أمانة", name_en="Amanah", kind="amanah"
    )
    khobar = old.get_model("inspections", "Municipality").objects.create(
        code="KHOBAR", name_ar="الخبر", name_en="Khobar", parent=amanah, municipality_class="C"
    )
    old_targets = old.get_model("analytics", "IndicatorTarget").objects
    old_targets.create(code="coverage", target=0.7, amber_margin=0.1)
    old_targets.create(code="coverage", municipality_id=amanah.pk, target=0.6)
    old_targets.create(code="violation_rate", target=0.3)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(IndicatorTarget.objects.values_list("code", "municipality_id", "municipality_class")) == {
        ("coverage", None, ""), ("coverage", amanah.pk, ""), ("violation_rate", None, "")
    }  # fmt: skip
    IndicatorTarget.objects.create(code="violation_rate", municipality_class="C", target=0.2)
    book = TargetBook.load()
    assert book.resolve(code="coverage", scope_id=khobar.pk).target == 0.6  # the Amanah's, as before
    assert book.resolve(code="violation_rate", scope_id=khobar.pk).target == 0.2  # now its class's
    assert book.resolve(code="violation_rate", scope_id=amanah.pk).target == 0.3  # an Amanah: national


def test_the_admin_shows_a_class_target_in_the_scope_column(targets, class_c):
    assert put(targets, "coverage", {"target": 0.4, "municipality_class": "C"}).status_code == 200
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:analytics_indicatortarget_changelist"))
    assert page.status_code == 200 and "Class C" in page.content.decode()
    filtered = client.get(reverse("admin:analytics_indicatortarget_changelist"), {"municipality_class__exact": "C"})
    assert filtered.status_code == 200 and "Class C" in filtered.content.decode()
    assert "Dammam" not in filtered.content.decode().split("result_list")[-1]
