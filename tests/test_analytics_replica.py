"""Analytics reads on a real streaming replica (backend/db_routers.py).

CI starts a standby of the test PostgreSQL with pg_basebackup on 127.0.0.1 and sets
REPLICA_DATABASE_URL (see .ci/run); without one these tests skip. Every test commits its rows on
the primary (transactional tests), waits until the standby has replayed them, and reads through the
API, so what is checked is what leadership would see: the figures come from the standby, a standby
that lags beyond REPLICA_MAX_LAG_SECONDS or is unreachable is passed over for the primary, and
exports stream from the standby too.
"""

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

from backend import db_routers
from inspections.models import Visit
from tests.factories import EstablishmentFactory, VisitFactory

pytestmark = [
    pytest.mark.skipif(not settings.REPLICA_DATABASE_URL, reason="needs a streaming replica (REPLICA_DATABASE_URL)"),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.services,
]

RIYADH = ZoneInfo("Asia/Riyadh")
OUT = Visit.Outcome
STANDBY = {key: settings.DATABASES.get("replica", {}).get(key) for key in ("HOST", "PORT")}


@pytest.fixture(autouse=True)
def standby(django_db_setup):
    """The test runner made "replica" a mirror of the primary's test database; point it back at the
    real standby (same database name: physical replication copies the test database too)."""
    replica = connections["replica"]
    replica.close()
    replica.settings_dict = {**connections["default"].settings_dict, **STANDBY}
    db_routers.forget_replica_state()
    yield replica
    replica.close()
    db_routers.forget_replica_state()


def wait_for_standby(replica, *, visits: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with replica.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inspections_visit")
            if cursor.fetchone()[0] == visits:
                return
        time.sleep(0.05)
    raise AssertionError(f"the standby did not reach {visits} visits in {seconds} s")


def rates(api, leader) -> dict:
    response = api.as_user(leader).get("analytics/violation-rates", {"group_by": "municipality"})
    assert response.status_code == 200, response.content
    return {row["key"]: (row["visits"], row["violating_visits"]) for row in response.json()}


@pytest.fixture
def shop(dammam):
    shop = EstablishmentFactory(municipality=dammam)
    when = datetime(2026, 11, 3, 10, tzinfo=RIYADH)
    for outcome in [OUT.VIOLATIONS, OUT.COMPLIANT, OUT.COMPLIANT]:
        VisitFactory(establishment=shop, outcome=outcome, finished_at=when)
    return shop


def test_the_standby_is_a_standby(standby):
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True


def test_rates_are_read_on_the_standby(api, leader, dammam, shop, standby):
    wait_for_standby(standby, visits=3)
    with CaptureQueriesContext(standby) as on_standby, CaptureQueriesContext(connections["default"]) as on_primary:
        assert rates(api, leader) == {str(dammam.id): (3, 1)}
    # rates sum the daily roll-ups (analytics_visitday); neither they nor the raw visits are read on the primary
    tables = ("analytics_visitday", "inspections_visit")
    assert any(table in query["sql"] for query in on_standby.captured_queries for table in tables)
    assert not any(table in query["sql"] for query in on_primary.captured_queries for table in tables)


def test_a_standby_within_the_lag_bound_may_be_a_moment_old(api, leader, dammam, shop, standby, settings):
    """The guarantee is a bound, not freshness: with replay paused and a generous bound, a new visit
    is not yet in the figures (they are read from the standby); past a tight bound, they are."""
    wait_for_standby(standby, visits=3)
    settings.REPLICA_LAG_CHECK_SECONDS = 0
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        VisitFactory(establishment=shop, outcome=OUT.VIOLATIONS, finished_at=datetime(2026, 11, 4, 9, tzinfo=RIYADH))
        settings.REPLICA_MAX_LAG_SECONDS = 3600
        assert rates(api, leader) == {str(dammam.id): (3, 1)}
        settings.REPLICA_MAX_LAG_SECONDS = 0.5
        time.sleep(1.0)
        assert rates(api, leader) == {str(dammam.id): (4, 2)}  # the primary answered
    finally:
        with standby.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for_standby(standby, visits=4)
    db_routers.forget_replica_state()
    settings.REPLICA_MAX_LAG_SECONDS = 30
    assert rates(api, leader) == {str(dammam.id): (4, 2)}


def test_an_unreachable_standby_is_passed_over(api, leader, dammam, shop, standby):
    reachable = standby.settings_dict
    standby.close()
    standby.settings_dict = {**reachable, "PORT": "1", "OPTIONS": {"connect_timeout": 1}}
    db_routers.forget_replica_state()
    try:
        assert rates(api, leader) == {str(dammam.id): (3, 1)}  # no 500: the primary answered
    finally:
        standby.close()
        standby.settings_dict = reachable


def test_exports_stream_from_the_standby(api, leader, shop, standby, settings):
    """With replay paused, a visit committed on the primary is missing from the export: the rows were
    streamed (COPY) from the standby, after the view had returned."""
    wait_for_standby(standby, visits=3)
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        VisitFactory(establishment=shop, outcome=OUT.COMPLIANT, finished_at=datetime(2026, 11, 5, 9, tzinfo=RIYADH))
        response = api.as_user(leader).get("analytics/exports/visits.csv")
        body = b"".join(response.streaming_content).decode("utf-8-sig")
    finally:
        with standby.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    assert response.status_code == 200
    assert len(body.strip().splitlines()) == 1 + 3


def test_inside_a_transaction_on_the_primary_reads_stay_there(standby):
    from django.db import transaction

    with db_routers.analytics_reads():
        assert db_routers.analytics_database() == "replica"
        with transaction.atomic():
            assert db_routers.analytics_database() == "default"
