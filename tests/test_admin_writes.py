"""The Django admin writes only through the services (issue 11 item 6).

Each test posts what a staff member would post in the admin and checks what the service would have
done: validation, published_at and the audit trail for checklists; scope, route order, audit and
notifications for rounds; the municipality found again for a moved establishment.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from inspections.models import AuditEvent, ChecklistVersion, Establishment, Membership, Round
from inspections.services.rounds import riyadh_today
from notifications.models import Notification
from tests.factories import ChecklistVersionFactory, EstablishmentFactory, UserFactory, make_user
from tests.rounds_helpers import establishments_on_line
from tests.visit_support import make_checklist

pytestmark = pytest.mark.django_db
Role = Membership.Role


def client_for(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def root(db):
    return client_for(UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.fixture
def staff_supervisor(dammam):
    """A supervisor of Dammam who may use the admin's round pages (and nothing else)."""
    user = make_user(Role.SUPERVISOR, dammam, username="staff_sup")
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="inspections", codename__in=["add_round", "change_round", "view_round"]
        )
    )
    return user


# --- checklists -------------------------------------------------------------------------------------


def test_the_status_of_a_version_is_not_a_form_field(root):
    """The old admin published a version by editing its status: no validation, no published_at, no audit."""
    draft = ChecklistVersionFactory(
        status=ChecklistVersion.Status.DRAFT, published_at=None
    )  # no items: cannot be published
    url = reverse("admin:inspections_checklistversion_change", args=[draft.pk])
    root.post(url, {"checklist": draft.checklist_id, "number": draft.number, "status": "published", "notes": "x"})
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.published_at is None


def test_publishing_in_the_admin_goes_through_the_service(root):
    empty = ChecklistVersionFactory(status=ChecklistVersion.Status.DRAFT, published_at=None)
    changelist = reverse("admin:inspections_checklistversion_changelist")
    response = root.post(changelist, {"action": "publish", "_selected_action": [empty.pk]}, follow=True)
    assert "at least one item" in response.content.decode()  # the service's validation, shown to staff
    empty.refresh_from_db()
    assert empty.status == "draft" and empty.published_at is None

    version, _items = make_checklist()
    version.status, version.published_at = ChecklistVersion.Status.DRAFT, None
    version.save()
    root.post(changelist, {"action": "publish", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == "published" and version.published_at is not None
    assert AuditEvent.objects.filter(action="checklist.version_published", object_id=str(version.pk)).exists()


def test_a_published_version_cannot_be_set_back_to_draft_or_edited(root):
    version, _items = make_checklist()
    url = reverse("admin:inspections_checklistversion_change", args=[version.pk])
    response = root.post(url, {"checklist": version.checklist_id, "number": version.number, "status": "draft"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.status == "published"
    add = reverse("admin:inspections_checklistversion_add")
    assert root.get(add).status_code == 403  # new drafts: the checklist's "New draft version" action


def test_a_new_draft_in_the_admin_is_a_copy_made_by_the_service(root):
    version, items = make_checklist()
    changelist = reverse("admin:inspections_checklist_changelist")
    root.post(changelist, {"action": "new_draft_version", "_selected_action": [version.checklist_id]})
    draft = ChecklistVersion.objects.get(checklist=version.checklist, status="draft")
    assert draft.items.count() == len(items)
    assert AuditEvent.objects.filter(action="checklist.version_drafted").exists()


# --- rounds -----------------------------------------------------------------------------------------


def test_a_round_created_in_the_admin_is_planned_by_the_service(staff_supervisor, dammam, khobar):
    version, _items = make_checklist()
    inspector = make_user(Role.INSPECTOR, dammam, username="insp_a")
    shops = establishments_on_line(dammam, 4, step_deg=0.004)
    far_first = [shops[3], shops[0], shops[2], shops[1]]
    client = client_for(staff_supervisor)
    form = {
        "inspector": inspector.pk,
        "date": (riyadh_today() + timedelta(days=1)).isoformat(),
        "checklist": version.checklist_id,
        "establishments": ",".join(str(shop.pk) for shop in far_first),
        "optimize_route": "on",
        "notes": "",
    }
    response = client.post(reverse("admin:inspections_round_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    round_ = Round.objects.get()
    assert round_.created_by == staff_supervisor and round_.route_optimized
    order = list(round_.stops.order_by("position").values_list("establishment_id", flat=True))
    assert order in ([s.pk for s in shops], [s.pk for s in reversed(shops)])  # the route, not the typed order
    assert AuditEvent.objects.filter(action="round.created", object_id=str(round_.pk)).exists()
    assert Notification.objects.filter(recipient=inspector, kind="round_assigned").count() == 1

    # Out of the supervisor's scope: a Khobar inspector is refused, nothing written, the reason shown.
    outsider = make_user(Role.INSPECTOR, khobar, username="insp_khobar_x")
    response = client.post(reverse("admin:inspections_round_add"), {**form, "inspector": outsider.pk}, follow=True)
    assert response.status_code == 200
    assert Round.objects.count() == 1
    assert any(message.level_tag == "error" for message in response.context["messages"])


def test_a_round_reassigned_in_the_admin_tells_both_inspectors_and_is_audited(staff_supervisor, dammam):
    version, _items = make_checklist()
    first = make_user(Role.INSPECTOR, dammam, username="insp_first")
    second = make_user(Role.INSPECTOR, dammam, username="insp_second")
    from inspections.services.rounds import round_create

    round_ = round_create(
        actor=staff_supervisor,
        inspector_id=first.pk,
        date=riyadh_today() + timedelta(days=1),
        checklist_id=version.checklist_id,
        establishment_ids=[shop.pk for shop in establishments_on_line(dammam, 3)],
    )
    client = client_for(staff_supervisor)
    url = reverse("admin:inspections_round_change", args=[round_.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = {
        "inspector": second.pk,
        "stops-TOTAL_FORMS": "3",
        "stops-INITIAL_FORMS": "3",
        "stops-MIN_NUM_FORMS": "0",
        "stops-MAX_NUM_FORMS": "1000",
    }
    for index, stop in enumerate(round_.stops.order_by("position")):
        form[f"stops-{index}-id"] = stop.pk
        form[f"stops-{index}-round"] = round_.pk
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    round_.refresh_from_db()
    assert round_.inspector == second
    assert AuditEvent.objects.filter(action="round.reassigned", object_id=str(round_.pk)).exists()
    assert Notification.objects.filter(recipient=second, kind="round_assigned").exists()
    assert Notification.objects.filter(recipient=first, kind="round_changed", payload__change="unassigned").exists()


# --- establishments ---------------------------------------------------------------------------------


def test_an_establishment_moved_in_the_admin_gets_the_municipality_of_its_new_place(root, dammam, khobar):
    establishment = EstablishmentFactory(municipality=dammam, lat=dammam.centre_lat, lon=dammam.centre_lon)
    url = reverse("admin:inspections_establishment_change", args=[establishment.pk])
    form = {
        "name_ar": establishment.name_ar,
        "name_en": establishment.name_en,
        "category": establishment.category_id,
        "address": "",
        "lat": khobar.centre_lat,
        "lon": khobar.centre_lon,
        "municipality": dammam.pk,  # the page still shows the old one: not a deliberate override
        "status": "active",
        "size_class": "large",
    }
    response = root.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    establishment.refresh_from_db()
    assert establishment.municipality == khobar and not establishment.municipality_overridden
    assert AuditEvent.objects.filter(action="establishment.updated", object_id=str(establishment.pk)).exists()


def test_an_establishment_added_in_the_admin_is_registered_by_the_service(root, dammam):
    form = {
        "name_ar": "بقالة جديدة",
        "name_en": "New grocery",
        "category": EstablishmentFactory(municipality=dammam).category_id,
        "licence_no": "2050999999",
        "address": "",
        "lat": dammam.centre_lat,
        "lon": dammam.centre_lon,
        "municipality": "",
        "status": "active",
        "size_class": "large",
    }
    response = root.post(reverse("admin:inspections_establishment_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    added = Establishment.objects.get(licence_no="2050999999")
    assert added.municipality == dammam and added.h3_r9
    assert AuditEvent.objects.filter(action="establishment.created", object_id=str(added.pk)).exists()
