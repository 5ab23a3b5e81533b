"""PostgreSQL statistics on `municipality_id + 0` of every roll-up table: a scope of many
municipalities is applied as that expression (analytics.selectors._in_scope, so that it is a filter,
not an index condition descending the index once per id); without statistics the planner guesses
0.5% per id, under-estimates the rows, and sorts them to disk instead of hashing. SQLite: nothing."""

from django.db import migrations

TABLES = ("analytics_visitday", "analytics_inspectorday", "analytics_itemday", "analytics_cellperiod")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {table}_scope_stx ON (municipality_id + 0) FROM {table}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {table}_scope_stx")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_cellperiod_quarters")]

    operations = [migrations.RunPython(create, drop)]
