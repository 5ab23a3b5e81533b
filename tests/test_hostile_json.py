"""Hostile JSON and text: wrong types, deep nesting, huge arrays and bodies, bytes that are not
UTF-8, NUL characters, SQL-looking strings; Arabic and emoji text round-trip unchanged; and the
sign-in endpoint throttles a brute-force attempt. Every refusal is a 4xx JSON answer
`{detail, code, errors?}` that wrote nothing."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backend.api import api as ninja_api
from inspections.models import Establishment, Finding, Round, Visit
from notifications.models import Device
from tests.factories import CategoryFactory, ChecklistItemFactory, ChecklistVersionFactory, EstablishmentFactory

pytestmark = pytest.mark.django_db
PREFIX = "/api/v1/"


@pytest.fixture
def shop(dammam):
    return EstablishmentFactory(municipality=dammam, category=CategoryFactory())


@pytest.fixture
def version():
    version = ChecklistVersionFactory()
    ChecklistItemFactory(version=version, code="MASKS")
    return version


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Establishment, Visit, Round, Finding, Device)}


def _assert_error(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"] and isinstance(body["code"], str)
    return body


def _json_operations() -> list[tuple[str, str]]:
    """Every operation that takes a JSON body, from the OpenAPI document."""
    found = []
    for path, operations in ninja_api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path.removeprefix(PREFIX)))
    return sorted(found)


def _concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+_id\}", "1", path)  # every id in a path


# ---- every JSON body: the wrong shape is a 422 that writes nothing ------------------------------------

WRONG_BODIES = [
    pytest.param(b'"just a string"', id="bare-string"),
    pytest.param(b"123", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"[]", id="array"),
    pytest.param(b"[{}]", id="array-of-object"),
    pytest.param(b'{"unexpected_field": 1}', id="unknown-field"),
    pytest.param(b"{", id="truncated-json"),
    pytest.param(b'{"a": 1,}', id="trailing-comma"),
    pytest.param(b"{'single': 'quotes'}", id="python-literal"),
    pytest.param(b'{"name_ar": "\xff\xfe\xfa"}', id="not-utf8"),
    pytest.param(b"\xef\xbb\xbf{}", id="utf8-bom"),
    pytest.param(b'{"a": NaN}', id="nan"),
    pytest.param(b"[" * 50_000 + b"]" * 50_000, id="nested-50k"),
]


@pytest.mark.parametrize("raw", WRONG_BODIES)
def test_every_json_body_refuses_the_wrong_shape(api, admin_user, raw):
    client = api.as_user(admin_user)  # the admin may call every operation: the refusal is about the body
    for method, path in _json_operations():
        before = _counts()
        response = client.raw(method, _concrete(path), raw)
        if path == "auth/token" and response.status_code == 429:
            continue
        body = _assert_error(response, 400, 404, 422)
        assert response.status_code != 404 or path.count("{") == 0 or body["code"] == "not_found", (method, path)
        assert _counts() == before, (method, path)


def test_json_operations_are_found():
    # The generator above must see the write endpoints, or it would test nothing.
    found = set(_json_operations())
    assert {("POST", "auth/token"), ("POST", "establishments"), ("POST", "rounds"), ("POST", "visits/sync")} <= found


# ---- wrong types: strict models, no lax coercion -------------------------------------------------


def _establishment(**overrides):
    body = {
        "name_ar": "بقالة النور",
        "name_en": "Al Noor Grocery",
        "category": "grocery",
        "licence_no": f"CR-{uuid.uuid4().hex[:12]}",
        "lat": 26.4207,
        "lon": 50.0888,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    "overrides",
    [
        {"lat": "26.42"},  # a numeric string is not a number
        {"lat": True},  # nor is a boolean
        {"lat": None},
        {"lat": 1e309},  # parses as inf
        {"lat": 91},
        {"lon": -181},
        {"name_ar": 12345},
        {"name_ar": ["a"]},
        {"name_ar": {"ar": "x"}},
        {"name_ar": ""},
        {"name_ar": "x" * 201},
        {"name_ar": "a\x00b"},
        {"municipality_id": "1"},
        {"municipality_id": 1.0},
        {"municipality_id": 2**70},
        {"licence_no": None},
    ],
    ids=lambda o: json.dumps(o, ensure_ascii=True)[:40],
)
def test_establishment_wrong_types_are_422_and_write_nothing(api, supervisor, shop, overrides):
    before = _counts()
    response = api.as_user(supervisor).post("establishments", _establishment(**overrides))
    _assert_error(response, 422)
    assert _counts() == before


def test_rounds_refuse_a_float_for_an_id(api, supervisor, inspector, shop, version):
    body = {
        "inspector_id": float(inspector.pk),
        "date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "checklist_id": version.checklist_id,
        "establishment_ids": [shop.pk],
    }
    before = _counts()
    _assert_error(api.as_user(supervisor).post("rounds", body), 422)
    body.update(inspector_id=inspector.pk, establishment_ids=[str(shop.pk)])
    _assert_error(api.as_user(supervisor).post("rounds", body), 422)
    assert _counts() == before


@pytest.mark.parametrize("query", ["date_to=0", "date_to=1700000000", "date_to=2026-13-01", "date_to=yesterday"])
def test_list_query_dates_are_iso_only(api, supervisor, query):
    _assert_error(api.as_user(supervisor).get(f"rounds?{query}"), 422)
    _assert_error(api.as_user(supervisor).get(f"visits?{query}"), 422)


@pytest.mark.parametrize("query", ["limit=-1", "limit=100000", "offset=-5", "limit=abc", "municipality=1e3"])
def test_list_query_numbers_are_bounded(api, supervisor, query):
    _assert_error(api.as_user(supervisor).get(f"establishments?{query}"), 422)


# ---- size: huge arrays and bodies -----------------------------------------------------------------


def test_a_batch_over_the_maximum_is_refused_whole(api, inspector, shop, version, settings):
    visit = {
        "establishment_id": shop.pk,
        "checklist_version_id": version.pk,
        "started_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
        "finished_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "outcome": "compliant",
        "answers": [{"item_code": "MASKS", "value": "yes"}],
    }
    batch = [{**visit, "client_id": str(uuid.uuid4())} for _ in range(settings.VISIT_SYNC_MAX_BATCH + 1)]
    _assert_error(api.as_user(inspector).post("visits/sync", {"visits": batch}), 422)
    assert Visit.objects.count() == 0


def test_a_huge_id_list_is_refused(api, supervisor, inspector, shop, version):
    body = {
        "inspector_id": inspector.pk,
        "date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "checklist_id": version.checklist_id,
        "establishment_ids": list(range(1, 200_001)),
    }
    _assert_error(api.as_user(supervisor).post("rounds", body), 422)
    assert Round.objects.count() == 0


def test_a_body_over_the_upload_limit_is_413_without_being_read(api, inspector, settings):
    # Content-Length above DATA_UPLOAD_MAX_MEMORY_SIZE: refused from the header, before reading.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    raw = b'{"visits": [' + b"0," * (600 * 1024) + b"0]}"
    body = _assert_error(api.as_user(inspector).raw("POST", "visits/sync", raw), 413)
    assert body["code"] == "too_large"
    assert Visit.objects.count() == 0


def test_a_deeply_nested_answer_value_is_refused(api, inspector, shop, version):
    nested: object = "yes"
    for _ in range(200):
        nested = [nested]
    visit = {
        "client_id": str(uuid.uuid4()),
        "establishment_id": shop.pk,
        "checklist_version_id": version.pk,
        "started_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
        "finished_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "outcome": "compliant",
        "answers": [{"item_code": "MASKS", "value": nested}],
    }
    response = api.as_user(inspector).post("visits/sync", {"visits": [visit]})
    assert response.status_code in (200, 422), response.content[:200]
    if response.status_code == 200:
        assert response.json()["results"][0]["status"] == "rejected"
    assert Visit.objects.count() == 0


def test_a_nul_deep_inside_a_visit_is_refused(api, inspector, shop, version):
    visit = {
        "client_id": str(uuid.uuid4()),
        "establishment_id": shop.pk,
        "checklist_version_id": version.pk,
        "started_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
        "finished_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "outcome": "compliant",
        "answers": [{"item_code": "MASKS", "value": "yes", "note": "fine\x00"}],
        "notes": "ok",
    }
    response = api.as_user(inspector).post("visits/sync", {"visits": [visit]})
    if response.status_code == 200:
        assert response.json()["results"][0]["status"] == "rejected"
    else:
        _assert_error(response, 422)
    assert Visit.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "devices/abc%00def",
        "checklists?category=a%00",
        "establishments?q=%00",
        "visits?outcome=%00",
        "findings?status=%00",
        "rounds?status=%00",
        "analytics/violation-rates?category=%00",
        "municipalities?x%00=1",
    ],
)
def test_a_nul_in_the_url_is_422_not_500(api, admin_user, url):
    method = "delete" if url.startswith("devices/") else "get"
    body = _assert_error(getattr(api.as_user(admin_user), method)(url), 422)
    assert body["code"] in {"nul_character", "validation_error"}


# ---- SQL-looking strings are just text ----------------------------------------------------------------

SQLISH = [
    "' OR '1'='1",
    "'; DROP TABLE inspections_establishment; --",
    '" OR ""="',
    "1; SELECT pg_sleep(5)--",
    "%' UNION SELECT username, password FROM auth_user --",
    "\\'; DELETE FROM auth_user; --",
]


@pytest.mark.parametrize("text", SQLISH)
def test_sql_looking_search_is_only_a_search(api, inspector, shop, text):
    response = api.as_user(inspector).get("establishments", {"q": text})
    assert response.status_code in (200, 422), response.content[:200]
    if response.status_code == 200:
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
        assert items == []
    assert Establishment.objects.filter(pk=shop.pk).exists()


@pytest.mark.parametrize("text", SQLISH)
def test_sql_looking_names_are_stored_verbatim(api, supervisor, dammam, text):
    CategoryFactory()
    response = api.as_user(supervisor).post("establishments", _establishment(name_ar=text, name_en=text))
    assert response.status_code == 201, response.content[:300]
    created = api.as_user(supervisor).get(f"establishments/{response.json()['id']}").json()
    assert created["name_ar"] == text.strip() and created["name_en"] == text.strip()
    assert "inspections_establishment" in connection.introspection.table_names()


# ---- Arabic and emoji round-trip ----------------------------------------------------------------------

TEXTS = [
    "بقالة النور للمواد الغذائية",
    "مَطْعَمُ الْبَيْتِ الشَّامِيِّ",  # with harakat (combining marks)
    "كافيه ☕️ القهوة 🇸🇦",  # emoji with variation selector and a flag (two regional indicators)
    "عائلة 👨‍👩‍👧‍👦 ماركت",  # ZWJ sequence
    "متجر\u200fالأمل\u200e (RTL/LTR marks)",
    "١٢٣٤٥٦٧٨٩٠ أرقام عربية",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 outside the BMP 𠜎",
]


@pytest.mark.parametrize("text", TEXTS)
def test_arabic_and_emoji_names_round_trip(api, supervisor, dammam, text):
    CategoryFactory()
    response = api.as_user(supervisor).post("establishments", _establishment(name_ar=text, address=text))
    assert response.status_code == 201, response.content[:300]
    establishment_id = response.json()["id"]
    fetched = api.as_user(supervisor).get(f"establishments/{establishment_id}").json()
    assert fetched["name_ar"] == text and fetched["address"] == text
    assert Establishment.objects.get(pk=establishment_id).name_ar == text
    found = api.as_user(supervisor).get("establishments", {"q": text.split()[0]}).json()
    items = found["items"] if isinstance(found, dict) else found
    assert establishment_id in {item["id"] for item in items}


def test_arabic_and_emoji_visit_notes_round_trip(api, inspector, shop, version):
    notes = "المحل نظيف 👍 لكن المعقم ناقص 🧴 — ملاحظة: ١٢٣"
    visit = {
        "client_id": str(uuid.uuid4()),
        "establishment_id": shop.pk,
        "checklist_version_id": version.pk,
        "started_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
        "finished_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "location": {"lat": shop.lat, "lon": shop.lon, "accuracy_m": 5.0},
        "outcome": "compliant",
        "answers": [{"item_code": "MASKS", "value": "yes", "note": "كمامات ✅"}],
        "notes": notes,
    }
    result = api.as_user(inspector).post("visits/sync", {"visits": [visit]}).json()["results"][0]
    assert result["status"] == "created", result
    detail = api.as_user(inspector).get(f"visits/{result['visit_id']}").json()
    assert detail["notes"] == notes
    assert [answer["note"] for answer in detail["answers"]] == ["كمامات ✅"]


# ---- sign-in brute force ----------------------------------------------------------------------------------


def test_brute_force_on_one_account_is_throttled(api, inspector, settings):
    attempts = [
        api.post("auth/token", {"username": "insp_dammam", "password": f"guess-{n}"}).status_code
        for n in range(settings.LOGIN_MAX_FAILURES + 3)
    ]
    assert attempts[: settings.LOGIN_MAX_FAILURES] == [401] * settings.LOGIN_MAX_FAILURES
    assert set(attempts[settings.LOGIN_MAX_FAILURES :]) == {429}
    # Throttled means throttled: even the right password is refused, with a Retry-After.
    response = api.post("auth/token", {"username": "insp_dammam", "password": "pass12345"})
    body = _assert_error(response, 429)
    assert body["code"] == "throttled" and int(response["Retry-After"]) > 0


def test_spraying_many_accounts_from_one_address_is_throttled(api, inspector, supervisor, settings):
    statuses = [
        api.post("auth/token", {"username": f"user-{n}", "password": "Password1"}).status_code for n in range(31)
    ]
    assert statuses[:30] == [401] * 30 and statuses[-1] == 429  # 30 failures from one address, any usernames
    assert api.post("auth/token", {"username": "sup_dammam", "password": "pass12345"}).status_code == 429


def test_the_throttle_is_per_address(api, inspector, settings):
    for n in range(settings.LOGIN_MAX_FAILURES + 1):
        api.client.post(
            "/api/v1/auth/token",
            {"username": f"ghost-{n}", "password": "x"},
            content_type="application/json",
            REMOTE_ADDR="10.0.0.1",
        )
    other = api.client.post(
        "/api/v1/auth/token",
        {"username": "insp_dammam", "password": "pass12345"},
        content_type="application/json",
        REMOTE_ADDR="10.0.0.2",
    )
    assert other.status_code == 200
