"""GET municipalities (every signed-in user, not scoped) and GET municipalities/{id} as a GeoJSON Feature."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["inspector", "inspector_khobar", "supervisor", "leader", "admin_user"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_every_municipality(api, request, role, amanah, dammam, khobar):
    body = api.as_user(request.getfixturevalue(role)).get("municipalities").json()
    assert body["count"] == 3
    assert {item["code"] for item in body["items"]} == {"EP-AMANAH", "DAMMAM", "KHOBAR"}
    dammam_item = next(item for item in body["items"] if item["code"] == "DAMMAM")
    assert dammam_item == {
        "id": dammam.id,
        "code": "DAMMAM",
        "name_ar": "الدمام",
        "name_en": "Dammam",
        "kind": "baladiya",
        "parent_id": amanah.id,
        "centre_lat": dammam.centre_lat,
        "centre_lon": dammam.centre_lon,
        "boundary_is_demo": False,
    }
    assert "boundary" not in dammam_item and "geometry" not in dammam_item


def test_user_without_membership_can_list_too(api, dammam):
    assert api.as_user(UserFactory()).get("municipalities").json()["count"] == 2


def test_mine_lists_only_the_callers_scope(api, inspector, leader, dammam, khobar):
    assert [
        item["code"] for item in api.as_user(inspector).get("municipalities", {"mine": "true"}).json()["items"]
    ] == ["DAMMAM"]
    assert api.as_user(leader).get("municipalities", {"mine": "true"}).json()["count"] == 3


def test_kind_filter(api, inspector, dammam, khobar):
    items = api.as_user(inspector).get("municipalities", {"kind": "amanah"}).json()["items"]
    assert [item["code"] for item in items] == ["EP-AMANAH"]


@pytest.mark.parametrize(
    "params", [{"kind": "city"}, {"mine": "perhaps"}, {"limit": 0}, {"limit": 500}, {"offset": -3}]
)
def test_bad_list_parameters_are_422(api, inspector, params):
    response = api.as_user(inspector).get("municipalities", params)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_anonymous_is_401(api, dammam):
    assert api.get("municipalities").status_code == 401
    assert api.get(f"municipalities/{dammam.id}").status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_detail_is_a_geojson_feature_in_lon_lat_order(api, request, role, dammam, khobar):
    response = api.as_user(request.getfixturevalue(role)).get(f"municipalities/{dammam.id}")
    assert response.status_code == 200
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == dammam.id
    assert feature["properties"]["name_ar"] == "الدمام"
    assert feature["geometry"]["type"] == "Polygon"
    ring = feature["geometry"]["coordinates"][0]
    lons = [point[0] for point in ring]
    lats = [point[1] for point in ring]
    # Dammam lies at about 50.09 E, 26.42 N: longitude first.
    assert min(lons) < 50.09 < max(lons) and min(lats) < 26.42 < max(lats)
    assert ring[0] == ring[-1]


def test_other_municipalities_are_visible_to_everyone(api, inspector, khobar):
    """Names and boundaries are reference data: the contract lists them for all users."""
    assert api.as_user(inspector).get(f"municipalities/{khobar.id}").status_code == 200


def test_amanah_without_boundary_has_null_geometry(api, inspector, amanah):
    feature = api.as_user(inspector).get(f"municipalities/{amanah.id}").json()
    assert feature["geometry"] is None and feature["properties"]["kind"] == "amanah"


@pytest.mark.parametrize("path", ["municipalities/999999", "municipalities/abc", "municipalities/-1"])
def test_unknown_municipality_is_a_json_4xx(api, inspector, path):
    response = api.as_user(inspector).get(path)
    assert response.status_code in (404, 422)
    assert response.json()["code"] in ("not_found", "validation_error")
