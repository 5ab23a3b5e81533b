"""Issue 11, item 18: development mode signs with a random key generated into the ignored var/ (none is
committed); a device token moved to another user answers its old owner's DELETE as documented; the demo's
device tokens are random."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from notifications.models import Device
from tests.factories import DeviceFactory

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMITTED_KEY = "dev-only-insecure-key-change-me-3f8a1c9e7b2d4e6f"


def settings_in_subprocess(var_dir: Path, expression: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k not in ("SECRET_KEY", "DJANGO_ENV")}
    env.update(JAWLA_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="backend.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_development_generates_a_random_key_into_var_once(tmp_path):
    first = settings_in_subprocess(tmp_path, "settings.SECRET_KEY")
    second = settings_in_subprocess(tmp_path, "settings.SECRET_KEY")
    assert first == second and len(first) >= 50 and first != OLD_COMMITTED_KEY
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Another checkout (another var/) gets another key.
    assert settings_in_subprocess(tmp_path / "elsewhere", "settings.SECRET_KEY") != first


def test_no_secret_key_is_committed():
    settings_source = (ROOT / "backend" / "settings.py").read_text()
    assert OLD_COMMITTED_KEY not in settings_source
    assert "var/" in (ROOT / ".gitignore").read_text().split() or "/var/" in (ROOT / ".gitignore").read_text()


@pytest.mark.django_db
def test_a_jwt_forged_with_the_old_committed_key_is_refused(api, admin_user):
    forged = jwt.encode({"sub": str(admin_user.pk), "type": "access", "exp": 4102444800, "jti": "x"}, OLD_COMMITTED_KEY)
    assert api.get("me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.django_db
def test_a_moved_token_answers_its_old_owner_404_and_stays_with_the_new_one(api, inspector, supervisor):
    assert api.as_user(inspector).post("devices", {"token": "phone-42", "platform": "android"}).status_code == 201
    assert api.as_user(supervisor).post("devices", {"token": "phone-42", "platform": "android"}).status_code == 200
    response = api.as_user(inspector).delete("devices/phone-42")  # the old owner signs out on an old install
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Device.objects.get(token="phone-42").user == supervisor
    assert api.as_user(supervisor).delete("devices/phone-42").status_code == 204


@pytest.mark.django_db
def test_demo_device_tokens_are_random_and_seeded_once(inspector, supervisor):
    from inspections.demo.notifications import seed
    from inspections.demo.records import demo_record

    demo_record([inspector, supervisor])  # demo users: the seed gives phones only to users it created
    DeviceFactory(user=supervisor, token="a-real-phone")
    seed()
    seed()
    demo = Device.objects.get(user=inspector)  # one, however often the seed runs
    assert inspector.username not in demo.token and len(demo.token) >= 40
    assert list(Device.objects.filter(user=supervisor).values_list("token", flat=True)) == ["a-real-phone"]
