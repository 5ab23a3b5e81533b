"""Analytics reads on a read replica, with the replica's lag handled.

Leadership's figures (rates, heatmap, indicators, exports) are the heaviest reads Jawla serves and
the only ones that tolerate being a moment old, so they may run on a streaming replica (a second
`DATABASES` alias, "replica", configured by `REPLICA_DATABASE_URL`). Everything else, and every
write, stays on the primary.

Which reads go there is decided by the code that reads, not by the model: the same `Visit` table
serves a phone's sync (which must read its own writes) and a year of rates (which need not). So the
router sends a read to the replica only inside `analytics_reads()`, which the analytics API wraps
around its selectors, and only for the inspection and analytics tables: memberships, tokens and
sessions (who may see what) are always read from the primary, so a revoked scope never lingers on
a lagging replica.

The lag guarantee: a figure read from the replica is at most `REPLICA_MAX_LAG_SECONDS` old. The
router asks the replica how far behind it is (at most once per `REPLICA_LAG_CHECK_SECONDS` per
process) and reads from the primary instead when it is further behind, when it cannot be reached,
or when the caller is inside a transaction on the primary (that caller may read its own
uncommitted writes, which no replica has).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError

REPLICA_ALIAS = "replica"
ROUTED_APPS = frozenset({"inspections", "analytics"})
# Who may see what is never read from a replica: a revocation must hold at the next request.
PRIMARY_ONLY_MODELS = frozenset({"membership", "refreshtoken"})

logger = logging.getLogger(__name__)
_analytics_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("analytics_reads", default=False)
_lag_lock = threading.Lock()
_lag_checked: dict[str, float] = {"at": float("-inf"), "usable": 0.0}


def replica_configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES


@contextlib.contextmanager
def analytics_reads() -> Iterator[None]:
    """Reads of inspection and analytics tables inside this block may go to the replica."""
    token = _analytics_reads.set(True)
    try:
        yield
    finally:
        _analytics_reads.reset(token)


def replica_lag_seconds() -> float | None:
    """How far the replica's replay is behind, in seconds (0 when it has replayed all it received);
    None when it cannot be asked or is not a standby."""
    try:
        with connections[REPLICA_ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(),"
                " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            )
            in_recovery, caught_up, behind = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("replica unreachable, analytics read from the primary: %s", error)
        with contextlib.suppress(DatabaseError):
            connections[REPLICA_ALIAS].close()
        return None
    if not in_recovery:
        return None
    if caught_up:
        return 0.0
    return float(behind) if behind is not None else None


def replica_usable() -> bool:
    """True when the replica is within REPLICA_MAX_LAG_SECONDS; remembered for a short while per
    process so that a request costs no extra round trip."""
    now = time.monotonic()
    with _lag_lock:
        if now - _lag_checked["at"] < settings.REPLICA_LAG_CHECK_SECONDS:
            return bool(_lag_checked["usable"])
    lag = replica_lag_seconds()
    usable = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
    with _lag_lock:
        _lag_checked.update(at=time.monotonic(), usable=float(usable))
    return usable


def forget_replica_state() -> None:
    """Ask the replica again at the next read (tests, and after a failover)."""
    with _lag_lock:
        _lag_checked.update(at=float("-inf"), usable=0.0)


def analytics_database() -> str:
    """The alias that an analytics read made now should use."""
    if not (_analytics_reads.get() and replica_configured()):
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS if replica_usable() else DEFAULT_DB_ALIAS


class AnalyticsReplicaRouter:
    """Sends analytics reads of inspection and analytics tables to the replica (see the module
    docstring); has no opinion on anything else, so Django's defaults apply."""

    def db_for_read(self, model, **hints):
        meta = model._meta
        if meta.app_label not in ROUTED_APPS or meta.model_name in PRIMARY_ONLY_MODELS:
            return None
        alias = analytics_database()
        return alias if alias != DEFAULT_DB_ALIAS else None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary: objects read from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
