"""Helpers for the visits, findings and photos tests: a small checklist and visit payloads."""

import io
import uuid
from datetime import timedelta

from django.utils import timezone
from PIL import Image

from inspections.models import ChecklistItem
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory, EstablishmentFactory

Severity = ChecklistItem.Severity
AnswerType = ChecklistItem.AnswerType


def make_checklist():
    """A published version with: MASKS (minor), SANITISER (major), EXPIRED (critical),
    TEMP (number 0..8, minor), FLOOR (choice clean/dirty, dirty fails, major) and an optional NOTE item."""
    version = ChecklistVersionFactory()
    items = {
        "MASKS": ChecklistItemFactory(version=version, code="MASKS", severity=Severity.MINOR, fine_sar=100),
        "SANITISER": ChecklistItemFactory(version=version, code="SANITISER", severity=Severity.MAJOR, fine_sar=500),
        "EXPIRED": ChecklistItemFactory(version=version, code="EXPIRED", severity=Severity.CRITICAL, fine_sar=5000),
        "TEMP": ChecklistItemFactory(
            version=version, code="TEMP", answer_type=AnswerType.NUMBER, min_value=0, max_value=8, unit="°C"
        ),
        "FLOOR": ChecklistItemFactory(
            version=version,
            code="FLOOR",
            answer_type=AnswerType.CHOICE,
            choices=["clean", "dirty"],
            failing_choices=["dirty"],
            severity=Severity.MAJOR,
        ),
        "EXTRA": ChecklistItemFactory(version=version, code="EXTRA", required=False),
    }
    return version, items


PASSING = {"MASKS": "yes", "SANITISER": "yes", "EXPIRED": "yes", "TEMP": 4, "FLOOR": "clean"}


def answers(**overrides):
    values = {**PASSING, **overrides}
    return [{"item_code": code, "value": value} for code, value in values.items() if value is not None]


def visit_payload(
    establishment,
    version,
    *,
    client_id=None,
    finished_at=None,
    minutes=10,
    location="at",
    outcome=None,
    round_stop=None,
    **answer_overrides,
):
    finished_at = finished_at or timezone.now() - timedelta(minutes=5)
    given = answers(**answer_overrides)
    failing = any(
        (a["item_code"] in {"MASKS", "SANITISER", "EXPIRED"} and a["value"] == "no")
        or (a["item_code"] == "FLOOR" and a["value"] == "dirty")
        or (a["item_code"] == "TEMP" and isinstance(a["value"], int | float) and not 0 <= a["value"] <= 8)
        for a in given
    )
    payload = {
        "client_id": str(client_id or uuid.uuid4()),
        "establishment_id": establishment.id,
        "checklist_version_id": version.id,
        "started_at": (finished_at - timedelta(minutes=minutes)).isoformat(),
        "finished_at": finished_at.isoformat(),
        "outcome": outcome or ("violations" if failing else "compliant"),
        "answers": given,
    }
    if location == "at":
        payload["location"] = {"lat": establishment.lat, "lon": establishment.lon, "accuracy_m": 8.0}
    elif location is not None:
        payload["location"] = location
    if round_stop is not None:
        payload["round_stop_id"] = round_stop.id
    return payload


def shop(municipality, **kwargs):
    return EstablishmentFactory(municipality=municipality, **kwargs)


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=None, fmt="JPEG") -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(buffer, fmt, exif=exif)
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()
