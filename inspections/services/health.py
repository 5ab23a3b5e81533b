"""What `GET health` reports: can we reach the database and the Celery broker?"""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the reason is reported
        return f"down: {type(error).__name__}"
    return "ok"


def _broker_status() -> str:
    from backend.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # noqa: BLE001
        return f"down: {type(error).__name__}"
    return "ok"


def health_check() -> dict[str, str]:
    database = _database_status()
    broker = _broker_status()
    return {
        "status": "ok" if database == "ok" and broker == "ok" else "degraded",
        "database": database,
        "broker": broker,
        "broker_url": _redacted(settings.CELERY_BROKER_URL),
    }
