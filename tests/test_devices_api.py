"""POST devices / DELETE devices/{token}: registration, moving a token, scope, bad input."""

import pytest

from notifications.models import Device
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_register_then_re_register_is_one_device(api, inspector):
    client = api.as_user(inspector)
    first = client.post("devices", {"token": "tok-abc:123_x-y", "platform": "android"})
    assert first.status_code == 201, first.content
    assert first.json()["token"] == "tok-abc:123_x-y" and first.json()["is_active"] is True
    again = client.post("devices", {"token": "tok-abc:123_x-y", "platform": "ios"})
    assert again.status_code == 200
    device = Device.objects.get()
    assert device.user == inspector and device.platform == "ios"


def test_a_token_re_registered_by_another_user_moves_and_reactivates(api, inspector, supervisor):
    device = DeviceFactory(user=inspector, token="shared-phone", is_active=False, deactivated_reason="UNREGISTERED")
    response = api.as_user(supervisor).post("devices", {"token": "shared-phone", "platform": "android"})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.user == supervisor and device.is_active and device.deactivated_reason == ""
    assert Device.objects.count() == 1


def test_only_the_ten_most_recent_devices_stay_active(api, inspector):
    client = api.as_user(inspector)
    for n in range(12):
        assert client.post("devices", {"token": f"phone-{n}", "platform": "android"}).status_code == 201
    active = set(Device.objects.filter(is_active=True).values_list("token", flat=True))
    assert active == {f"phone-{n}" for n in range(2, 12)}
    # Re-registering an old phone makes it current again.
    assert client.post("devices", {"token": "phone-0", "platform": "android"}).status_code == 200
    assert Device.objects.get(token="phone-0").is_active
    assert Device.objects.filter(is_active=True).count() == 10


def test_delete_a_token_with_fcm_punctuation(api, inspector):
    token = "dGVzdA:APA91bH-x_y.z~1"
    DeviceFactory(user=inspector, token=token)
    assert api.as_user(inspector).delete(f"devices/{token}").status_code == 204
    assert not Device.objects.exists()


def test_delete_own_device(api, inspector):
    DeviceFactory(user=inspector, token="mine")
    response = api.as_user(inspector).delete("devices/mine")
    assert response.status_code == 204
    assert not Device.objects.exists()


def test_delete_another_users_device_is_404_and_keeps_it(api, inspector, inspector_khobar):
    DeviceFactory(user=inspector_khobar, token="theirs")
    response = api.as_user(inspector).delete("devices/theirs")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Device.objects.filter(token="theirs", user=inspector_khobar).exists()


def test_delete_unknown_token_is_404(api, inspector):
    assert api.as_user(inspector).delete("devices/nope").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "t"},
        {"token": "", "platform": "android"},
        {"token": "t", "platform": "blackberry"},
        {"token": 123, "platform": "android"},
        {"token": "t", "platform": "android", "user_id": 1},
        {"token": "a\x00b", "platform": "android"},
        {"token": "has space", "platform": "android"},
        {"token": "x" * 4097, "platform": "android"},
        "just a string",
        [],
    ],
)
def test_bad_device_input_is_422_and_writes_nothing(api, inspector, body):
    response = api.as_user(inspector).post("devices", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] in {"validation_error", "invalid_json"}
    assert Device.objects.count() == 0


def test_malformed_json_is_4xx_and_writes_nothing(api, inspector):
    response = api.as_user(inspector).raw("post", "devices", b'{"token": ')
    assert 400 <= response.status_code < 500
    assert "code" in response.json()
    assert Device.objects.count() == 0


def test_devices_need_authentication(api):
    assert api.post("devices", {"token": "t", "platform": "android"}).status_code == 401
    assert api.delete("devices/t").status_code == 401
    assert Device.objects.count() == 0
