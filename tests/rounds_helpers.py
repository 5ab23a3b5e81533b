"""Shared set-up for the rounds tests: a published checklist and establishments laid out on a line."""

from inspections.models import AuditEvent, ChecklistVersion, Round, RoundStop
from notifications.models import Notification
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory, EstablishmentFactory


def published_checklist():
    version = ChecklistVersionFactory(status=ChecklistVersion.Status.PUBLISHED)
    ChecklistItemFactory(version=version, code="Q1")
    return version.checklist


def establishments_on_line(municipality, count: int, step_deg: float = 0.004):
    """`count` establishments due east of the municipality's centre, `step_deg` apart, west to east."""
    return [
        EstablishmentFactory(
            municipality=municipality, lat=municipality.centre_lat, lon=municipality.centre_lon + i * step_deg
        )
        for i in range(count)
    ]


def counts() -> tuple[int, int, int, int]:
    return (Round.objects.count(), RoundStop.objects.count(), AuditEvent.objects.count(), Notification.objects.count())
