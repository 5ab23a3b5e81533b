"""GET establishments?near=lat,lon&radius_m=: H3 candidates, geodesic distances, nearest first."""

import math
import random

import h3
import pytest
from geopy.distance import geodesic

from inspections.selectors.establishments import near_plan
from tests.factories import DAMMAM, CategoryFactory, EstablishmentFactory

pytestmark = pytest.mark.django_db


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point `north_m` / `east_m` metres away (flat-earth step, fine at these distances)."""
    return lat + north_m / 110_574.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


@pytest.fixture
def scattered(dammam):
    """30 shops at seeded random places within ~4 km of central Dammam."""
    category = CategoryFactory()
    rng = random.Random(7)
    shops = []
    for index in range(30):
        lat, lon = offset(*DAMMAM, rng.uniform(-4000, 4000), rng.uniform(-4000, 4000))
        shops.append(
            EstablishmentFactory(municipality=dammam, category=category, lat=lat, lon=lon, licence_no=f"N-{index}")
        )
    return shops


@pytest.mark.parametrize("radius_m", [300, 1500, 3000, 6000])
def test_near_lists_exactly_the_shops_within_the_radius_nearest_first(api, inspector, scattered, radius_m):
    centre = (DAMMAM[0] + 0.003, DAMMAM[1] - 0.002)
    response = api.as_user(inspector).get(
        "establishments", {"near": f"{centre[0]},{centre[1]}", "radius_m": radius_m, "limit": 200}
    )
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    # Independent check: geopy's geodesic on WGS-84, computed here from the stored coordinates.
    expected = sorted(
        (geodesic(centre, (shop.lat, shop.lon)).meters, shop.id)
        for shop in scattered
        if geodesic(centre, (shop.lat, shop.lon)).meters <= radius_m
    )
    assert [item["id"] for item in items] == [shop_id for _distance, shop_id in expected]
    assert response.json()["count"] == len(expected)
    for item, (distance, _id) in zip(items, expected, strict=True):
        assert item["distance_m"] == pytest.approx(distance, abs=0.1)
    distances = [item["distance_m"] for item in items]
    assert distances == sorted(distances)


def test_near_distances_agree_with_haversine_within_half_a_percent(api, inspector, scattered):
    centre = DAMMAM
    items = (
        api.as_user(inspector)
        .get("establishments", {"near": f"{centre[0]},{centre[1]}", "radius_m": 10000, "limit": 200})
        .json()["items"]
    )
    assert len(items) == 30

    def haversine(a, b):
        lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
        h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        return 2 * 6_371_008.8 * math.asin(math.sqrt(h))

    for item in items:
        assert item["distance_m"] == pytest.approx(haversine(centre, (item["lat"], item["lon"])), rel=0.005)


def test_shop_just_inside_and_just_outside_the_radius(api, inspector, dammam):
    category = CategoryFactory()
    inside = EstablishmentFactory(
        municipality=dammam, category=category, **dict(zip(("lat", "lon"), offset(*DAMMAM, 0, 495), strict=True))
    )
    EstablishmentFactory(
        municipality=dammam, category=category, **dict(zip(("lat", "lon"), offset(*DAMMAM, 0, 520), strict=True))
    )
    items = (
        api.as_user(inspector)
        .get("establishments", {"near": f"{DAMMAM[0]},{DAMMAM[1]}", "radius_m": 510})
        .json()["items"]
    )
    assert [item["id"] for item in items] == [inside.id]


def test_near_is_scoped(api, inspector_khobar, scattered):
    items = (
        api.as_user(inspector_khobar)
        .get("establishments", {"near": f"{DAMMAM[0]},{DAMMAM[1]}", "radius_m": 10000})
        .json()
    )
    assert items["count"] == 0


def test_near_combines_with_other_filters_and_pagination(api, inspector, scattered):
    params = {"near": f"{DAMMAM[0]},{DAMMAM[1]}", "radius_m": 10000, "limit": 5, "offset": 5}
    page = api.as_user(inspector).get("establishments", params).json()
    everything = api.as_user(inspector).get("establishments", {**params, "limit": 200, "offset": 0}).json()
    assert page["count"] == 30
    assert [item["id"] for item in page["items"]] == [item["id"] for item in everything["items"][5:10]]
    only = api.as_user(inspector).get("establishments", {**params, "q": "N-3", "offset": 0}).json()
    assert {item["licence_no"] for item in only["items"]} == {"N-3"}


def test_default_radius_is_one_kilometre(api, inspector, scattered):
    items = api.as_user(inspector).get("establishments", {"near": f"{DAMMAM[0]},{DAMMAM[1]}"}).json()["items"]
    assert all(item["distance_m"] <= 1000 for item in items)


@pytest.mark.parametrize(
    "near",
    ["26.4", "abc", "26.4,50.1,3", "26.4;50.1", "91,50", "26.4,181", "-90.5,0", "26.4 50.1", ",", "nan,nan", "1e3,2"],
)
def test_bad_near_is_422_json(api, inspector, near):
    response = api.as_user(inspector).get("establishments", {"near": near})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"][-1] == "near"


@pytest.mark.parametrize("radius", ["0", "-5", "50001", "1e9", "far", "nan"])
def test_bad_radius_is_422(api, inspector, radius):
    response = api.as_user(inspector).get("establishments", {"near": "26.4,50.1", "radius_m": radius})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_radius_without_near_is_422(api, inspector):
    response = api.as_user(inspector).get("establishments", {"radius_m": 500})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "radius_m"]


@pytest.mark.parametrize("radius_m", [50, 400, 2000, 9000, 30000, 50000])
def test_h3_candidate_cells_cover_the_whole_circle(radius_m):
    """Any point within the radius falls in one of the planned cells (checked on 400 seeded points)."""
    rng = random.Random(radius_m)
    centre = (26.4207, 50.0888)
    plan = near_plan(lat=centre[0], lon=centre[1], radius_m=radius_m)
    cells = set(plan.cells)
    for _ in range(400):
        bearing = rng.uniform(0, 360)
        distance = radius_m * math.sqrt(rng.random())
        point = geodesic(meters=distance).destination(centre, bearing)
        cell = h3.str_to_int(h3.latlng_to_cell(point.latitude, point.longitude, plan.resolution))
        assert cell in cells
    assert len(cells) <= 3 * 12 * 13 + 1


def test_page_past_the_end_is_empty(api, inspector, scattered):
    params = {"near": f"{DAMMAM[0]},{DAMMAM[1]}", "radius_m": 10000, "offset": 500}
    body = api.as_user(inspector).get("establishments", params).json()
    assert body == {"items": [], "count": 30}


def test_near_results_fetch_rows_only_for_the_page(inspector, scattered, django_assert_max_num_queries):
    from inspections.selectors.establishments import establishment_list, establishments_near

    results = establishments_near(establishment_list(user=inspector), lat=DAMMAM[0], lon=DAMMAM[1], radius_m=10000)
    assert len(results) == 30
    with django_assert_max_num_queries(1):
        page = results[3:6]
    assert [shop.distance_m for shop in page] == sorted(shop.distance_m for shop in page)
    assert results[-1].distance_m == max(shop.distance_m for shop in results[0:30])
