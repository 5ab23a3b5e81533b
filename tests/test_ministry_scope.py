"""The ministry scope: national leadership sees every Amanah and its municipalities, read-only.

Two Amanahs (the Eastern Province with Dammam and Khobar, Riyadh with Riyadh North): the ministry's
user sees both in analytics and lists; an Amanah's leadership sees only its own; the ministry's
user cannot write (admin and planning endpoints answer 403, nothing stored)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inspections.models import ChecklistVersion, Membership, Round, Visit
from tests.factories import (
    AmanahFactory,
    CategoryFactory,
    ChecklistVersionFactory,
    EstablishmentFactory,
    MunicipalityFactory,
    VisitFactory,
    make_user,
)

Role = Membership.Role
OUT = Visit.Outcome
RIYADH_TZ = ZoneInfo("Asia/Riyadh")


@pytest.fixture
def riyadh_amanah(db):
    return AmanahFactory(code="RIYADH-AMANAH", name_ar="أمانة منطقة الرياض", name_en="Riyadh Amanah")


@pytest.fixture
def riyadh_north(riyadh_amanah):
    return MunicipalityFactory(
        code="RIYADH-N", name_en="Riyadh North", name_ar="شمال الرياض", centre_lat=24.80, centre_lon=46.65,
        parent=riyadh_amanah,
    )  # fmt: skip


@pytest.fixture
def world(amanah, dammam, khobar, riyadh_amanah, riyadh_north):
    grocery = CategoryFactory(code="grocery", name_en="Grocery", name_ar="بقالة")
    when = datetime(2026, 11, 3, 10, tzinfo=RIYADH_TZ)
    shops = {m.code: EstablishmentFactory(municipality=m, category=grocery) for m in (dammam, khobar, riyadh_north)}
    # Eastern Province: 4 completed, 1 violating (Dammam 2/1, Khobar 2/0). Riyadh: 5 completed, 3 violating.
    for code, outcomes in {
        "DAMMAM": [OUT.VIOLATIONS, OUT.COMPLIANT],
        "KHOBAR": [OUT.COMPLIANT, OUT.COMPLIANT],
        "RIYADH-N": [OUT.VIOLATIONS] * 3 + [OUT.COMPLIANT] * 2,
    }.items():
        for outcome in outcomes:
            VisitFactory(establishment=shops[code], outcome=outcome, finished_at=when)
    return {
        "ministry": make_user(Role.LEADERSHIP, username="ministry", national=True),
        "ep_leader": make_user(Role.LEADERSHIP, username="ep_leader", amanah=amanah),
        "riyadh_leader": make_user(Role.LEADERSHIP, username="riyadh_leader", amanah=riyadh_amanah),
        "shops": shops,
    }


def _rates(api, user, group_by):
    response = api.as_user(user).get(
        "analytics/violation-rates", {"group_by": group_by, "from": "2026-11-01", "to": "2026-11-30"}
    )
    assert response.status_code == 200, response.content
    return {row["label"]: (row["visits"], row["violating_visits"]) for row in response.json()}


def test_the_ministry_sees_both_amanahs_in_analytics(api, world):
    assert _rates(api, world["ministry"], "amanah") == {"Eastern Province Amanah": (4, 1), "Riyadh Amanah": (5, 3)}
    assert _rates(api, world["ministry"], "municipality") == {
        "Dammam": (2, 1),
        "Khobar": (2, 0),
        "Riyadh North": (5, 3),
    }


def test_an_amanahs_leadership_sees_only_its_own(api, world):
    assert _rates(api, world["ep_leader"], "amanah") == {"Eastern Province Amanah": (4, 1)}
    assert _rates(api, world["riyadh_leader"], "municipality") == {"Riyadh North": (5, 3)}
    response = api.as_user(world["ep_leader"]).get(f"establishments/{world['shops']['RIYADH-N'].pk}")
    assert response.status_code == 404


def test_the_ministry_lists_every_amanahs_visits_and_establishments(api, world):
    ministry = api.as_user(world["ministry"])
    visits = ministry.get("visits", {"limit": 100}).json()
    items = visits["items"] if isinstance(visits, dict) else visits
    assert len(items) == 9
    response = ministry.get(f"establishments/{world['shops']['RIYADH-N'].pk}")
    assert response.status_code == 200
    leader_visits = api.as_user(world["ep_leader"]).get("visits", {"limit": 100}).json()
    assert len(leader_visits["items"] if isinstance(leader_visits, dict) else leader_visits) == 4
    me = ministry.get("me").json()
    assert me["role"] == "leadership" and me["national"] is True and me["whole_amanah"] is True
    assert api.as_user(world["ep_leader"]).get("me").json()["national"] is False


def test_the_ministry_cannot_write(api, world, dammam):
    ministry = api.as_user(world["ministry"])
    version = ChecklistVersionFactory()
    versions_before = ChecklistVersion.objects.count()
    response = ministry.post(f"checklists/{version.checklist_id}/drafts", {})
    assert response.status_code == 403, response.content
    assert response.json()["code"]
    response = ministry.post(
        "rounds",
        {"inspector_id": world["ministry"].pk, "date": "2026-12-01", "checklist_id": version.checklist_id,
         "establishment_ids": [world["shops"]["DAMMAM"].pk], "optimize_route": False},
    )  # fmt: skip
    assert response.status_code == 403, response.content
    assert Round.objects.count() == 0 and ChecklistVersion.objects.count() == versions_before
    response = ministry.patch(f"establishments/{world['shops']['DAMMAM'].pk}", {"address": "Changed"})
    assert response.status_code == 403


def test_a_new_amanah_is_in_the_ministrys_scope_at_the_next_request(api, world, django_capture_on_commit_callbacks):
    ministry = api.as_user(world["ministry"])
    assert len(_rates(api, world["ministry"], "amanah")) == 2
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():  # the scope's cache is told
        makkah = AmanahFactory(code="MAKKAH-AMANAH", name_ar="أمانة العاصمة المقدسة", name_en="Makkah Amanah")
        shop = EstablishmentFactory(
            municipality=MunicipalityFactory(code="MAKKAH-C", name_en="Makkah", name_ar="مكة", parent=makkah)
        )
    VisitFactory(establishment=shop, outcome=OUT.COMPLIANT, finished_at=datetime(2026, 11, 4, 9, tzinfo=RIYADH_TZ))
    assert _rates(api, world["ministry"], "amanah")["Makkah Amanah"] == (1, 0)
    assert ministry.get(f"establishments/{shop.pk}").status_code == 200


def test_only_leadership_can_be_national(dammam):
    user = make_user(Role.SUPERVISOR, dammam, username="sup_national")
    membership = user.membership
    membership.national = True
    with pytest.raises(ValidationError) as raised:
        membership.full_clean()
    assert "national" in raised.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        membership.save()


def test_rates_by_municipality_class_fold_municipalities_across_amanahs(api, world, dammam, riyadh_north):
    """Class A (Khobar, the default) against class C (Dammam and Riyadh North, in two Amanahs)."""
    for municipality in (dammam, riyadh_north):
        municipality.municipality_class = "C"
        municipality.save(update_fields=["municipality_class"])
    assert _rates(api, world["ministry"], "municipality_class") == {"Class A": (2, 0), "Class C": (7, 4)}
    # An Amanah's leadership folds only its own municipalities.
    assert _rates(api, world["ep_leader"], "municipality_class") == {"Class A": (2, 0), "Class C": (2, 1)}
    response = api.as_user(world["ministry"]).get(
        "analytics/violation-rates",
        {"group_by": "municipality_class", "from": "2026-11-01", "to": "2026-11-30"},
        headers={"Accept-Language": "ar"},
    )
    assert [row["label"] for row in response.json()] == ["الفئة A", "الفئة C"]
    bad = api.as_user(world["ministry"]).get("analytics/violation-rates", {"group_by": "class"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "group_by"
