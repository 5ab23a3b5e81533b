"""Every role's scope over establishments: another municipality's is a 404, leadership and admins see all."""

import pytest

from tests.factories import CategoryFactory, EstablishmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(dammam, khobar):
    category = CategoryFactory()
    return {
        "dammam": EstablishmentFactory(municipality=dammam, category=category),
        "khobar": EstablishmentFactory(municipality=khobar, category=category),
    }


# role fixture -> the shops it may see
VISIBILITY = {
    "inspector": {"dammam"},
    "supervisor": {"dammam"},
    "inspector_khobar": {"khobar"},
    "supervisor_khobar": {"khobar"},
    "leader": {"dammam", "khobar"},
    "admin_user": {"dammam", "khobar"},
}
CASES = [(role, where, where in seen) for role, seen in VISIBILITY.items() for where in ("dammam", "khobar")]


@pytest.mark.parametrize(("role", "where", "visible"), CASES)
def test_detail_is_visible_only_in_scope(api, request, shops, role, where, visible):
    user = request.getfixturevalue(role)
    response = api.as_user(user).get(f"establishments/{shops[where].id}")
    if visible:
        assert response.status_code == 200
        assert response.json()["id"] == shops[where].id
    else:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("role", list(VISIBILITY))
def test_list_holds_exactly_the_scope(api, request, shops, role):
    user = request.getfixturevalue(role)
    body = api.as_user(user).get("establishments").json()
    assert {item["id"] for item in body["items"]} == {shops[where].id for where in VISIBILITY[role]}
    assert body["count"] == len(VISIBILITY[role])


@pytest.mark.parametrize("role", ["inspector", "supervisor"])
def test_filtering_on_another_municipality_shows_nothing(api, request, shops, khobar, role):
    body = api.as_user(request.getfixturevalue(role)).get("establishments", {"municipality": khobar.id}).json()
    assert body == {"items": [], "count": 0}


def test_user_without_membership_sees_nothing(api, shops):
    user = UserFactory()
    assert api.as_user(user).get("establishments").json()["count"] == 0
    assert api.as_user(user).get(f"establishments/{shops['dammam'].id}").status_code == 404


def test_inactive_user_is_refused(api, inspector, shops):
    inspector.is_active = False
    inspector.save()
    assert api.as_user(inspector).get(f"establishments/{shops['dammam'].id}").status_code == 401


def test_multi_municipality_member_sees_both(api, dammam, khobar, shops):
    from tests.factories import make_user

    user = make_user("inspector", dammam, khobar, username="both")
    assert api.as_user(user).get("establishments").json()["count"] == 2
