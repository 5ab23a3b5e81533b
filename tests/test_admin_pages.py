"""The Django admin: every inspections model has working pages in English and Arabic; evidence is read-only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from inspections.models import Establishment, Visit
from tests.factories import EstablishmentFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

MODELS = [model for model in apps.get_app_config("inspections").get_models()]


@pytest.fixture
def staff_client(db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def visit(dammam):
    return VisitFactory(establishment=EstablishmentFactory(municipality=dammam))


def test_every_inspections_model_is_registered():
    assert [model.__name__ for model in MODELS if not admin.site.is_registered(model)] == []


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_changelist_and_search_pages_load(staff_client, visit, model, language):
    url = reverse(f"admin:inspections_{model._meta.model_name}_changelist")
    response = staff_client.get(url, {"q": "x"}, headers={"Accept-Language": language})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language


def test_establishment_change_page_and_save_keeps_h3_in_step(staff_client, dammam):
    establishment = EstablishmentFactory(municipality=dammam)
    url = reverse("admin:inspections_establishment_change", args=[establishment.pk])
    assert staff_client.get(url).status_code == 200
    form = {
        "name_ar": establishment.name_ar,
        "name_en": establishment.name_en,
        "category": establishment.category_id,
        "licence_no": establishment.licence_no,
        "address": "",
        "lat": 26.44,  # moved within Dammam (outside every municipality the service refuses it)
        "lon": 50.07,
        "municipality": dammam.pk,
        "status": "active",
        "size_class": "small",
    }
    response = staff_client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    from inspections.domain.geo import h3_cells

    establishment.refresh_from_db()
    assert establishment.h3_r9 == h3_cells(26.44, 50.07)["h3_r9"]


def test_visits_cannot_be_added_changed_or_deleted(staff_client, visit):
    assert staff_client.get(reverse("admin:inspections_visit_add")).status_code == 403
    change_url = reverse("admin:inspections_visit_change", args=[visit.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200  # viewable
    response = staff_client.post(change_url, {"outcome": "violations", "notes": "edited"})
    assert response.status_code == 403
    assert (
        staff_client.post(reverse("admin:inspections_visit_delete", args=[visit.pk]), {"post": "yes"}).status_code
        == 403
    )
    visit.refresh_from_db()
    assert visit.notes == "" and Visit.objects.count() == 1


def test_user_page_has_the_membership_inline(staff_client, inspector):
    response = staff_client.get(reverse("admin:auth_user_change", args=[inspector.pk]))
    assert response.status_code == 200
    assert b"membership-0-role" in response.content or b"membership-" in response.content


def test_non_staff_cannot_open_the_admin(inspector):
    client = Client()
    client.force_login(inspector)
    response = client.get(reverse("admin:inspections_establishment_changelist"))
    assert response.status_code == 302 and Establishment.objects.count() == 0
