from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import override_settings

from inspections.models import Membership

pytestmark = pytest.mark.django_db


def test_token_issue_returns_tokens_and_user(api, inspector, dammam):
    response = api.post("auth/token", {"username": "insp_dammam", "password": "pass12345"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"] == {
        "id": inspector.id,
        "username": "insp_dammam",
        "role": "inspector",
        "municipality_ids": [dammam.id],
    }
    me = api.get("me", headers={"Authorization": f"Bearer {body['access']}"})
    assert me.status_code == 200
    assert me.json()["role"] == Membership.Role.INSPECTOR


def test_wrong_password_is_401_json(api, inspector):
    response = api.post("auth/token", {"username": "insp_dammam", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert "password" in response.json()["detail"].lower()


def test_unknown_user_is_401_not_500(api, db):
    response = api.post("auth/token", {"username": "ghost", "password": "whatever"})
    assert response.status_code == 401


def test_error_message_follows_accept_language(api, inspector):
    response = api.post(
        "auth/token", {"username": "insp_dammam", "password": "nope"}, headers={"Accept-Language": "ar"}
    )
    assert response.status_code == 401
    assert "كلمة المرور" in response.json()["detail"]


def test_refresh_gives_a_working_access_token(api, inspector):
    tokens = api.post("auth/token", {"username": "insp_dammam", "password": "pass12345"}).json()
    refreshed = api.post("auth/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    me = api.get("me", headers={"Authorization": f"Bearer {refreshed.json()['access']}"})
    assert me.status_code == 200 and me.json()["username"] == "insp_dammam"


def test_access_token_cannot_be_used_as_refresh(api, inspector):
    tokens = api.post("auth/token", {"username": "insp_dammam", "password": "pass12345"}).json()
    assert api.post("auth/refresh", {"refresh": tokens["access"]}).status_code == 401
    assert api.get("me", headers={"Authorization": f"Bearer {tokens['refresh']}"}).status_code == 401


def test_expired_access_token_is_refused(api, inspector):
    with override_settings(JWT_ACCESS_LIFETIME=timedelta(seconds=-1)):
        tokens = api.post("auth/token", {"username": "insp_dammam", "password": "pass12345"}).json()
    response = api.get("me", headers={"Authorization": f"Bearer {tokens['access']}"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_forged_token_is_refused(api, inspector):
    forged = jwt.encode({"sub": str(inspector.id), "type": "access", "exp": 9999999999}, "wrong-key", algorithm="HS256")
    assert api.get("me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_inactive_user_cannot_sign_in(api, inspector):
    inspector.is_active = False
    inspector.save()
    assert api.post("auth/token", {"username": "insp_dammam", "password": "pass12345"}).status_code == 401


def test_login_throttled_per_username_with_retry_after(api, inspector):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert api.post("auth/token", {"username": "insp_dammam", "password": "bad"}).status_code == 401
    response = api.post("auth/token", {"username": "insp_dammam", "password": "pass12345"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_login_throttled_per_ip_across_usernames(api, db):
    for i in range(30):  # LOGIN_MAX_FAILURES_PER_IP: one address guessing many usernames
        assert api.post("auth/token", {"username": f"guess{i}", "password": "bad"}).status_code == 401
    assert api.post("auth/token", {"username": "another", "password": "bad"}).status_code == 429


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "x"},
        {"username": 1, "password": "x"},
        {"username": "", "password": "x"},
        {"username": "a", "password": "b", "extra": 1},
    ],
)
def test_token_bad_input_is_422(api, db, body):
    response = api.post("auth/token", body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_token_bare_string_body_is_422(api, db):
    response = api.raw("post", "auth/token", b'"just a string"')
    assert response.status_code == 422


def test_me_without_token_is_401(api, db):
    response = api.get("me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_leader_me_shows_whole_amanah(api, leader, dammam, khobar, amanah):
    body = api.as_user(leader).get("me").json()
    assert body["whole_amanah"] is True
    assert {dammam.id, khobar.id} <= set(body["municipality_ids"])


def test_health_reports_database(api, db):
    response = api.get("health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
