"""POST/GET/PATCH establishments: who may write, point-in-polygon, overrides, H3 columns, bad input."""

import pytest

from inspections.domain.geo import h3_cells
from inspections.models import AuditEvent, Establishment
from tests.factories import DAMMAM, KHOBAR, CategoryFactory, EstablishmentFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def grocery(db):
    return CategoryFactory(code="grocery", name_ar="بقالة", name_en="Grocery")


@pytest.fixture
def bakery(db):
    return CategoryFactory(code="bakery", name_ar="مخبز", name_en="Bakery")


def payload(**overrides):
    body = {
        "name_ar": "بقالة النخيل",
        "name_en": "Al Nakheel Grocery",
        "category": "grocery",
        "licence_no": "2050123456",
        "address": "طريق الملك فهد",
        "lat": DAMMAM[0] + 0.01,
        "lon": DAMMAM[1] - 0.01,
    }
    body.update(overrides)
    return body


def test_supervisor_registers_establishment_found_by_point_in_polygon(api, supervisor, dammam, khobar, grocery):
    response = api.as_user(supervisor).post("establishments", payload())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["municipality_id"] == dammam.id
    assert body["municipality_overridden"] is False
    assert body["category"] == "grocery" and body["category_name_ar"] == "بقالة"
    assert body["distance_m"] is None
    establishment = Establishment.objects.get(pk=body["id"])
    assert {f"h3_r{r}": getattr(establishment, f"h3_r{r}") for r in (5, 6, 7, 8, 9)} == h3_cells(
        DAMMAM[0] + 0.01, DAMMAM[1] - 0.01
    )
    assert AuditEvent.objects.filter(action="establishment.created", object_id=str(establishment.pk)).exists()


def test_admin_registers_anywhere(api, admin_user, dammam, khobar, grocery):
    response = api.as_user(admin_user).post("establishments", payload(lat=KHOBAR[0], lon=KHOBAR[1]))
    assert response.status_code == 201
    assert response.json()["municipality_id"] == khobar.id


def test_explicit_municipality_overrides_point_in_polygon(api, admin_user, dammam, khobar, grocery):
    response = api.as_user(admin_user).post("establishments", payload(municipality_id=khobar.id))
    assert response.status_code == 201
    assert response.json()["municipality_id"] == khobar.id
    assert response.json()["municipality_overridden"] is True


def test_explicit_municipality_allows_a_point_outside_every_boundary(api, supervisor, dammam, grocery):
    response = api.as_user(supervisor).post("establishments", payload(lat=27.5, lon=49.0, municipality_id=dammam.id))
    assert response.status_code == 201
    assert response.json()["municipality_id"] == dammam.id


@pytest.mark.parametrize("role_user", ["inspector", "leader"])
def test_inspectors_and_leadership_cannot_register(api, request, role_user, dammam, khobar, grocery):
    user = request.getfixturevalue(role_user)
    response = api.as_user(user).post("establishments", payload())
    assert response.status_code == 403
    assert response.json()["code"] == "not_a_supervisor"
    assert Establishment.objects.count() == 0


def test_user_without_membership_cannot_register(api, dammam, grocery):
    from tests.factories import UserFactory

    response = api.as_user(UserFactory()).post("establishments", payload())
    assert response.status_code == 403
    assert Establishment.objects.count() == 0


def test_anonymous_is_401(api, dammam, grocery):
    response = api.post("establishments", payload())
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert api.get("establishments").status_code == 401


def test_location_outside_every_municipality_is_a_clear_400(api, supervisor, dammam, grocery):
    response = api.as_user(supervisor).post("establishments", payload(lat=24.7, lon=46.7))  # Riyadh
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "outside_municipalities"
    assert "outside every municipality" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "lat"]
    assert Establishment.objects.count() == 0


def test_swapped_lat_lon_is_refused_not_misplaced(api, supervisor, dammam, grocery):
    response = api.as_user(supervisor).post("establishments", payload(lat=DAMMAM[1], lon=DAMMAM[0]))
    # (50.09, 26.42) is a valid point, in Central Asia: refused because no municipality holds it.
    assert response.status_code == 400
    assert response.json()["code"] == "outside_municipalities"
    assert Establishment.objects.count() == 0


def test_location_in_another_municipality_than_the_supervisors_is_refused(api, supervisor, dammam, khobar, grocery):
    response = api.as_user(supervisor).post("establishments", payload(lat=KHOBAR[0], lon=KHOBAR[1]))
    assert response.status_code == 400
    assert response.json()["code"] == "municipality_out_of_scope"
    assert "Khobar" in response.json()["detail"]
    assert Establishment.objects.count() == 0


@pytest.mark.parametrize("municipality_id", ["khobar", 999_999])
def test_override_outside_scope_or_unknown_is_refused(api, supervisor, dammam, khobar, grocery, municipality_id):
    target = khobar.id if municipality_id == "khobar" else municipality_id
    response = api.as_user(supervisor).post("establishments", payload(municipality_id=target))
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_municipality"
    assert Establishment.objects.count() == 0


def test_override_with_the_amanah_is_refused(api, admin_user, amanah, dammam, grocery):
    response = api.as_user(admin_user).post("establishments", payload(municipality_id=amanah.id))
    assert response.status_code == 400
    assert Establishment.objects.count() == 0


def test_duplicate_licence_is_409_not_500(api, supervisor, dammam, grocery):
    EstablishmentFactory(licence_no="2050123456", municipality=dammam, category=grocery)
    response = api.as_user(supervisor).post("establishments", payload())
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_licence"
    assert "2050123456" in response.json()["detail"]
    assert Establishment.objects.count() == 1


def test_duplicate_licence_in_another_municipality_is_also_409(api, supervisor, dammam, khobar, grocery):
    EstablishmentFactory(licence_no="2050123456", municipality=khobar, category=grocery)
    response = api.as_user(supervisor).post("establishments", payload(licence_no="  2050123456  "))
    assert response.status_code == 409
    assert Establishment.objects.count() == 1


def test_unknown_category_is_400(api, supervisor, dammam, grocery):
    response = api.as_user(supervisor).post("establishments", payload(category="casino"))
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_category"
    assert Establishment.objects.count() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"lat": 91},
        {"lat": -90.5},
        {"lon": 180.01},
        {"lon": -181},
        {"lat": "26.4"},
        {"lon": None},
        {"lat": True},
        {"name_ar": ""},
        {"name_ar": "x" * 201},
        {"licence_no": ""},
        {"licence_no": "9" * 65},
        {"category": ""},
        {"municipality_id": "1"},
        {"name_ar": "bad\x00name"},
        {"unexpected": "field"},
    ],
)
def test_bad_create_bodies_are_422_and_write_nothing(api, supervisor, dammam, grocery, overrides):
    response = api.as_user(supervisor).post("establishments", payload(**overrides))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error" and body["errors"]
    assert Establishment.objects.count() == 0


@pytest.mark.parametrize("missing", ["name_ar", "category", "licence_no", "lat", "lon"])
def test_missing_required_field_is_422(api, supervisor, dammam, grocery, missing):
    body = payload()
    del body[missing]
    response = api.as_user(supervisor).post("establishments", body)
    assert response.status_code == 422
    assert any(missing in error["loc"] for error in response.json()["errors"])
    assert Establishment.objects.count() == 0


@pytest.mark.parametrize("raw", [b'"a string"', b"[]", b"{not json", b"", b"null"])
def test_malformed_json_is_4xx_json(api, supervisor, dammam, grocery, raw):
    response = api.as_user(supervisor).raw("post", "establishments", raw)
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()
    assert Establishment.objects.count() == 0


def test_detail_returns_the_establishment(api, inspector, dammam, grocery):
    establishment = EstablishmentFactory(municipality=dammam, category=grocery, name_ar="مخبز الريان")
    response = api.as_user(inspector).get(f"establishments/{establishment.id}")
    assert response.status_code == 200
    assert response.json()["name_ar"] == "مخبز الريان"
    assert response.json()["licence_no"] == establishment.licence_no


def test_detail_of_unknown_id_is_404_json(api, inspector):
    response = api.as_user(inspector).get("establishments/987654")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_detail_with_non_integer_id_is_422(api, inspector):
    assert api.as_user(inspector).get("establishments/abc").status_code in (404, 422)


# --- PATCH -----------------------------------------------------------------------------------------


@pytest.fixture
def shop(dammam, grocery):
    return EstablishmentFactory(municipality=dammam, category=grocery, lat=DAMMAM[0], lon=DAMMAM[1])


def test_supervisor_patches_names_and_status(api, supervisor, shop):
    response = api.as_user(supervisor).patch(
        f"establishments/{shop.id}", {"name_en": "New Name", "status": "suspended"}
    )
    assert response.status_code == 200, response.content
    shop.refresh_from_db()
    assert shop.name_en == "New Name" and shop.status == "suspended"
    event = AuditEvent.objects.get(action="establishment.updated", object_id=str(shop.id))
    assert event.details["status"] == {"from": "active", "to": "suspended"}


def test_patch_category(api, supervisor, shop, bakery):
    response = api.as_user(supervisor).patch(f"establishments/{shop.id}", {"category": "bakery"})
    assert response.status_code == 200
    assert response.json()["category"] == "bakery"


def test_moving_recomputes_municipality_and_h3(api, admin_user, shop, khobar):
    response = api.as_user(admin_user).patch(f"establishments/{shop.id}", {"lat": KHOBAR[0], "lon": KHOBAR[1]})
    assert response.status_code == 200
    shop.refresh_from_db()
    assert shop.municipality_id == khobar.id
    assert shop.h3_r9 == h3_cells(*KHOBAR)["h3_r9"]


def test_moving_keeps_a_manual_override(api, admin_user, dammam, khobar, grocery):
    shop = EstablishmentFactory(
        municipality=khobar, municipality_overridden=True, category=grocery, lat=DAMMAM[0], lon=DAMMAM[1]
    )
    response = api.as_user(admin_user).patch(f"establishments/{shop.id}", {"lat": DAMMAM[0] + 0.01})
    assert response.status_code == 200
    assert response.json()["municipality_id"] == khobar.id


def test_null_municipality_drops_the_override(api, admin_user, dammam, khobar, grocery):
    shop = EstablishmentFactory(
        municipality=khobar, municipality_overridden=True, category=grocery, lat=DAMMAM[0], lon=DAMMAM[1]
    )
    response = api.as_user(admin_user).patch(f"establishments/{shop.id}", {"municipality_id": None})
    assert response.status_code == 200
    assert response.json()["municipality_id"] == dammam.id
    assert response.json()["municipality_overridden"] is False


def test_supervisor_cannot_move_an_establishment_out_of_scope(api, supervisor, shop, khobar):
    response = api.as_user(supervisor).patch(f"establishments/{shop.id}", {"lat": KHOBAR[0], "lon": KHOBAR[1]})
    assert response.status_code == 400
    shop.refresh_from_db()
    assert shop.municipality.code == "DAMMAM" and shop.lat == DAMMAM[0]


def test_supervisor_cannot_reassign_to_another_municipality(api, supervisor, shop, khobar):
    response = api.as_user(supervisor).patch(f"establishments/{shop.id}", {"municipality_id": khobar.id})
    assert response.status_code == 400
    shop.refresh_from_db()
    assert shop.municipality.code == "DAMMAM"


def test_moving_outside_every_municipality_is_refused(api, supervisor, shop):
    response = api.as_user(supervisor).patch(f"establishments/{shop.id}", {"lat": 24.7, "lon": 46.7})
    assert response.status_code == 400
    shop.refresh_from_db()
    assert shop.lat == DAMMAM[0]


@pytest.mark.parametrize("role_user", ["inspector", "leader"])
def test_readers_cannot_patch(api, request, role_user, shop):
    response = api.as_user(request.getfixturevalue(role_user)).patch(f"establishments/{shop.id}", {"name_en": "X"})
    assert response.status_code == 403
    shop.refresh_from_db()
    assert shop.name_en != "X"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "demolished"},
        {"lat": 95},
        {"lon": "50"},
        {"name_ar": ""},
        {"licence_no": "NEW"},  # the licence number is the identity: not patchable
        {"risk_score": 1.0},
        {"name_en": "a\x00b"},
    ],
)
def test_bad_patch_is_422_and_changes_nothing(api, supervisor, shop, body):
    before = Establishment.objects.values().get(pk=shop.pk)
    response = api.as_user(supervisor).patch(f"establishments/{shop.id}", body)
    assert response.status_code == 422, response.content
    assert Establishment.objects.values().get(pk=shop.pk) == before


@pytest.mark.parametrize("body", [{"name_ar": None}, {"category": None}, {"lat": None}, {"category": "casino"}])
def test_patch_nulls_of_required_fields_are_400(api, supervisor, shop, body):
    before = Establishment.objects.values().get(pk=shop.pk)
    response = api.as_user(supervisor).patch(f"establishments/{shop.id}", body)
    assert response.status_code == 400
    assert Establishment.objects.values().get(pk=shop.pk) == before


def test_empty_patch_changes_nothing(api, supervisor, shop):
    response = api.as_user(supervisor).patch(f"establishments/{shop.id}", {})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="establishment.updated").exists()


def test_patch_of_unknown_id_is_404(api, supervisor):
    assert api.as_user(supervisor).patch("establishments/424242", {"name_en": "X"}).status_code == 404


def test_inspector_of_khobar_patching_dammam_gets_404_not_403(api, supervisor_khobar, shop):
    response = api.as_user(supervisor_khobar).patch(f"establishments/{shop.id}", {"name_en": "X"})
    assert response.status_code == 404


def test_openapi_documents_the_endpoints(api, db):
    schema = api.get("openapi.json").json()
    assert "/api/v1/establishments" in schema["paths"]
    assert "409" in schema["paths"]["/api/v1/establishments"]["post"]["responses"]
    assert "/api/v1/municipalities/{municipality_id}" in schema["paths"]


def test_a_second_supervisor_of_the_same_municipality_can_patch(api, dammam, shop):
    other = make_user("supervisor", dammam, username="sup2")
    assert api.as_user(other).patch(f"establishments/{shop.id}", {"name_en": "Y"}).status_code == 200
