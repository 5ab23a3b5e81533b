"""The triage queue as the console reads it: names of the report type and the shop, the photo's URL
(the same image Open311's media serves), the round's day and inspector once triaged; filtered by
municipality within the caller's scope; bad filters are a clear 422, never a 500."""

import pytest

from community.models import Case
from tests.community_support import Open311, as_json, code_of, photo
from tests.factories import RoundFactory
from tests.visit_support import make_checklist, shop

pytestmark = pytest.mark.django_db


def _report(store, *, ip, with_photo=False):
    data = {"service_code": "expired-products", "address_id": code_of(store), "description": "Expired milk"}
    if with_photo:
        data["media"] = photo()
    return int(as_json(Open311(ip=ip).post("requests.json", data))[0]["service_request_id"])


def test_the_queue_names_the_shop_and_type_and_shows_the_photo(api, dammam, khobar, supervisor, inspector):
    store = shop(dammam, name_ar="بقالة النخيل", name_en="Al Nakheel Grocery")
    with_photo = _report(store, ip="10.3.0.1", with_photo=True)
    without = _report(shop(dammam, lat=dammam.centre_lat + 0.01), ip="10.3.0.2")
    _report(shop(khobar), ip="10.3.0.3")
    page = api.as_user(supervisor).get("community/cases", {"municipality": dammam.pk}).json()
    rows = {row["id"]: row for row in page["items"]}
    assert set(rows) == {with_photo, without} and page["count"] == 2
    row = rows[with_photo]
    assert (row["establishment_name_ar"], row["establishment_name_en"]) == ("بقالة النخيل", "Al Nakheel Grocery")
    assert row["service_name_en"] == "Expired products" and row["service_name_ar"]
    assert row["photo_url"].startswith("/open311/v2/media/") and rows[without]["photo_url"] is None
    image = Open311().client.get(row["photo_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert "email" not in row and "device_id" not in row and "phone" not in row
    # Out of scope: the supervisor's filter on another municipality finds nothing.
    assert api.as_user(supervisor).get("community/cases", {"municipality": khobar.pk}).json()["count"] == 0

    version, _items = make_checklist()
    version.status = "published"
    version.save()
    round_ = RoundFactory(municipality=dammam, inspector=inspector, checklist=version.checklist)
    triaged = api.as_user(supervisor).post(f"community/cases/{with_photo}/triage", {"round_id": round_.pk}).json()
    assert triaged["round_date"] == round_.date.isoformat() and triaged["inspector_name"]
    assert triaged["photo_url"] == row["photo_url"]


@pytest.mark.parametrize("params", [{"municipality": 0}, {"municipality": "x"}, {"state": "open"}, {"limit": 0}])
def test_bad_filters_are_refused_with_a_clear_422(api, dammam, supervisor, params):
    answer = api.as_user(supervisor).get("community/cases", params)
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"
    assert Case.objects.count() == 0


def _queries(api, user, params) -> tuple[int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = api.as_user(user).get("community/cases", params).json()
    return len(queries), page


def test_a_page_of_cases_costs_the_same_queries_however_many_cases_it_holds(api, dammam, supervisor, inspector):
    """No query per case: the shop, the type, the round and its inspector come joined, the photos in one query."""
    version, _items = make_checklist()
    version.status = "published"
    version.save()
    round_ = RoundFactory(municipality=dammam, inspector=inspector, checklist=version.checklist)

    def add_cases(first_ip: int, count: int) -> None:
        for n in range(count):
            store = shop(dammam, lat=dammam.centre_lat + 0.002 * (first_ip + n))
            case_id = _report(store, ip=f"10.4.0.{first_ip + n}", with_photo=True)
            api.as_user(supervisor).post(f"community/cases/{case_id}/triage", {"round_id": round_.pk})

    add_cases(1, 2)
    few, page = _queries(api, supervisor, {"state": "acknowledged"})
    assert page["count"] == 2
    add_cases(3, 5)
    many, page = _queries(api, supervisor, {"state": "acknowledged"})
    assert page["count"] == 7 and all(row["inspector_name"] and row["photo_url"] for row in page["items"])
    assert many == few
