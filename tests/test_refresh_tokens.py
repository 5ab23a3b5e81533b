"""Refresh tokens (issue 11, item 14): rotated on use with reuse detection, revoked by logout, a password
change, a deactivation and the removal of the membership."""

import pytest
from django.test import Client

from inspections.models import Membership, RefreshToken

pytestmark = pytest.mark.django_db


def sign_in(api, username="insp_dammam") -> dict:
    response = api.post("auth/token", {"username": username, "password": "pass12345"})
    assert response.status_code == 200, response.content
    return response.json()


def refresh(api, token: str):
    return api.post("auth/refresh", {"refresh": token})


def test_refresh_rotates_and_the_new_pair_works(api, inspector):
    first = sign_in(api)["refresh"]
    response = refresh(api, first)
    assert response.status_code == 200
    body = response.json()
    assert body["refresh"] != first
    assert api.get("me", headers={"Authorization": f"Bearer {body['access']}"}).status_code == 200
    assert refresh(api, body["refresh"]).status_code == 200  # the successor is good for one more turn


def test_a_reused_refresh_token_revokes_its_family(api, inspector):
    stolen = sign_in(api)["refresh"]
    successor = refresh(api, stolen).json()["refresh"]  # the owner rotates
    reused = refresh(api, stolen)  # the thief replays the old one
    assert reused.status_code == 401 and reused.json()["code"] == "invalid_token"
    assert refresh(api, successor).status_code == 401  # so the family is gone, the owner's copy too
    assert set(RefreshToken.objects.values_list("revoked_reason", flat=True)) == {"reused"}


def test_reuse_in_one_sign_in_leaves_the_other_devices_alone(api, inspector):
    phone, tablet = sign_in(api)["refresh"], sign_in(api)["refresh"]
    refresh(api, phone)
    assert refresh(api, phone).status_code == 401
    assert refresh(api, tablet).status_code == 200


def test_logout_revokes_the_family_and_is_idempotent(api, inspector):
    token = sign_in(api)["refresh"]
    successor = refresh(api, token).json()["refresh"]
    assert api.post("auth/logout", {"refresh": successor}).status_code == 204
    assert refresh(api, successor).status_code == 401
    assert api.post("auth/logout", {"refresh": successor}).status_code == 204
    assert RefreshToken.objects.filter(revoked_reason="logout").count() == 2


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": 5}, {"refresh": "x", "more": 1}])
def test_logout_bad_input_is_422(api, inspector, body):
    response = api.post("auth/logout", body)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_logout_with_an_access_token_or_garbage_is_401_and_revokes_nothing(api, inspector):
    tokens = sign_in(api)
    for token in (tokens["access"], "not-a-jwt"):
        response = api.post("auth/logout", {"refresh": token})
        assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    assert not RefreshToken.objects.filter(revoked_at__isnull=False).exists()
    assert refresh(api, tokens["refresh"]).status_code == 200


def test_a_password_change_revokes_refresh_tokens(api, inspector):
    token = sign_in(api)["refresh"]
    inspector.set_password("a-new-secret-1")
    inspector.save()
    assert refresh(api, token).status_code == 401
    assert RefreshToken.objects.get().revoked_reason == "password_changed"


def test_a_password_changed_in_the_admin_revokes_refresh_tokens(api, inspector):
    token = sign_in(api)["refresh"]
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{inspector.pk}/password/", {"password1": "Zx-new-secret-91", "password2": "Zx-new-secret-91"}
    )
    assert response.status_code == 302, response.content[:500]
    assert refresh(api, token).status_code == 401


def test_deactivation_revokes_refresh_tokens(api, inspector):
    token = sign_in(api)["refresh"]
    inspector.is_active = False
    inspector.save()
    assert refresh(api, token).status_code == 401
    inspector.is_active = True  # reactivated: the old sign-in stays revoked
    inspector.save()
    assert refresh(api, token).status_code == 401


def test_membership_removal_revokes_refresh_tokens(api, inspector):
    token = sign_in(api)["refresh"]
    Membership.objects.filter(user=inspector).delete()
    assert refresh(api, token).status_code == 401
    assert RefreshToken.objects.get().revoked_reason == "membership_removed"


def test_the_refresh_and_logout_operations_are_documented(api, db):
    schema = api.get("openapi.json").json()
    refresh_op = schema["paths"]["/api/v1/auth/refresh"]["post"]
    assert "spent" in refresh_op["description"]
    assert refresh_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AccessOut")
    assert set(schema["components"]["schemas"]["AccessOut"]["required"]) == {"access", "refresh"}
    logout_op = schema["paths"]["/api/v1/auth/logout"]["post"]
    assert {"204", "401", "422"} <= set(logout_op["responses"])
