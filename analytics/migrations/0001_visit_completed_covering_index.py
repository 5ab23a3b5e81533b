"""A partial covering index for the analytics reads on PostgreSQL.

Every rate and heatmap figure is over *completed* visits (outcome compliant or violations) in a date
range. `visit_analytics_idx` (inspections) leads with finished_at but lacks `outcome`, so PostgreSQL
must visit the heap for each row. This index holds only completed visits and INCLUDEs every column the
aggregations read, so they run as index-only scans (see docs/analytics.md for the figures).
Built CONCURRENTLY (non-atomic migration) so that it never locks the visits table. SQLite: nothing.
"""

from django.db import migrations

INDEX = "analytics_visit_completed_idx"
CREATE = f"""
CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON inspections_visit (finished_at)
INCLUDE (municipality_id, category_id, has_violation, inspector_id, checklist_version_id,
         h3_r5, h3_r6, h3_r7, h3_r8, h3_r9)
WHERE outcome IN ('compliant', 'violations')
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inspections", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
