"""The demo seed of today's rounds: one route-optimised round per inspector, made through the service."""

import pytest

from inspections.demo import checklists as demo_checklists
from inspections.demo import rounds as demo_rounds
from inspections.demo.records import demo_record
from inspections.models import AuditEvent, Round
from inspections.services.rounds import riyadh_today
from notifications.models import Notification
from tests.rounds_helpers import establishments_on_line

pytestmark = pytest.mark.django_db


def test_nothing_without_inspectors(db):
    demo_checklists.seed()
    demo_rounds.seed()
    assert Round.objects.count() == 0


def test_one_round_per_inspector_today_and_idempotent(
    dammam, khobar, inspector, inspector_khobar, supervisor, supervisor_khobar
):
    demo_checklists.seed()
    shops = establishments_on_line(dammam, 12, step_deg=0.003) + establishments_on_line(khobar, 12, step_deg=0.003)
    # What the demo's foundation makes (and records as the demo's): the seed plans only its own.
    demo_record([dammam, khobar, inspector, inspector_khobar, supervisor, supervisor_khobar, *shops])
    demo_rounds.seed()
    rounds = {round.inspector_id: round for round in Round.objects.all()}
    assert set(rounds) == {inspector.pk, inspector_khobar.pk}
    for round in rounds.values():
        assert round.date == riyadh_today() and round.route_optimized
        assert 6 <= round.stops.count() <= 10
        assert round.tour_length_m > 0
    assert rounds[inspector.pk].municipality == dammam
    assert {stop.establishment.municipality_id for stop in rounds[inspector_khobar.pk].stops.all()} == {khobar.pk}
    assert AuditEvent.objects.filter(action="round.created", actor=supervisor).count() == 1
    assert Notification.objects.filter(kind="round_assigned").count() == 2
    demo_rounds.seed()
    assert Round.objects.count() == 2
