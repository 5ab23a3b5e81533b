"""The field app is served by Django itself (whitenoise) at /field/: the page, an installable
manifest scoped to /field/, a service worker at /field/sw.js (so its scope is /field/), hashed
bundles cached for good, and the page itself revalidated soon so a new build reaches phones."""

import json
import re

import pytest
from django.test import Client

from tests.field_app_support import ensure_field_app_built


@pytest.fixture(scope="module")
def client():
    ensure_field_app_built()
    return Client()  # a new client builds a new middleware chain, so whitenoise sees the build


def test_the_page_is_served_at_field_with_its_manifest(client):
    response = client.get("/field/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = b"".join(response.streaming_content).decode()
    assert 'rel="manifest" href="/field/manifest.webmanifest"' in page
    assert '<html lang="ar" dir="rtl">' in page
    assert "max-age=31536000" not in response.get("Cache-Control", "")


def test_the_manifest_makes_an_installable_app_scoped_to_field(client):
    response = client.get("/field/manifest.webmanifest")
    assert response.status_code == 200
    manifest = json.loads(b"".join(response.streaming_content))
    assert manifest["scope"] == "/field/" and manifest["start_url"] == "/field/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert client.get("/field/" + icon["src"]).status_code == 200


def test_the_service_worker_is_served_from_field_and_never_cached_for_long(client):
    response = client.get("/field/sw.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    assert "immutable" not in response.get("Cache-Control", "")
    worker = b"".join(response.streaming_content).decode()
    assert "index.html" in worker  # the app shell is precached


def test_hashed_bundles_are_immutable_and_served_compressed(client):
    page = b"".join(client.get("/field/").streaming_content).decode()
    bundle = re.search(r'src="(/field/assets/[^"]+\.js)"', page).group(1)
    response = client.get(bundle, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert response.get("Content-Encoding") == "gzip"
