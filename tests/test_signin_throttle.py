"""Sign-in throttling (issue 11, items 11-13 and the sign-in pins of 22): one mechanism (django-axes) for
the admin, the dashboard and POST auth/token; the client's address read through the trusted proxies;
a lockout that cannot be turned against another user; successful sign-ins limited per user and client."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from inspections.models import Membership
from tests.factories import UserFactory, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "pass12345"
LB = "10.0.0.1"  # the load balancer / nginx: every request arrives from it


def sign_in(client: Client, username: str, password: str, *, forwarded: str | None = None, ip: str = "127.0.0.1"):
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        "/api/v1/auth/token", {"username": username, "password": password}, content_type="application/json", **extra
    )


# ---- item 11: every sign-in form ---------------------------------------------------------------------------


@pytest.mark.parametrize("login_url", ["/admin/login/", "/dashboard/login/"])
def test_form_sign_ins_are_throttled_like_the_api(db, login_url):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    for attempt in range(5):
        response = client.post(login_url, {"username": "root", "password": f"guess-{attempt}"})
        assert response.status_code in (200, 429)  # the form again; the fifth failure already shows the lockout
    response = client.post(login_url, {"username": "root", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in client.session  # the right password did not sign in


def test_failures_on_the_admin_form_also_lock_the_api(api, inspector):
    client = Client()
    for attempt in range(5):
        client.post("/admin/login/", {"username": "insp_dammam", "password": f"guess-{attempt}"})
    response = sign_in(Client(), "insp_dammam", PASSWORD)
    assert response.status_code == 429 and response.json()["code"] == "throttled"


def test_an_unthrottled_form_sign_in_still_works(admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    client = Client()
    response = client.post("/dashboard/login/", {"username": "admin_user", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


# ---- item 22: the limit is five, and a success does not wipe other usernames' failures ----------------------


def test_the_sixth_attempt_is_refused_after_five_failures(api, inspector):
    client = Client()
    statuses = [sign_in(client, "insp_dammam", f"guess-{n}").status_code for n in range(5)]
    assert statuses == [401] * 5
    response = sign_in(client, "insp_dammam", PASSWORD)
    assert response.status_code == 429 and int(response["Retry-After"]) == 900


def test_a_success_does_not_reset_the_clients_failures_for_other_usernames(api, inspector):
    client = Client()
    for n in range(29):
        assert sign_in(client, f"ghost-{n}", "bad").status_code == 401
    assert sign_in(client, "insp_dammam", PASSWORD).status_code == 200  # the attacker's own valid account
    assert sign_in(client, "ghost-29", "bad").status_code == 401  # the client's thirtieth failure
    assert sign_in(client, "ghost-30", "bad").status_code == 429


def test_the_lockout_lasts_the_fifteen_minutes_retry_after_announces(api, inspector, tmp_path, settings):
    # The embedded default's file cache: its incr() used to reset the expiry to 5 minutes.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    }
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(5):
            assert sign_in(client, "insp_dammam", f"guess-{n}").status_code == 401
        clock.move_to(start + timedelta(minutes=14, seconds=50))
        response = sign_in(client, "insp_dammam", PASSWORD)
        assert response.status_code == 429
        # A refused attempt restarts the window, which is what the Retry-After it answered says; it holds.
        assert int(response["Retry-After"]) == 900
        clock.move_to(start + timedelta(minutes=14, seconds=50) + timedelta(seconds=901))
        assert sign_in(client, "insp_dammam", PASSWORD).status_code == 200


# ---- item 12: the client behind the proxies; nobody can lock another user out -------------------------------


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_an_attacker_locks_only_himself(api, inspector):
    attacker, owner = Client(), Client()
    for n in range(8):
        sign_in(attacker, "insp_dammam", f"guess-{n}", ip=LB, forwarded="198.51.100.66")
    assert sign_in(attacker, "insp_dammam", PASSWORD, ip=LB, forwarded="198.51.100.66").status_code == 429
    # The owner, from her own address through the same load balancer, is not locked out.
    assert sign_in(owner, "insp_dammam", PASSWORD, ip=LB, forwarded="203.0.113.5").status_code == 200


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_forged_forwarded_for_does_not_buy_fresh_attempts(api, inspector):
    client = Client()
    for n in range(5):
        # nginx appends the real peer: whatever the client wrote is to its left.
        sign_in(client, "insp_dammam", f"guess-{n}", ip=LB, forwarded=f"192.0.2.{n}, 198.51.100.66")
    response = sign_in(client, "insp_dammam", PASSWORD, ip=LB, forwarded="192.0.2.99, 198.51.100.66")
    assert response.status_code == 429


def test_without_a_trusted_proxy_forwarded_for_is_ignored(api, inspector):
    client = Client()
    for n in range(5):
        sign_in(client, "insp_dammam", f"guess-{n}", forwarded=f"192.0.2.{n}")
    assert sign_in(client, "insp_dammam", PASSWORD, forwarded="192.0.2.99").status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_trusted_proxies_take_the_second_hop_from_the_right(api, inspector):
    client = Client()
    for n in range(5):
        sign_in(client, "insp_dammam", f"guess-{n}", ip=LB, forwarded="198.51.100.66, 10.0.0.9")
    assert sign_in(client, "insp_dammam", PASSWORD, ip=LB, forwarded="203.0.113.5, 10.0.0.9").status_code == 200


# ---- item 13: successful sign-ins are limited per user and per client ----------------------------------------


def test_a_user_gets_five_sign_ins_per_ten_minutes(api, inspector, supervisor):
    client = Client()
    for n in range(5):
        assert sign_in(client, "insp_dammam", PASSWORD, ip=f"203.0.113.{n}").status_code == 200
    response = sign_in(client, "insp_dammam", PASSWORD, ip="203.0.113.50")
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 600
    assert sign_in(client, "sup_dammam", PASSWORD, ip="203.0.113.50").status_code == 200  # others are not affected
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        assert sign_in(client, "insp_dammam", PASSWORD, ip="203.0.113.50").status_code == 200


def test_a_client_gets_thirty_sign_ins_per_ten_minutes(api, dammam):
    for n in range(7):
        make_user(Membership.Role.INSPECTOR, dammam, username=f"field-{n}")
    client = Client()
    statuses = [sign_in(client, f"field-{n % 7}", PASSWORD, ip="198.51.100.7").status_code for n in range(30)]
    assert statuses == [200] * 30
    refused = sign_in(client, "field-6", PASSWORD, ip="198.51.100.7")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 600
    # Refused before the password is checked (that hash is the CPU the limit saves): a wrong one is a 429 too.
    assert sign_in(client, "field-6", "wrong", ip="198.51.100.7").status_code == 429
    assert sign_in(client, "field-6", PASSWORD, ip="198.51.100.8").status_code == 200
