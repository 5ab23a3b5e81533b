"""Production settings hold: `check --deploy` is clean, the process refuses to start without a
secret, secrets come only from the environment, every answer carries the security headers and a
request id, log lines are JSON with that request id, and CORS answers only the configured origins.

The production-mode checks run in a subprocess (DJANGO_ENV=production is read at import time);
the rest run in-process through the whole middleware stack."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "prod-test-Zq8w3kLr0vN5xB7cM2jH9pT4yF6gD1sA-not-used-anywhere-else"
JWT_SECRET = "jwt-test-Xp2mK8nV4bQ7rT1wY5zL3cF9hJ6gD0sA-not-used-anywhere-else"
ORIGIN = "https://app.jawla.example"


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DJANGO_SETTINGS_MODULE"}}
    # REDIS_URL too: the failed sign-ins these checks make must not land in a cache that outlives the test.
    for name in (
        "SECRET_KEY",
        "JWT_SIGNING_KEY",
        "DEBUG",
        "LOG_JSON",
        "SECURE_SSL_REDIRECT",
        "CORS_ALLOWED_ORIGINS",
        "REDIS_URL",
    ):
        env.pop(name, None)
    env.update(
        # Its own var/ (file cache, broker folders): never the persistent var/cache of the checkout, where
        # the sixth failed sign-in within 15 minutes (or a parallel run) would be throttled.
        JAWLA_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="backend.settings",
        DJANGO_ENV="production",
        SECRET_KEY=SECRET,
        JWT_SIGNING_KEY=JWT_SECRET,
        ALLOWED_HOSTS="api.jawla.example,testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        CORS_ALLOWED_ORIGINS=ORIGIN,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_check_deploy_is_clean_in_production(tmp_path):
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_with_debug_on(tmp_path):
    # The same command must be able to fail: DEBUG=true in production is a deploy warning.
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _production_env(tmp_path, DEBUG="true"),
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]
    result = _run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_an_empty_secret_key(tmp_path):
    result = _run([sys.executable, "manage.py", "check"], _production_env(tmp_path, SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PROBE = textwrap.dedent(
    """
    import json, logging, sys
    import django
    django.setup()
    from django.conf import settings
    from django.test import Client
    from backend.api import api

    out = {
        "secret_is_env": settings.SECRET_KEY == %(secret)r,
        "jwt_is_env": settings.JWT_SIGNING_KEY == %(jwt)r,
        "debug": settings.DEBUG,
        "cors": list(settings.CORS_ALLOWED_ORIGINS),
        "cors_allow_all": getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False),
        "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
        "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    }
    client = Client()
    plain = client.get("/api/v1/health", headers={"X-Request-ID": "probe-plain-1"})
    out["http_status"] = plain.status_code
    out["http_location"] = plain.get("Location", "")
    secure = client.get("/api/v1/health", secure=True, headers={"X-Request-ID": "probe-health-1"})
    out["https_status"] = secure.status_code
    out["https_headers"] = {k: v for k, v in secure.items()}
    missing = client.get("/api/v1/no-such-endpoint", secure=True, headers={"X-Request-ID": "probe-404-777"})
    out["missing_status"] = missing.status_code
    token = client.post(
        "/api/v1/auth/token", {"username": "nobody", "password": "wrong"}, content_type="application/json",
        secure=True, headers={"X-Request-ID": "probe-login-5"},
    )
    out["login_status"] = token.status_code
    out["login_content_type"] = token["Content-Type"]
    sys.stderr.flush()
    print("PROBE:" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def production_probe(tmp_path_factory):
    """One production-mode process: settings, a plain and a TLS request, a 404 that logs."""
    tmp_path = tmp_path_factory.mktemp("prod")
    env = _production_env(tmp_path)
    migrate = _run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    assert migrate.returncode == 0, migrate.stderr
    result = _run([sys.executable, "-c", PROBE % {"secret": SECRET, "jwt": JWT_SECRET}], env)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE:"))
    return json.loads(line.removeprefix("PROBE:")), result.stderr


def test_secrets_come_from_the_environment(production_probe):
    probe, _ = production_probe
    assert probe["secret_is_env"] and probe["jwt_is_env"]
    assert probe["debug"] is False
    assert probe["session_cookie_secure"] and probe["csrf_cookie_secure"]


def test_no_secret_literal_in_settings_is_used_in_production():
    # The only literal key in settings.py is the development fallback; production never reaches it.
    source = (ROOT / "backend" / "settings.py").read_text()
    assert 'raise ImproperlyConfigured("SECRET_KEY must be set' in source
    assert "FCM_CREDENTIALS_FILE = env." in source  # push credentials: a path from the environment


def test_plain_http_is_redirected_to_https(production_probe):
    probe, _ = production_probe
    assert probe["http_status"] == 301
    assert probe["http_location"].startswith("https://")


def test_security_headers_in_production(production_probe):
    probe, _ = production_probe
    headers = {k.lower(): v for k, v in probe["https_headers"].items()}
    assert probe["https_status"] == 200
    hsts = headers["strict-transport-security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["x-request-id"] == "probe-health-1"
    assert headers["content-type"].startswith("application/json")


def test_production_errors_are_json(production_probe):
    probe, _ = production_probe
    assert probe["login_status"] == 401
    assert probe["login_content_type"].startswith("application/json")


def test_log_lines_are_json_with_the_request_id(production_probe):
    probe, stderr = production_probe
    assert probe["missing_status"] == 404
    records = []
    for line in stderr.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    not_found = [r for r in records if r.get("request_id") == "probe-404-777"]
    assert not_found, stderr
    assert {"asctime", "levelname", "name", "message"} <= not_found[0].keys()
    assert "/api/v1/no-such-endpoint" in not_found[0]["message"]


def test_cors_is_limited_to_the_configured_origins_in_production(production_probe):
    probe, _ = production_probe
    assert probe["cors"] == [ORIGIN]
    assert not probe["cors_allow_all"]


# ---- in-process: the middleware stack under the test settings ---------------------------------


@pytest.mark.django_db
def test_request_id_is_echoed():
    response = Client().get("/api/v1/health", headers={"X-Request-ID": "phone-42.retry_1"})
    assert response["X-Request-ID"] == "phone-42.retry_1"


@pytest.mark.django_db
def test_request_id_is_generated_when_missing_or_unsafe():
    first = Client().get("/api/v1/health")["X-Request-ID"]
    second = Client().get("/api/v1/health")["X-Request-ID"]
    assert len(first) == 32 and first != second
    hostile = Client().get("/api/v1/health", headers={"X-Request-ID": "x" * 65})
    assert hostile["X-Request-ID"] != "x" * 65 and len(hostile["X-Request-ID"]) == 32
    injected = Client().get("/api/v1/health", headers={"X-Request-ID": "a b<script>"})
    assert "<" not in injected["X-Request-ID"] and " " not in injected["X-Request-ID"]


@pytest.mark.django_db
def test_request_id_reaches_the_json_log_formatter():
    # The formatter and filter exactly as settings.LOGGING declares them, on a captured stream.
    import io
    import logging
    import logging.config

    from django.conf import settings

    config = settings.LOGGING
    stream = io.StringIO()
    configurator = logging.config.DictConfigurator(
        {"version": 1, "formatters": {"json": dict(config["formatters"]["json"])}}
    )
    formatter = configurator.configure_formatter(dict(config["formatters"]["json"]))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(logging.config.DictConfigurator({}).configure_filter(dict(config["filters"]["request_id"])))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        Client().get("/api/v1/not-a-route", headers={"X-Request-ID": "log-check-9"})
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert any(line["request_id"] == "log-check-9" and line["levelname"] == "WARNING" for line in lines), lines


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN])
def test_cors_preflight_answers_a_configured_origin():
    response = Client().options(
        "/api/v1/health",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    get = Client().get("/api/v1/health", headers={"Origin": ORIGIN})
    assert get["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN])
def test_cors_ignores_any_other_origin():
    for origin in (
        "https://evil.example",
        "https://app.jawla.example.evil.example",
        "null",
        "http://app.jawla.example",
    ):
        preflight = Client().options(
            "/api/v1/auth/token",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert "Access-Control-Allow-Origin" not in preflight, origin
        get = Client().get("/api/v1/health", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in get, origin
        assert "Access-Control-Allow-Credentials" not in get, origin


@pytest.mark.django_db
def test_cors_is_closed_by_default():
    from django.conf import settings

    if settings.CORS_ALLOWED_ORIGINS:
        pytest.skip("CORS_ALLOWED_ORIGINS set in this environment")
    get = Client().get("/api/v1/health", headers={"Origin": "https://anything.example"})
    assert "Access-Control-Allow-Origin" not in get
