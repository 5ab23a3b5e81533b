"""GET establishments: filters (municipality, category, q in Arabic/English/licence) and pagination."""

import pytest

from tests.factories import CategoryFactory, EstablishmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(dammam, khobar):
    grocery = CategoryFactory(code="grocery", name_en="Grocery", name_ar="بقالة")
    bakery = CategoryFactory(code="bakery", name_en="Bakery", name_ar="مخبز")
    return {
        "nakheel": EstablishmentFactory(
            municipality=dammam,
            category=grocery,
            name_ar="بقالة النخيل",
            name_en="Al Nakheel Grocery",
            licence_no="2050000001",
        ),
        "rayyan": EstablishmentFactory(
            municipality=dammam,
            category=bakery,
            name_ar="مخبز الريان",
            name_en="Al Rayyan Bakery",
            licence_no="2050000002",
        ),
        "amal": EstablishmentFactory(
            municipality=dammam,
            category=grocery,
            name_ar="صيدلية مستشفى الأمل",
            name_en="Hope",
            licence_no="2050000004",
        ),
        "khobar": EstablishmentFactory(
            municipality=khobar, category=bakery, name_ar="مخبز الخبر", name_en="Khobar Bakery", licence_no="2051000003"
        ),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"nakheel", "rayyan", "khobar", "amal"}),
        ({"category": "bakery"}, {"rayyan", "khobar"}),
        ({"category": "grocery"}, {"nakheel", "amal"}),
        ({"category": "unknown"}, set()),
        ({"q": "النخيل"}, {"nakheel"}),
        ({"q": "مخبز"}, {"rayyan", "khobar"}),
        ({"q": "rayyan"}, {"rayyan"}),
        ({"q": "RAYYAN bakery"}, {"rayyan"}),
        ({"q": "2050000002"}, {"rayyan"}),
        ({"q": "2050"}, {"nakheel", "rayyan", "amal"}),
        ({"q": "nothing-like-this"}, set()),
        ({"q": "bakery", "category": "bakery"}, {"rayyan", "khobar"}),
        # Arabic spellings typed interchangeably: ة/ه, أ/ا, ى/ي, short vowels and tatweel.
        ({"q": "بقاله"}, {"nakheel"}),
        ({"q": "الامل"}, {"amal"}),
        ({"q": "مُستشفى"}, {"amal"}),
        ({"q": "مستشفي الأمل"}, {"amal"}),
        ({"q": "مـخـبـز"}, {"rayyan", "khobar"}),
        ({"q": "مَخْبَز الريان"}, {"rayyan"}),
    ],
)
def test_filters(api, leader, register, params, expected):
    assert ids(api.as_user(leader).get("establishments", params)) == {register[name].id for name in expected}


def test_municipality_filter(api, leader, register, dammam, khobar):
    assert ids(api.as_user(leader).get("establishments", {"municipality": khobar.id})) == {register["khobar"].id}
    assert len(ids(api.as_user(leader).get("establishments", {"municipality": dammam.id}))) == 3


def test_category_filter_by_id(api, leader, register):
    category_id = register["nakheel"].category_id
    expected = {register["nakheel"].id, register["amal"].id}
    assert ids(api.as_user(leader).get("establishments", {"category": str(category_id)})) == expected


def test_pagination(api, leader, register):
    first = api.as_user(leader).get("establishments", {"limit": 2}).json()
    second = api.as_user(leader).get("establishments", {"limit": 2, "offset": 2}).json()
    assert first["count"] == second["count"] == 4
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "ten"},
        {"offset": -1},
        {"municipality": "dammam"},
        {"municipality": 0},
        {"category": "x" * 33},
        {"category": "bad code!"},
        {"q": "x" * 101},
        {"q": "a\x00b"},
    ],
)
def test_bad_list_parameters_are_422(api, leader, register, params):
    response = api.as_user(leader).get("establishments", params)
    assert response.status_code == 422, response.content
    assert response.json()["code"] in ("validation_error", "nul_character")


def test_output_fields(api, leader, register):
    item = api.as_user(leader).get("establishments", {"q": "2051000003"}).json()["items"][0]
    assert set(item) == {
        "id",
        "name_ar",
        "name_en",
        "category",
        "category_name_ar",
        "category_name_en",
        "licence_no",
        "address",
        "lat",
        "lon",
        "municipality_id",
        "municipality_overridden",
        "status",
        "risk_score",
        "updated_at",
        "distance_m",
    }
    assert item["category_name_ar"] == "مخبز"


def test_list_query_count_is_constant(api, leader, register, django_assert_max_num_queries):
    for _index in range(10):
        EstablishmentFactory(municipality=register["rayyan"].municipality, category=register["rayyan"].category)
    client = api.as_user(leader)
    with django_assert_max_num_queries(8):
        assert client.get("establishments", {"limit": 50}).status_code == 200
