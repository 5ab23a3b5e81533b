"""The community admin: pages load; a subscription made in the admin gets its secret from the service;
the replay action re-queues with the same event id."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from community.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from community.services.webhooks import event_id_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
REGISTERED = [m for m in admin.site._registry if m._meta.app_label == "community"]


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model.__name__)
def test_changelists_load(staff_client, model):
    response = staff_client.get(reverse(f"admin:community_{model._meta.model_name}_changelist"), {"q": "x"})
    assert response.status_code == 200


def test_subscription_from_the_admin_and_replay_action(staff_client, django_capture_on_commit_callbacks):
    add = reverse("admin:community_webhooksubscription_add")
    response = staff_client.post(
        add,
        {
            "url": "http://127.0.0.1:9/x",
            "description": "licensing",
            "event_types": '["visit.stored"]',
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:500]
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret.startswith("whsec_") and subscription.created_by.username == "root"
    from django.utils import timezone

    event = WebhookEvent.objects.create(
        id=event_id_for("visit.stored", "visit:1"), type="visit.stored", occurred_at=timezone.now(), payload={}
    )
    delivery = WebhookDelivery.objects.create(
        event=event, subscription=subscription, status="delivered", next_attempt_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=False):
        staff_client.post(
            reverse("admin:community_webhookdelivery_changelist"),
            {"action": "replay", "_selected_action": [delivery.pk]},
        )
    assert list(WebhookDelivery.objects.filter(event=event).values_list("generation", flat=True)) == [0, 1]
