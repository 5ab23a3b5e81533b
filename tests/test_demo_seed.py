"""The demo's foundation: real Eastern Province cities, demo boundaries, users, establishments; idempotent."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from shapely.geometry import Point, shape

from inspections.demo import foundation
from inspections.domain.geo import municipality_at
from inspections.models import Category, Establishment, Membership, Municipality

pytestmark = pytest.mark.django_db
User = get_user_model()

REQUIRED = [
    "DAMMAM",
    "KHOBAR",
    "DHAHRAN",
    "QATIF",
    "JUBAIL",
    "AL-AHSA",
    "HAFAR-ALBATIN",
    "RAS-TANURA",
    "ABQAIQ",
    "KHAFJI",
]


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    foundation.seed()


def counts():
    return {
        model.__name__: model.objects.count() for model in (Municipality, Category, Establishment, User, Membership)
    }


def test_second_run_adds_nothing(seeded):
    first = counts()
    snapshot = list(
        Establishment.objects.order_by("licence_no").values_list("licence_no", "lat", "lon", "municipality_id")
    )
    foundation.seed()
    assert counts() == first
    assert (
        list(Establishment.objects.order_by("licence_no").values_list("licence_no", "lat", "lon", "municipality_id"))
        == snapshot
    )


def test_municipalities_are_real_cities_with_demo_boundaries(seeded):
    amanah = Municipality.objects.get(code="EP-AMANAH", kind="amanah")
    children = {m.code: m for m in Municipality.objects.filter(parent=amanah)}
    assert set(REQUIRED) <= set(children)
    dammam = children["DAMMAM"]
    assert dammam.name_ar == "الدمام" and dammam.name_en == "Dammam"
    assert dammam.centre_lat == pytest.approx(26.434, abs=0.01) and dammam.centre_lon == pytest.approx(50.103, abs=0.01)
    for municipality in children.values():
        geometry = shape(municipality.boundary)
        assert municipality.boundary_is_demo and geometry.is_valid
        assert geometry.contains(Point(municipality.centre_lon, municipality.centre_lat))
        assert municipality_at(municipality.centre_lat, municipality.centre_lon) == municipality.id
        assert any("\u0600" <= ch <= "\u06ff" for ch in municipality.name_ar)


def test_demo_boundaries_do_not_overlap(seeded):
    shapes = [shape(m.boundary) for m in Municipality.objects.filter(kind="baladiya")]
    for index, first in enumerate(shapes):
        for second in shapes[index + 1 :]:
            assert first.intersection(second).area < 1e-7  # rounding to 6 decimals: under 1,000 m²


def test_establishments_lie_inside_their_municipality(seeded):
    establishments = list(Establishment.objects.select_related("municipality"))
    assert 300 <= len(establishments) <= 800
    assert len({e.licence_no for e in establishments}) == len(establishments)
    per_municipality = {}
    for establishment in establishments:
        assert shape(establishment.municipality.boundary).contains(Point(establishment.lon, establishment.lat))
        per_municipality[establishment.municipality.code] = per_municipality.get(establishment.municipality.code, 0) + 1
    assert set(REQUIRED) <= set(per_municipality)
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in e.name_ar) and e.name_en for e in establishments[:50])


def test_categories_have_both_names(seeded):
    codes = set(Category.objects.values_list("code", flat=True))
    assert {"grocery", "restaurant", "bakery", "butcher", "cafe", "pharmacy", "supermarket", "market-stall"} <= codes
    assert Category.objects.get(code="bakery").name_ar == "مخبز"


DEMO_SCOPES = [
    ("supervisor_dammam", "supervisor", {"DAMMAM"}),
    ("inspector_dammam", "inspector", {"DAMMAM"}),
    ("inspector_khobar", "inspector", {"KHOBAR"}),
    ("supervisor_khobar", "supervisor", {"KHOBAR", "DHAHRAN"}),
    ("inspector_qatif", "inspector", {"QATIF", "TARUT"}),
]


def test_demo_users_roles_and_scope(seeded):
    for username, role, municipalities in DEMO_SCOPES:
        membership = Membership.objects.get(user__username=username)
        assert membership.role == role
        assert set(membership.municipalities.values_list("code", flat=True)) == municipalities
        assert membership.user.check_password(settings.DEMO_PASSWORD)
        assert membership.user.first_name and any("\u0600" <= ch <= "\u06ff" for ch in membership.user.first_name)
    assert Membership.objects.filter(role="inspector").count() >= 10


def test_admin_and_leader(seeded):
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.membership.role == "admin"
    leader = Membership.objects.get(user__username="leader")
    assert leader.role == "leadership" and leader.amanah.code == "EP-AMANAH"


def test_demo_logins_work_through_the_api(seeded, api):
    for username in ("admin", "leader", "supervisor_dammam", "inspector_dammam", "inspector_khobar"):
        response = api.post("auth/token", {"username": username, "password": settings.DEMO_PASSWORD})
        assert response.status_code == 200, (username, response.content)
    token = api.post("auth/token", {"username": "inspector_khobar", "password": settings.DEMO_PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access']}"}
    listed = api.get("establishments", {"limit": 200}, headers=headers).json()
    khobar = Municipality.objects.get(code="KHOBAR")
    assert listed["count"] == Establishment.objects.filter(municipality=khobar).count() > 0
    dammam_shop = Establishment.objects.filter(municipality__code="DAMMAM").first()
    assert api.get(f"establishments/{dammam_shop.id}", headers=headers).status_code == 404


def test_seed_fills_in_what_is_missing(seeded):
    Establishment.objects.filter(municipality__code="KHAFJI").delete()
    User.objects.filter(username="inspector_khafji").delete()
    foundation.seed()
    assert Establishment.objects.filter(municipality__code="KHAFJI").exists()
    assert User.objects.filter(username="inspector_khafji").exists()
