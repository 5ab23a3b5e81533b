"""Issue 11 item 4: no GET endpoint answers 500, whatever its query parameters hold. A property-based
test (hypothesis) feeds boundary values (ends of the calendar, unset phone dates, ids past bigint,
a 4,001-digit number, NUL, empty, long text, non-ASCII digits) to every query parameter of every GET
operation in the OpenAPI document, as leadership and as an inspector, and reads streamed bodies to
the end. Run on SQLite and PostgreSQL (PostgreSQL refuses NUL and BC dates; SQLite does not)."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.api import api as ninja_api
from tests.visit_support import make_checklist, shop, visit_payload

PREFIX = "/api/v1/"
BOUNDARY_VALUES = [
    "0001-01-01",
    "9999-12-31",
    "1899-12-31",
    "1900-01-01",
    "2199-12-31",
    "2200-01-01",
    "2026-02-30",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "2026-11-30T00:00:00",
    "0",
    "-1",
    "1",
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    "9" * 4001,
    "1e308",
    "NaN",
    "-0",
    "\x00",
    "a\x00b",
    "",
    " ",
    "x" * 5000,
    "true",
    "null",
    "٣",
    "'; DROP TABLE x; --",
    "municipality",
    "hijri_month",
    "compliant",
    "municipalities",
]


def _get_operations() -> list[tuple[str, list[str]]]:
    operations = []
    for path, methods in ninja_api.get_openapi_schema()["paths"].items():
        operation = methods.get("get")
        if operation is None:
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        path = path.removeprefix(PREFIX)
        for concrete in [path.replace("{fmt}", fmt) for fmt in ("csv", "geojson")] if "{fmt}" in path else [path]:
            operations.append((concrete, names))
    return sorted(operations)


OPERATIONS = _get_operations()


def test_the_operations_are_found():
    paths = {path for path, _names in OPERATIONS}
    assert {"visits", "analytics/heatmap", "analytics/violation-rates", "me/rounds"} <= paths
    assert sum(len(names) for _path, names in OPERATIONS) >= 30


@pytest.fixture
def world(api, dammam, khobar, inspector, supervisor, leader, admin_user):
    version, _items = make_checklist()
    establishment = shop(dammam)
    response = api.as_user(inspector).post(
        "visits/sync", {"visits": [visit_payload(establishment, version, MASKS="no")]}
    )
    visit_id = response.json()["results"][0]["visit_id"]
    return {"visit_id": visit_id, "establishment_id": establishment.id, "users": [leader, inspector, admin_user]}


def _concrete(path: str, world: dict) -> str:
    ids = {"visit_id": world["visit_id"], "establishment_id": world["establishment_id"]}
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


values = st.one_of(st.sampled_from(BOUNDARY_VALUES), st.text(max_size=12))
WITH_QUERY = [op for op in OPERATIONS if op[1]]


def _get(api, user, url, query):
    response = api.as_user(user).get(url, query)
    if response.streaming:
        b"".join(response.streaming_content)  # an error while streaming is a truncated 200: read it all
    return response


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "names"), WITH_QUERY, ids=[op[0] for op in WITH_QUERY])
def test_each_boundary_value_in_each_query_parameter(api, world, path, names):
    """Every boundary value alone in every parameter (the sweep), as leadership."""
    url = _concrete(path, world)
    leader = world["users"][0]
    failures = []
    for name in names:
        for value in BOUNDARY_VALUES:
            response = _get(api, leader, url, {name: value})
            if response.status_code >= 500:
                failures.append((name, value[:40]))
    assert failures == []


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "names"), WITH_QUERY, ids=[op[0] for op in WITH_QUERY])
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_combination_of_query_values_makes_a_500(api, world, path, names, data):
    """Combinations of boundary and arbitrary values, as every role (hypothesis; derandomized so that
    CI runs the same examples every time)."""
    query = data.draw(st.dictionaries(st.sampled_from(names), values, min_size=1, max_size=len(names)), label="query")
    user = data.draw(st.sampled_from(world["users"]), label="user")
    url = _concrete(path, world)
    response = _get(api, user, url, query)
    assert response.status_code < 500, (url, query, response.content[:300] if not response.streaming else "")
