"""Set-based inserts for the visit sync: one statement per table and batch, never one per row.

PostgreSQL: `INSERT INTO t (...) SELECT ... FROM unnest(%s::type[], ...) ON CONFLICT (key) DO
NOTHING RETURNING ...` (each column travels as one array parameter: the statement has the same
text for every batch size). SQLite: a multi-row `INSERT ... VALUES (...), (...) ON CONFLICT DO
NOTHING RETURNING ...` (chunked under the variable limit), values prepared by the model fields
so that they read back exactly as the ORM writes them. Rows that hit the conflict are simply not
returned; the caller re-selects them by key.
"""

import json
from collections.abc import Sequence
from functools import lru_cache

import psycopg
from django.db import connection, models


def insert_returning(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    *,
    returning: Sequence[str] = ("id",),
    conflict_field: str | None = None,
    lock_conflicting: bool = False,
    returning_if: str | None = None,
) -> list[tuple]:
    """Insert `rows` (values in `fields` order) into `model`'s table; return the `returning` columns
    of the rows actually inserted (conflicting rows on `conflict_field` are skipped). With
    `lock_conflicting`, a conflicting row is kept as it is but locked until the caller commits (an
    update that sets its first other column to itself) and returned too. With `returning_if` (a
    boolean field among `fields`), only the inserted rows where it is true are returned."""
    if not rows:
        return []
    fields, returning = tuple(fields), tuple(returning)
    if connection.vendor == "postgresql":
        # Server-side binding (a plain psycopg cursor, not Django's client-side one): each column goes
        # over the wire as one typed array parameter in binary format (%b) instead of quoted SQL text.
        sql, json_columns = _postgresql_insert(model, fields, returning, conflict_field, lock_conflicting, returning_if)
        params = []
        for index in range(len(fields)):
            values = [row[index] for row in rows]
            if index in json_columns:  # JSON travels as text, cast per element (text[] -> jsonb[] is not direct)
                values = [None if value is None else json.dumps(value) for value in values]
            params.append(values)
        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]

    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    column_list = ", ".join(quote(field.column) for field in model_fields)
    extra = (returning_if,) if returning_if and returning_if not in returning else ()
    returning_sql = ", ".join(quote(meta.get_field(name).column) for name in returning + extra)
    conflict_sql = _conflict_sql(meta, [field.column for field in model_fields], conflict_field, lock_conflicting)
    with connection.cursor() as cursor:
        prepared = [
            [field.get_db_prep_save(value, connection) for field, value in zip(model_fields, row, strict=True)]
            for row in rows
        ]
        placeholders = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
        chunk = max(1, 900 // len(model_fields))
        returned: list[tuple] = []
        for start in range(0, len(prepared), chunk):
            part = prepared[start : start + chunk]
            sql = (
                f"INSERT INTO {table} ({column_list}) VALUES {', '.join([placeholders] * len(part))}"
                f"{conflict_sql} RETURNING {returning_sql}"
            )
            cursor.execute(sql, [value for row in part for value in row])
            returned.extend(tuple(row) for row in cursor.fetchall())
    if returning_if:
        flag = (returning + extra).index(returning_if)
        returned = [row[: len(returning)] for row in returned if row[flag]]
    # SQLite returns stored values (UUIDs as hex text, etc.): convert them back like the ORM does.
    converters = [meta.get_field(name) for name in returning]
    return [tuple(_from_db(field, value) for field, value in zip(converters, row, strict=True)) for row in returned]


def _conflict_sql(meta, columns: list[str], conflict_field: str | None, lock_conflicting: bool) -> str:
    if not conflict_field:
        return ""
    quote = connection.ops.quote_name
    conflict_column = meta.get_field(conflict_field).column
    if lock_conflicting:
        kept = quote(next(column for column in columns if column != conflict_column))
        table = quote(meta.db_table)
        return f" ON CONFLICT ({quote(conflict_column)}) DO UPDATE SET {kept} = {table}.{kept}"
    return f" ON CONFLICT ({quote(conflict_column)}) DO NOTHING"


@lru_cache(maxsize=256)
def _postgresql_insert(
    model, fields: tuple, returning: tuple, conflict_field, lock_conflicting: bool, returning_if
) -> tuple[str, frozenset[int]]:
    """The INSERT ... SELECT FROM unnest(...) statement for these arguments, and which of the fields
    are JSON (sent as text): built once per process (the schema does not change while it runs)."""
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    arrays, selects, json_columns = [], [], set()
    for index, field in enumerate(model_fields):
        if isinstance(field, models.JSONField):
            json_columns.add(index)
            arrays.append("%b::text[]")
            selects.append(f"c{index}::jsonb")
        else:
            arrays.append(f"%b::{field.db_type(connection)}[]")
            selects.append(f"c{index}")
    aliases = ", ".join(f"c{index}" for index in range(len(model_fields)))
    column_list = ", ".join(quote(field.column) for field in model_fields)
    conflict_sql = _conflict_sql(meta, [field.column for field in model_fields], conflict_field, lock_conflicting)
    returning_sql = ", ".join(quote(meta.get_field(name).column) for name in returning)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({column_list}) SELECT {', '.join(selects)} "
        f"FROM unnest({', '.join(arrays)}) AS t({aliases}){conflict_sql} RETURNING {returning_sql}"
    )
    if returning_if:
        flag = quote(meta.get_field(returning_if).column)
        sql = (
            f"WITH inserted AS ({sql}, {flag} AS returning_if) "
            f"SELECT {', '.join(quote(meta.get_field(name).column) for name in returning)} "
            f"FROM inserted WHERE returning_if"
        )
    return sql, frozenset(json_columns)


def _from_db(field: models.Field, value):
    if value is None:
        return None
    if isinstance(field, models.UUIDField):
        import uuid

        return value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    return value


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Set `fields` of the rows whose primary key is each row's first value (then values in `fields`
    order), one statement: `UPDATE t SET ... FROM unnest(...)` on PostgreSQL, `bulk_update` elsewhere.

    Django's `bulk_update` builds a CASE WHEN per field and row, which costs more Python than the
    database spends on it; the visit sync updates findings and risk scores in every violating batch."""
    if not rows:
        return
    meta = model._meta
    if connection.vendor != "postgresql":
        model.objects.bulk_update(
            [model(**{meta.pk.attname: row[0], **dict(zip(fields, row[1:], strict=True))}) for row in rows], fields
        )
        return
    sql = _postgresql_update(model, tuple(fields))
    params = [[row[index] for row in rows] for index in range(len(fields) + 1)]
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)


@lru_cache(maxsize=256)
def _postgresql_update(model, fields: tuple) -> str:
    """The UPDATE ... FROM unnest(...) statement of update_rows, built once per process."""
    meta = model._meta
    model_fields = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    aliases = [f"c{index}" for index in range(len(model_fields))]
    arrays = [f"%b::{field.db_type(connection)}[]" for field in model_fields]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{alias}" for field, alias in zip(model_fields[1:], aliases[1:], strict=True)
    )
    return (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({', '.join(arrays)}) AS v({', '.join(aliases)}) WHERE t.{quote(meta.pk.column)} = v.c0"
    )
