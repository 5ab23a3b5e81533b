"""Issue 11, item 17: API docs without a CDN, a Content-Security-Policy (with the map tile server from
MAP_TILE_URL), JSON 404s for unknown API paths, and a health check that tells anonymous callers no
internal address and answers in bounded time while the broker hangs."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.test import Client, override_settings

from backend.content_security import content_security_policy, tile_origin
from inspections.services import health as health_service

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_the_api_docs_use_the_bundled_swagger_ui(db):
    page = Client().get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    from django.contrib.staticfiles import finders

    assert finders.find("ninja/swagger-ui-bundle.js")  # collected and served by whitenoise like ours


@pytest.mark.parametrize("url", ["/dashboard/login/", "/api/v1/docs", "/admin/login/", "/api/v1/health"])
def test_every_page_has_a_content_security_policy(db, url):
    policy = directives(Client().get(url)["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["worker-src"] == ["'self'"]  # the field app's service worker
    assert {"'self'", "data:", "blob:"} <= set(policy["img-src"])  # photos taken offline, Leaflet's icons
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


@pytest.mark.parametrize(
    "template,origin",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tiles.example.sa:8443/{z}/{x}/{y}.png", "https://*.tiles.example.sa:8443"),
        ("http://10.1.2.3/tiles/{z}/{x}/{y}.png", "http://10.1.2.3"),
        ("", None),
        ("javascript:alert(1)", None),
    ],
)
def test_the_tile_origin_comes_from_map_tile_url(template, origin):
    assert tile_origin(template) == origin
    policy = content_security_policy(map_tile_url=template)["DIRECTIVES"]
    assert (origin in policy["img-src"]) if origin else policy["img-src"] == ["'self'", "data:", "blob:"]


def test_the_settings_build_the_policy_from_map_tile_url():
    script = "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'])"
    env = {"MAP_TILE_URL": "https://tiles.amanah.example/{z}/{x}/{y}.png", "DJANGO_SETTINGS_MODULE": "backend.settings"}
    output = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=Path(__file__).resolve().parents[1],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "https://tiles.amanah.example" in output


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v2/visits", "/api/", "/api/v1/visits/1/nope"])
def test_unknown_api_paths_answer_json_404(db, path):
    response = Client().get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@override_settings(CELERY_BROKER_URL="redis://:s3cret@10.20.30.40:6390/1", HEALTH_PROBE_TIMEOUT_SECONDS=0.2)
def test_anonymous_health_names_no_internal_address(db):
    response = Client().get("/api/v1/health")
    body = response.json()
    assert set(body) == {"status", "database", "broker"}
    assert body["broker"] == "down" and body["status"] == "degraded"
    assert "10.20.30.40" not in response.content.decode()


@override_settings(CELERY_BROKER_URL="redis://:s3cret@10.20.30.40:6390/1", HEALTH_PROBE_TIMEOUT_SECONDS=0.2)
def test_staff_see_the_reasons_and_the_redacted_address(db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True))
    body = client.get("/api/v1/health").json()
    assert body["broker_url"] == "redis://:***@10.20.30.40:6390/1"
    assert body["broker"].startswith("down: ")


@pytest.fixture
def silent_broker():
    """A TCP server that accepts connections and never says a word (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(100)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_health_answers_in_bounded_time_while_the_broker_hangs(db, silent_broker):
    results: list[tuple[int, float]] = []
    probes_before = health_service.broker_status.probes

    def call():
        started = time.monotonic()
        response = Client().get("/api/v1/health")
        results.append((response.status_code, time.monotonic() - started))

    with override_settings(CELERY_BROKER_URL=silent_broker, HEALTH_PROBE_TIMEOUT_SECONDS=1.0):
        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(results) == 20 and {status for status, _ in results} == {200}
    # A hung broker costs each caller at most about the probe's timeout, never a pile-up.
    assert max(took for _, took in results) < 5, results
    # Callers that arrive during a probe share it.
    assert health_service.broker_status.probes - probes_before < 20
