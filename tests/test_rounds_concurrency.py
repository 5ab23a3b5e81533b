"""Follow-ups scheduled at the same time for one establishment (two visit batches racing) must end in
one pending follow-up stop; a round command locks its round and nothing joined to it. Needs
PostgreSQL's row locks: skipped on the embedded SQLite default."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction

from inspections.models import AuditEvent, RoundStop
from inspections.services.rounds import follow_up_schedule, riyadh_today
from inspections.services.rounds.common import _lock_round
from tests.concurrency_support import run_at_once
from tests.factories import RoundFactory, VisitFactory
from tests.rounds_helpers import establishments_on_line, published_checklist

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def test_racing_follow_ups_make_one_stop(dammam, inspector):
    checklist = published_checklist()
    shop = establishments_on_line(dammam, 1)[0]
    VisitFactory(establishment=shop, checklist_version=checklist.versions.get())
    threads_count = 6
    outcomes = run_at_once(
        [lambda: follow_up_schedule(establishment=shop, due_date=riyadh_today() + timedelta(days=7))] * threads_count
    )
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    results = [outcome.pk for outcome in outcomes if not isinstance(outcome, Exception)]
    assert errors == []
    assert len(results) == threads_count and len(set(results)) == 1
    assert RoundStop.objects.filter(establishment=shop, is_follow_up=True, status="pending").count() == 1


def test_a_round_command_does_not_block_writes_in_its_municipality(dammam, inspector):
    """A round command locks its round, not the municipality and inspector joined to it: FOR UPDATE on
    the municipality row would hold off every insert referencing it (a visit, a finding, an audit
    event: their foreign-key checks take KEY SHARE) until the command commits, and could meet the
    visit sync in a deadlock. Another connection inserts while the round is held, under a short
    lock_timeout: before the fix it timed out."""
    round_ = RoundFactory(municipality=dammam, inspector=inspector)
    held, release, outcome = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                _lock_round(round_.pk)
                held.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout=10)

        def write():
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '300ms'")
                    AuditEvent.objects.create(
                        actor=inspector, action="test.write", object_type="x", object_id="1", municipality=dammam
                    )
                outcome.append("written")
            except Exception as error:  # noqa: BLE001 - reported below
                outcome.append(repr(error))
            finally:
                connection.close()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=10)
    finally:
        release.set()
        holder.join(timeout=10)
    assert outcome == ["written"]
