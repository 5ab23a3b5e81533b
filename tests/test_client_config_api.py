"""GET config: the deployment's settings a client needs before signing in (public)."""

import pytest

pytestmark = pytest.mark.django_db


def test_config_is_public_and_names_the_tile_server_and_the_servers_limits(api, settings):
    settings.MAP_TILE_URL = "https://tiles.amanah.example/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© Amanah"
    settings.GEO_LOW_ACCURACY_M = 80.0
    response = api.get("config")
    assert response.status_code == 200
    body = response.json()
    assert body["map_tile_url"] == "https://tiles.amanah.example/{z}/{x}/{y}.png"
    assert body["map_tile_attribution"] == "© Amanah"
    assert body["geo_low_accuracy_m"] == 80.0
    assert body["geo_verified_max_distance_m"] == settings.GEO_VERIFIED_MAX_DISTANCE_M
    assert body["visit_sync_max_batch"] == settings.VISIT_SYNC_MAX_BATCH
    assert body["web_push"] is None


def test_web_push_appears_only_when_firebase_is_configured(api, settings):
    settings.FCM_WEB_CONFIG = {"apiKey": "k", "projectId": "jawla", "messagingSenderId": "1", "appId": "a"}
    settings.FCM_WEB_VAPID_KEY = ""
    assert api.get("config").json()["web_push"] is None
    settings.FCM_WEB_VAPID_KEY = "BPublicKey"
    push = api.get("config").json()["web_push"]
    assert push == {"firebase": settings.FCM_WEB_CONFIG, "vapid_key": "BPublicKey"}


def test_config_refuses_writes(api):
    assert api.post("config", {"map_tile_url": "x"}).status_code == 405
