"""Roll-ups: daily aggregates of completed visits that the analytics endpoints read instead of the raw
Visit and Answer tables (issue 16, docs/analytics.md "Roll-ups").

The guarantee: after every committed write, each roll-up row equals the aggregate of the raw rows it
stands for, leaving out only the visits still listed in RollupPending (none unless
settings.ROLLUPS_DEFERRED). Every write path adds (or subtracts) the contribution of the visits it
wrote, set-based: one INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE per table, whatever the
number of visits (PostgreSQL and SQLite alike):

- the visit sync (`inspections.services.visits._visits_store`) and the history import send
  `inspections.signals.visits_stored` with the ids they inserted; `analytics.signals` connects
  `rollups_visits_stored` to it (inspections never imports analytics: the dependency stays one way).
  In the same transaction it either adds them (ROLLUPS_DEFERRED off) or lists them in RollupPending
  (on: one small insert instead of four aggregates per batch); then `rollups_flush` (the Celery task
  analytics.rollups_flush, every 5 s: backend/schedules.py) adds the pending visits many thousands at a
  time and deletes their rows in one transaction. Bound: a synced visit is in the roll-ups within one
  flush interval plus one flush's run while a worker and beat run; `rollups_pending_count()` tells
  how many wait;
- single-row ORM writes (the admin, factories, the demo seed, any `Visit.save()` / `Answer.save()` /
  `.delete()`) are followed by the model signals (analytics/signals.py): the old contribution is
  subtracted before the write (pre_save / pre_delete) and the new one added after it;
- bulk paths that bypass both (raw SQL, COPY, queryset.update(), a restore) call `rollups_apply`
  themselves or run `manage.py rollups_rebuild`, which recomputes every table from the raw rows.

A pending visit changed by any other path is settled first: every subtraction (and `rollups_settle`,
which the answer signals call before a new answer is written) deletes the visit's RollupPending row
and adds its contribution as it stands, before the change is made; the flush claims its rows with
FOR UPDATE, so the two never count one visit twice (the settle waits for a flush holding the row,
then finds it gone and subtracts what the flush added), and the flush yields to the settle when each
waits for the other (see `rollups_flush`).

A completed visit is one with outcome compliant or violations (analytics.selectors); `day` is its
finished_at as an Asia/Riyadh day.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connections, router, transaction
from psycopg.errors import LockNotAvailable

from analytics.models import CellPeriod, InspectorDay, ItemDay, RollupPending, VisitDay
from analytics.periods import month_of, quarter_of, week_of
from inspections.models import Visit

RESOLUTIONS = (5, 6, 7, 8, 9)
# Resolutions whose cells are many (a year of r9 month rows is about twelve rows per cell): they also
# keep calendar-quarter rows, so a year reads about four quarters and a few months, not twelve months.
QUARTER_RESOLUTIONS = (8, 9)
# Resolutions whose edge days are many rows (at 10M visits a year, r9 has about one day row per cell
# and day, r7 five visits per cell and day): they also keep ISO-week rows, so a range that starts or
# ends mid-month reads at most six days and a few weeks at each edge instead of up to thirty days.
WEEK_RESOLUTIONS = (7, 8, 9)
COMPLETED = ("compliant", "violations")
CHUNK = 500  # ids per statement: SQLite's bound-variable limit is far above, and plans stay small

VISIT_DAY = VisitDay._meta.db_table
INSPECTOR_DAY = InspectorDay._meta.db_table
ITEM_DAY = ItemDay._meta.db_table
CELL_PERIOD = CellPeriod._meta.db_table
TABLES = (VISIT_DAY, INSPECTOR_DAY, ITEM_DAY, CELL_PERIOD)
PENDING = RollupPending._meta.db_table
FLUSH_BATCH = 20000  # pending visits per flush transaction
FLUSH_LOCK_KEY = 0x4A41574C  # the advisory lock of the flush ("JAWL")
FLUSH_LOCK_TIMEOUT_MS = 200


def _alias() -> str:
    return router.db_for_write(VisitDay)


def _local_day(vendor: str, column: str) -> tuple[str, list]:
    """SQL for the Asia/Riyadh day of a UTC timestamp column, and its parameters."""
    if vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)::date", [settings.TIME_ZONE]
    # Django's own SQLite function (the one TruncDate uses): the same conversion as the ORM's.
    return f"django_datetime_cast_date({column}, %s, %s)", [settings.TIME_ZONE, "UTC"]


def _month_of(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def _quarter_of(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"date_trunc('quarter', {column})::date"
    return (
        f"date({column}, 'start of month', '-' || ((CAST(strftime('%%m', {column}) AS INTEGER) - 1) %% 3) || ' months')"
    )


def _week_of(vendor: str, column: str) -> str:
    """The Monday of the ISO week of a date column (PostgreSQL's date_trunc('week') is ISO: Monday)."""
    if vendor == "postgresql":
        return f"date_trunc('week', {column})::date"
    # strftime('%w'): 0 for Sunday .. 6 for Saturday; (w + 6) % 7 days back is the Monday.
    return f"date({column}, '-' || ((CAST(strftime('%%w', {column}) AS INTEGER) + 6) %% 7) || ' days')"


def _counted_answer(vendor: str) -> str:
    """An answer counts unless its value is SQL NULL or the JSON string "na" (as analytics.selectors)."""
    if vendor == "postgresql":
        return "a.value IS NOT NULL AND a.value <> '\"na\"'::jsonb"
    return "a.value IS NOT NULL AND NOT (json_type(a.value) = 'text' AND json_extract(a.value, '$') = 'na')"


def _statements(vendor: str, where: str, where_params: list, sign: int) -> list[tuple[str, list]]:
    """The four INSERT ... SELECT ... GROUP BY ... ON CONFLICT statements adding `sign` times the
    contribution of the visits `v` matching `where` (a condition on inspections_visit v)."""
    day, day_params = _local_day(vendor, "v.finished_at")
    completed = "v.outcome IN ('compliant', 'violations')"
    base = (
        "FROM inspections_visit v JOIN inspections_checklistversion cv ON cv.id = v.checklist_version_id "
        f"WHERE {completed} AND {where}"
    )
    counts = "%s * count(*), %s * sum(CASE WHEN v.has_violation THEN 1 ELSE 0 END)"
    statements = [
        (
            f"INSERT INTO {VISIT_DAY} (day, municipality_id, category_id, checklist_id, visits, violating) "
            f"SELECT {day}, v.municipality_id, v.category_id, cv.checklist_id, {counts} {base} "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 "
            "ON CONFLICT (day, municipality_id, category_id, checklist_id) DO UPDATE SET "
            f"visits = {VISIT_DAY}.visits + excluded.visits, violating = {VISIT_DAY}.violating + excluded.violating",
            [*day_params, sign, sign, *where_params],
        ),
        (
            f"INSERT INTO {INSPECTOR_DAY} "
            "(day, municipality_id, inspector_id, category_id, checklist_id, visits, violating) "
            f"SELECT {day}, v.municipality_id, v.inspector_id, v.category_id, cv.checklist_id, {counts} {base} "
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 "
            "ON CONFLICT (day, municipality_id, inspector_id, category_id, checklist_id) DO UPDATE SET "
            f"visits = {INSPECTOR_DAY}.visits + excluded.visits, "
            f"violating = {INSPECTOR_DAY}.violating + excluded.violating",
            [*day_params, sign, sign, *where_params],
        ),
        (
            f"INSERT INTO {ITEM_DAY} (day, municipality_id, item_code, category_id, checklist_id, answers, failed) "
            f"SELECT {day}, v.municipality_id, a.item_code, v.category_id, cv.checklist_id, "
            "%s * count(*), %s * sum(CASE WHEN a.failed THEN 1 ELSE 0 END) "
            f"FROM inspections_answer a JOIN inspections_visit v ON v.id = a.visit_id "
            "JOIN inspections_checklistversion cv ON cv.id = v.checklist_version_id "
            f"WHERE {completed} AND {_counted_answer(vendor)} AND {where} "
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 "
            "ON CONFLICT (day, municipality_id, item_code, category_id, checklist_id) DO UPDATE SET "
            f"answers = {ITEM_DAY}.answers + excluded.answers, failed = {ITEM_DAY}.failed + excluded.failed",
            [*day_params, sign, sign, *where_params],
        ),
    ]
    # Cells: every stored resolution at each of its grains from one scan of the visits.
    resolutions = " UNION ALL ".join(f"SELECT {r} AS res" for r in RESOLUTIONS)
    cell = "CASE r.res " + " ".join(f"WHEN {r} THEN v.h3_r{r}" for r in RESOLUTIONS) + " END"
    period = (
        f"CASE g.grain WHEN 'd' THEN {day} WHEN 'w' THEN {_week_of(vendor, day)} "
        f"WHEN 'm' THEN {_month_of(vendor, day)} ELSE {_quarter_of(vendor, day)} END"
    )
    quarters = ", ".join(str(r) for r in QUARTER_RESOLUTIONS)
    weeks = ", ".join(str(r) for r in WEEK_RESOLUTIONS)
    statements.append(
        (
            f"INSERT INTO {CELL_PERIOD} (resolution, grain, period, municipality_id, cell, visits, violating) "
            f"SELECT r.res, g.grain, {period}, v.municipality_id, {cell}, {counts} "
            "FROM inspections_visit v CROSS JOIN "
            f"({resolutions}) r CROSS JOIN "
            "(SELECT 'd' AS grain UNION ALL SELECT 'w' UNION ALL SELECT 'm' UNION ALL SELECT 'q') g "
            f"WHERE {completed} AND (g.grain IN ('d', 'm') OR (g.grain = 'q' AND r.res IN ({quarters})) "
            f"OR (g.grain = 'w' AND r.res IN ({weeks}))) AND {where} "
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 "
            "ON CONFLICT (resolution, grain, period, municipality_id, cell) DO UPDATE SET "
            f"visits = {CELL_PERIOD}.visits + excluded.visits, "
            f"violating = {CELL_PERIOD}.violating + excluded.violating",
            [*day_params * period.count(day), sign, sign, *where_params],
        )
    )
    return statements


def _execute(alias: str, statements: Iterable[tuple[str, list]]) -> None:
    with connections[alias].cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def rollups_apply(*, visit_ids: Iterable[int], sign: int = 1, answers: bool = True, **_signal_kwargs) -> None:
    """Add (sign=1) or subtract (sign=-1) the current contribution of these visits (and, with
    `answers`, of their answers) to every roll-up, set-based, in the caller's transaction. Subtract
    before changing or deleting the rows (a subtraction first settles pending visits), add after
    writing them."""
    tables = TABLES if answers else tuple(table for table in TABLES if table != ITEM_DAY)
    if sign < 0:
        rollups_settle(visit_ids=visit_ids)
    _apply(ids=visit_ids, rows="inspections_visit v", column="v.id", sign=sign, tables=tables)


def rollups_apply_answers(*, answer_ids: Iterable[int], sign: int = 1) -> None:
    """Add or subtract the item roll-up contribution of single answers (an answer written on its own)."""
    answer_ids = sorted({int(i) for i in answer_ids})
    if sign < 0 and answer_ids:
        with connections[_alias()].cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT visit_id FROM inspections_answer WHERE id IN ("
                + ", ".join(["%s"] * len(answer_ids))
                + ")",
                answer_ids,
            )
            rollups_settle(visit_ids=[row[0] for row in cursor.fetchall()])
    _apply(
        ids=answer_ids,
        rows="inspections_answer a JOIN inspections_visit v ON v.id = a.visit_id",
        column="a.id",
        sign=sign,
        tables=(ITEM_DAY,),
    )


def rollups_visits_stored(*, visit_ids: Iterable[int], **_signal_kwargs) -> None:
    """Receiver of `inspections.signals.visits_stored` (the visit sync, the history import): the new
    visits are added now, or listed for the next flush when settings.ROLLUPS_DEFERRED is on."""
    if not getattr(settings, "ROLLUPS_DEFERRED", False):
        rollups_apply(visit_ids=visit_ids)
        return
    ids = sorted({int(i) for i in visit_ids})
    if not ids:
        return
    alias = _alias()
    with connections[alias].cursor() as cursor:
        if connections[alias].vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {PENDING} (visit_id) SELECT unnest(%s::bigint[]) ON CONFLICT DO NOTHING", [ids]
            )
        else:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                cursor.execute(
                    f"INSERT INTO {PENDING} (visit_id) VALUES " + ", ".join(["(%s)"] * len(chunk)) + " "
                    "ON CONFLICT DO NOTHING",
                    chunk,
                )


def rollups_settle(*, visit_ids: Iterable[int]) -> None:
    """Add the contribution of those of these visits still pending and remove them from
    RollupPending, in the caller's transaction: before any other path changes a visit or its answers.
    Waits for a flush that holds one of their rows (and then finds it gone: the flush added it)."""
    ids = sorted({int(i) for i in visit_ids})
    if not ids:
        return
    alias = _alias()
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PENDING} WHERE visit_id IN (" + ", ".join(["%s"] * len(ids)) + ") RETURNING visit_id",
            ids,
        )
        settled = [row[0] for row in cursor.fetchall()]
    _apply(ids=settled, rows="inspections_visit v", column="v.id", sign=1, tables=TABLES)


def rollups_flush(*, batch: int = FLUSH_BATCH, attempts: int = 5) -> int:
    """Add every pending visit to the roll-ups, `batch` visits a transaction; returns how many were
    added. The body of the task analytics.rollups_flush.

    On PostgreSQL one flush runs at a time (a transaction-level advisory lock: a second one returns
    at once, the first drains what is pending), and a flush always yields to the other writers: it
    waits at most FLUSH_LOCK_TIMEOUT for a roll-up row, then rolls back (its claimed visits stay
    pending) and tries again. An admin edit that settles a pending visit the flush holds therefore
    waits for it instead of meeting it in a deadlock."""
    added = 0
    while True:
        try:
            claimed = _flush_once(batch)
        except OperationalError as error:
            if not isinstance(error.__cause__, LockNotAvailable) or attempts <= 0:
                raise
            attempts -= 1
            time.sleep(0.05)
            continue
        if claimed is None:  # another flush is at work
            return added
        added += claimed
        if claimed < batch:
            return added


def _flush_once(batch: int) -> int | None:
    alias = _alias()
    postgres = connections[alias].vendor == "postgresql"
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        if postgres:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FLUSH_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return None
            cursor.execute(f"SET LOCAL lock_timeout = '{FLUSH_LOCK_TIMEOUT_MS}ms'")
        cursor.execute(
            f"DELETE FROM {PENDING} WHERE visit_id IN "
            f"(SELECT visit_id FROM {PENDING} ORDER BY visit_id LIMIT %s{' FOR UPDATE' if postgres else ''}) "
            "RETURNING visit_id",
            [batch],
        )
        claimed = [row[0] for row in cursor.fetchall()]
        _apply(ids=claimed, rows="inspections_visit v", column="v.id", sign=1, tables=TABLES)
    return len(claimed)


def rollups_pending_count(*, using: str | None = None) -> int:
    """Visits synced but not yet in the roll-ups (0 unless settings.ROLLUPS_DEFERRED)."""
    with connections[using or _alias()].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {PENDING}")
        return cursor.fetchone()[0]


# The flush runs every 5 s (backend/schedules.py); a visit still pending after this long means no
# flush is running (worker or beat down): GET health reports it late (inspections.services.health).
BACKLOG_BOUND = timedelta(seconds=60)


def rollups_backlog(*, now: datetime) -> tuple[int, float | None, timedelta]:
    """(visits pending, seconds since the oldest of them was received, the bound) for GET health. The
    oldest is the lowest pending id that is still a visit (ids grow with time; one deleted meanwhile
    contributes nothing and is not late by itself). Reads the primary, where the sync writes."""
    alias = _alias()
    pending = rollups_pending_count(using=alias)
    if not pending:
        return 0, None, BACKLOG_BOUND
    received = (
        Visit.objects.using(alias)
        .filter(pk__in=RollupPending.objects.using(alias).values("visit_id"))
        .order_by("pk")
        .values_list("received_at", flat=True)
        .first()
    )
    if received is None:
        return pending, None, BACKLOG_BOUND
    return pending, max((now - received).total_seconds(), 0.0), BACKLOG_BOUND


def _apply(*, ids: Iterable[int], rows: str, column: str, sign: int, tables: tuple[str, ...]) -> None:
    """The statements of `tables` for the rows whose `column` is in `ids` (visits `v`, or answers `a`
    joined to their visits: `rows` is that FROM clause): on PostgreSQL one statement a table with the
    ids as one array, elsewhere CHUNK ids a statement. After a subtraction the keys left at zero are
    deleted, found through the days of those visits."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return
    alias = _alias()
    vendor = connections[alias].vendor
    day, day_params = _local_day(vendor, "v.finished_at")
    if vendor == "postgresql":
        chunks = [(f"{column} = ANY(%s::bigint[])", [ids])]
    else:
        chunks = [
            (f"{column} IN (" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
            for chunk in (ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK))
        ]
    days: set = set()
    with transaction.atomic(using=alias, savepoint=False), connections[alias].cursor() as cursor:
        for where, params in chunks:
            by_table = dict(zip(TABLES, _statements(vendor, where, params, sign), strict=True))
            for table in tables:
                cursor.execute(*by_table[table])
            if sign < 0:
                cursor.execute(f"SELECT DISTINCT {day} FROM {rows} WHERE {where}", [*day_params, *params])
                days.update(row[0] for row in cursor.fetchall())
        if days:
            _drop_empty(cursor, days, tables)


def _drop_empty(cursor, days: set, tables: tuple[str, ...]) -> None:
    # Only the subtracted rows can have reached zero; a whole-table DELETE would scan a national table
    # on every amendment, so the few emptied keys are found through their days.
    # PostgreSQL answers dates, SQLite 'YYYY-MM-DD' text: weeks, months and quarters in the same type.
    days = sorted(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in days)
    weeks = sorted({week_of(d) for d in days})
    months = sorted({month_of(d) for d in days} | {quarter_of(d) for d in days})
    day_marks = ", ".join(["%s"] * len(days))
    week_marks = ", ".join(["%s"] * len(weeks))
    month_marks = ", ".join(["%s"] * len(months))
    figures = {
        VISIT_DAY: ("visits", "violating"),
        INSPECTOR_DAY: ("visits", "violating"),
        ITEM_DAY: ("answers", "failed"),
    }
    for table in tables:
        if table == CELL_PERIOD:
            cursor.execute(
                f"DELETE FROM {CELL_PERIOD} WHERE visits = 0 AND violating = 0 AND "
                f"((grain = 'd' AND period IN ({day_marks})) OR (grain = 'w' AND period IN ({week_marks})) "
                f"OR (grain IN ('m', 'q') AND period IN ({month_marks})))",
                [*days, *weeks, *months],
            )
        else:
            a, b = figures[table]
            cursor.execute(f"DELETE FROM {table} WHERE day IN ({day_marks}) AND {a} = 0 AND {b} = 0", days)


def rollups_rebuild(*, using: str | None = None) -> dict[str, float]:
    """Recompute every roll-up from the raw tables in one transaction (history, after a restore, after
    a bulk load that bypassed the hooks). Returns seconds per table."""
    alias = using or _alias()
    vendor = connections[alias].vendor
    timings: dict[str, float] = {}
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            if PENDING in connections[alias].introspection.table_names(cursor):  # not in the oldest migrations
                if vendor == "postgresql":
                    # Syncs that list visits meanwhile wait for the rebuild, which counts every visit
                    # committed before it: no visit is counted twice, none left out.
                    cursor.execute(f"LOCK TABLE {PENDING} IN EXCLUSIVE MODE")
                cursor.execute(f"DELETE FROM {PENDING}")
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")
        for table, statement in zip(TABLES, _statements(vendor, "1 = 1", [], 1), strict=True):
            started = time.perf_counter()
            _execute(alias, [statement])
            timings[table] = time.perf_counter() - started
    return timings


def rollup_sizes(*, using: str | None = None) -> dict[str, tuple[int, int]]:
    """(rows, bytes on disk incl. indexes) per roll-up table; bytes only on PostgreSQL (0 elsewhere)."""
    alias = using or _alias()
    sizes = {}
    with connections[alias].cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows = cursor.fetchone()[0]
            size = 0
            if connections[alias].vendor == "postgresql":
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
                size = cursor.fetchone()[0]
            sizes[table] = (rows, size)
    return sizes
