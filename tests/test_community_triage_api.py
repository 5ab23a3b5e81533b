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
