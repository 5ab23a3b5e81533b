"""GET analytics/heatmap: valid GeoJSON, lon/lat order, closed rings, cell ids that match h3."""

import h3
import pytest
from shapely.geometry import Point, shape

from inspections.models import Visit
from tests.factories import EstablishmentFactory, UserFactory, VisitFactory

OUT = Visit.Outcome


@pytest.fixture
def shops(dammam, khobar):
    inspector = UserFactory()
    centre = EstablishmentFactory(municipality=dammam)  # at Dammam's centre
    east = EstablishmentFactory(municipality=dammam, lat=26.4207, lon=50.1188)  # ~3 km east
    khobar_shop = EstablishmentFactory(municipality=khobar)
    for outcome in (OUT.VIOLATIONS, OUT.COMPLIANT, OUT.COMPLIANT, OUT.CLOSED):
        VisitFactory(establishment=centre, outcome=outcome, inspector=inspector)
    for outcome in (OUT.VIOLATIONS, OUT.VIOLATIONS):
        VisitFactory(establishment=east, outcome=outcome, inspector=inspector)
    VisitFactory(establishment=khobar_shop, outcome=OUT.COMPLIANT, inspector=inspector)
    return {"centre": centre, "east": east, "khobar": khobar_shop}


def test_cells_are_valid_geojson_polygons_in_lon_lat(api, leader, shops):
    response = api.as_user(leader).get("analytics/heatmap", {"resolution": 8})
    assert response.status_code == 200
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    by_cell = {feature["properties"]["cell"]: feature for feature in collection["features"]}
    expected = {
        h3.latlng_to_cell(shop.lat, shop.lon, 8): shop for shop in (shops["centre"], shops["east"], shops["khobar"])
    }
    assert set(by_cell) == set(expected)
    for cell, feature in by_cell.items():
        assert h3.is_valid_cell(cell) and h3.get_resolution(cell) == 8
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 7  # closed hexagon (or pentagon)
        for lon, lat in ring:
            assert 49 < lon < 51 and 25 < lat < 27  # [lon, lat], not [lat, lon]
        polygon = shape(feature["geometry"])
        assert polygon.is_valid
        shop = expected[cell]
        assert polygon.contains(Point(shop.lon, shop.lat))
        # The ring is h3's own boundary (to 1e-7 degrees, about 1 cm), swapped to lon/lat.
        boundary = h3.cell_to_boundary(cell)
        assert len(ring) - 1 == len(boundary)
        for (lon, lat), (h3_lat, h3_lng) in zip(ring[:-1], boundary, strict=True):
            assert lat == pytest.approx(h3_lat, abs=1e-6) and lon == pytest.approx(h3_lng, abs=1e-6)
    centre = by_cell[h3.latlng_to_cell(shops["centre"].lat, shops["centre"].lon, 8)]["properties"]
    assert (centre["visits"], centre["violating_visits"]) == (3, 1)  # the closed visit is left out
    assert centre["rate"] == pytest.approx(1 / 3)
    assert centre["ci_low"] < 1 / 3 < centre["ci_high"]


def test_coarse_resolution_merges_cells(api, leader, shops):
    collection = api.as_user(leader).get("analytics/heatmap", {"resolution": 5}).json()
    cells = {f["properties"]["cell"]: f["properties"] for f in collection["features"]}
    dammam_cell = h3.latlng_to_cell(shops["centre"].lat, shops["centre"].lon, 5)
    assert h3.latlng_to_cell(shops["east"].lat, shops["east"].lon, 5) == dammam_cell
    assert cells[dammam_cell]["visits"] == 5 and cells[dammam_cell]["violating_visits"] == 3


def test_municipality_layer_on_request(api, leader, shops, dammam, khobar):
    plain = api.as_user(leader).get("analytics/heatmap").json()
    assert "municipalities" not in plain
    layered = api.as_user(leader).get("analytics/heatmap", {"layers": "municipalities"}).json()
    layer = layered["municipalities"]
    assert layer["type"] == "FeatureCollection"
    by_id = {f["properties"]["municipality_id"]: f for f in layer["features"]}
    assert set(by_id) == {dammam.id, khobar.id}
    assert by_id[dammam.id]["properties"]["visits"] == 5
    assert by_id[dammam.id]["geometry"] == dammam.boundary


def test_supervisor_heatmap_is_scoped(api, supervisor, shops):
    collection = api.as_user(supervisor).get("analytics/heatmap", {"resolution": 9, "layers": "municipalities"}).json()
    cells = {f["properties"]["cell"] for f in collection["features"]}
    assert h3.latlng_to_cell(shops["khobar"].lat, shops["khobar"].lon, 9) not in cells
    assert len(cells) == 2
    assert len(collection["municipalities"]["features"]) == 1


@pytest.mark.parametrize(
    "params", [{"resolution": 4}, {"resolution": 10}, {"resolution": "x"}, {"layers": "roads"}, {"to": "2026-02-30"}]
)
def test_bad_params_are_422(api, leader, shops, params):
    response = api.as_user(leader).get("analytics/heatmap", params)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
