"""Scopes are cached across requests; a change to a membership or a municipality takes effect at
the caller's next request, and nothing is served from another user's entry."""

import pytest

from inspections.models import Membership
from inspections.selectors import scope as scope_module
from tests.factories import KHOBAR, EstablishmentFactory, MunicipalityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_khobar(khobar):
    return EstablishmentFactory(municipality=khobar)


def test_second_request_reads_no_membership(api, supervisor, dammam, django_assert_num_queries):
    shop = EstablishmentFactory(municipality=dammam)
    client = api.as_user(supervisor)
    assert client.get(f"establishments/{shop.pk}").status_code == 200
    # The same call again: the scope comes from the cache. Counting the queries of the whole
    # request pins it: the user, the establishment (with its category and municipality).
    with django_assert_num_queries(2):
        assert client.get(f"establishments/{shop.pk}").status_code == 200


def test_municipality_added_to_membership_is_visible_at_the_next_request(
    api, supervisor, shop_khobar, django_capture_on_commit_callbacks
):
    client = api.as_user(supervisor)
    assert client.get(f"establishments/{shop_khobar.pk}").status_code == 404  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        supervisor.membership.municipalities.add(shop_khobar.municipality)
    assert client.get(f"establishments/{shop_khobar.pk}").status_code == 200


def test_revoked_membership_is_out_at_the_next_request(api, supervisor, dammam, django_capture_on_commit_callbacks):
    shop = EstablishmentFactory(municipality=dammam)
    client = api.as_user(supervisor)
    assert client.get(f"establishments/{shop.pk}").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        supervisor.membership.municipalities.remove(dammam)
    assert client.get(f"establishments/{shop.pk}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(user=supervisor).delete()
    answer = client.get("establishments")
    assert answer.status_code == 403 or answer.json()["items"] == []


def test_role_change_is_seen_at_the_next_request(api, supervisor, django_capture_on_commit_callbacks):
    client = api.as_user(supervisor)
    assert client.get("analytics/violation-rates", {"group_by": "municipality"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        membership = supervisor.membership
        membership.role = Membership.Role.INSPECTOR
        membership.save()
    assert client.get("analytics/violation-rates", {"group_by": "municipality"}).status_code == 403


def test_new_municipality_of_the_amanah_reaches_leadership(api, leader, amanah, django_capture_on_commit_callbacks):
    client = api.as_user(leader)
    client.get("establishments")  # leadership's scope cached without the new municipality
    with django_capture_on_commit_callbacks(execute=True):
        qatif = MunicipalityFactory(code="QATIF", name_en="Qatif", parent=amanah, centre_lat=KHOBAR[0] + 0.4)
        shop = EstablishmentFactory(municipality=qatif)
    assert client.get(f"establishments/{shop.pk}").status_code == 200


def test_lost_generation_never_revives_an_old_entry(api, supervisor, shop_khobar):
    """A bump can be lost (the cache was unreachable at commit) and the generation counter can be
    evicted; the restarted generation must not equal the one old entries carry."""
    from django.core.cache import cache

    client = api.as_user(supervisor)
    assert client.get(f"establishments/{shop_khobar.pk}").status_code == 404  # cached at generation G
    supervisor.membership.municipalities.add(shop_khobar.municipality)  # its bump never runs (no commit)
    cache.delete(scope_module._GENERATION_KEY)  # evicted
    assert client.get(f"establishments/{shop_khobar.pk}").status_code == 200
