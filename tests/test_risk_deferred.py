"""Deferred risk scores (settings.RISK_DEFERRED, on by default on PostgreSQL): the visit sync lists the
establishments whose findings changed, and `establishments_risk_flush` (the task inspections.risk_flush,
every 5 s) gives them the very score the sync would have stored itself. A flush never recomputes an
establishment a sync still holds (its findings are not committed yet); that one waits for the next run."""

import contextlib
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.test import TestCase, override_settings
from django.utils import timezone

from inspections.models import Establishment, Finding, RiskPending
from inspections.services.findings import establishments_risk_flush, risk_score
from tests.visit_support import make_checklist, shop, visit_payload


def sync(api, user, visits) -> list[dict]:
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.as_user(user).post("visits/sync", {"visits": visits})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def stored_risk(establishment) -> float:
    return Establishment.objects.get(pk=establishment.pk).risk_score


@pytest.mark.django_db
@override_settings(RISK_DEFERRED=True)
def test_the_sync_lists_the_establishment_and_the_flush_stores_the_score_of_its_findings(api, dammam, inspector):
    version, _ = make_checklist()
    store, other = shop(dammam), shop(dammam)
    now = timezone.now()
    sync(
        api,
        inspector,
        [
            visit_payload(store, version, finished_at=now - timedelta(days=2), MASKS="no", SANITISER="no"),
            visit_payload(other, version, finished_at=now - timedelta(days=2)),  # compliant, nothing open
        ],
    )
    assert Finding.objects.filter(establishment=store, status="open").count() == 2  # findings are not deferred
    assert stored_risk(store) == 0  # the score waits for the flush
    assert list(RiskPending.objects.values_list("establishment_id", flat=True)) == [store.pk]

    assert establishments_risk_flush() == 1
    assert stored_risk(store) == pytest.approx(1 + 3)  # minor + major, open
    assert not RiskPending.objects.exists()
    assert establishments_risk_flush() == 0

    # A passing visit closes both: listed again, and the flush stores the decayed history.
    sync(api, inspector, [visit_payload(store, version, finished_at=now - timedelta(hours=1))])
    assert stored_risk(store) == pytest.approx(4)
    establishments_risk_flush()
    history = list(Finding.objects.filter(establishment=store).values_list("severity", "status", "opened_at"))
    assert stored_risk(store) == pytest.approx(risk_score(findings=history, now=timezone.now()), abs=0.01)
    assert stored_risk(store) == pytest.approx(4 * 0.5 * 2 ** (-2 / 90), abs=0.02)


@pytest.mark.django_db
@override_settings(RISK_DEFERRED=True)
def test_listing_an_establishment_again_keeps_when_it_was_first_listed(api, dammam, inspector):
    """The backlog's age (GET health) counts from the first listing: syncs that keep touching an
    establishment while no flush runs must not make a dead worker look fresh."""
    version, _ = make_checklist()
    store = shop(dammam)
    long_ago = timezone.now() - timedelta(minutes=10)
    RiskPending.objects.create(establishment_id=store.pk, queued_at=long_ago)
    sync(api, inspector, [visit_payload(store, version, MASKS="no")])
    assert list(RiskPending.objects.values_list("establishment_id", "queued_at")) == [(store.pk, long_ago)]


@pytest.mark.django_db
def test_without_the_setting_the_sync_stores_the_score_itself(api, dammam, inspector):
    version, _ = make_checklist()
    store = shop(dammam)
    with override_settings(RISK_DEFERRED=False):
        sync(api, inspector, [visit_payload(store, version, MASKS="no")])
    assert stored_risk(store) == pytest.approx(1)
    assert not RiskPending.objects.exists()


@pytest.mark.django_db
def test_a_listed_establishment_deleted_meanwhile_is_dropped(dammam):
    store = shop(dammam)
    RiskPending.objects.create(establishment_id=store.pk + 10_000)
    RiskPending.objects.create(establishment_id=store.pk)
    assert establishments_risk_flush(batch=1) == 1  # batches of one: the shop, then the gone id (dropped)
    assert not RiskPending.objects.exists()


@contextlib.contextmanager
def sync_held_open(inspector, visits):
    """A visit sync in another thread whose transaction stays open (its locks held, its findings
    uncommitted) for the body of the `with`, then commits."""
    from inspections.services.visits import visit_sync

    in_sync, release, finished = threading.Event(), threading.Event(), threading.Event()

    def holding_sync():
        try:
            with transaction.atomic():
                results = visit_sync(inspector=inspector, visits=visits)
                assert [result.status for result in results] == ["created"] * len(visits)
                in_sync.set()
                release.wait(timeout=30)
        finally:
            finished.set()
            connection.close()

    thread = threading.Thread(target=holding_sync)
    thread.start()
    try:
        assert in_sync.wait(timeout=30)
        yield
    finally:
        release.set()
        thread.join(timeout=30)
    assert finished.is_set()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL (row locks between connections)")
@override_settings(RISK_DEFERRED=True)
def test_a_flush_skips_an_establishment_a_sync_holds_and_takes_it_at_the_next_run(dammam, inspector):
    """A sync holds the establishment (its new findings uncommitted): the flush does not recompute it
    from findings it cannot see, and does not drop its row; the next flush, after that commit, does."""
    version, _ = make_checklist()
    held, free = shop(dammam), shop(dammam)
    RiskPending.objects.create(establishment_id=free.pk)
    with sync_held_open(inspector, [visit_payload(held, version, MASKS="no")]):
        assert establishments_risk_flush() == 1  # the free one only; the held one is skipped, not awaited
        assert stored_risk(free) == 0 and stored_risk(held) == 0
    assert list(RiskPending.objects.values_list("establishment_id", flat=True)) == [held.pk]
    assert establishments_risk_flush() == 1
    assert stored_risk(held) == pytest.approx(1)
    assert not RiskPending.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL (row locks between connections)")
@override_settings(RISK_DEFERRED=True)
def test_a_sync_that_meets_a_listed_establishment_holds_its_row_until_it_commits(dammam, inspector):
    """The establishment is already listed when a sync changes its findings: the sync's listing locks
    that row, so a flush that read the row before cannot delete it (and lose the new findings)
    until the sync commits; the row is then still there for the next flush."""
    from django.db import connections

    version, _ = make_checklist()
    store = shop(dammam)
    RiskPending.objects.create(establishment_id=store.pk)
    with sync_held_open(inspector, [visit_payload(store, version, MASKS="no")]):
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '300ms'")
                with pytest.raises(OperationalError, match="lock timeout"):
                    cursor.execute(f"DELETE FROM {RiskPending._meta.db_table} WHERE establishment_id = %s", [store.pk])
        finally:
            other.close()
    assert list(RiskPending.objects.values_list("establishment_id", flat=True)) == [store.pk]
