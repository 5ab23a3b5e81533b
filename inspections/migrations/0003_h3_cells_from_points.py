"""Recompute every stored H3 cell from the point itself (issue 11, item 1).

Cells at resolutions 5-8 used to be stored as parents of the r9 cell; H3 is not exactly nested, so
several percent of points sat in a neighbouring hexagon. Establishments are recomputed from their
(lat, lon). A visit's cells are its establishment's at the time of the visit: when its stored r9
cell is the establishment's current one (the r9 cell was always computed from the point), the
establishment's point is used; otherwise (the establishment moved since) the r9 cell's centre is
the best point left, and it lies within ~200 m of the original one.
"""

import h3
from django.db import migrations

RESOLUTIONS = (5, 6, 7, 8, 9)


def _cells(lat: float, lon: float) -> dict[str, int]:
    # A frozen copy of inspections.domain.geo.h3_cells: a migration must not change when the app code does.
    return {f"h3_r{r}": h3.str_to_int(h3.latlng_to_cell(lat, lon, r)) for r in RESOLUTIONS}


def recompute(apps, schema_editor):
    Establishment = apps.get_model("inspections", "Establishment")
    Visit = apps.get_model("inspections", "Visit")
    columns = [f"h3_r{r}" for r in RESOLUTIONS]
    for pk, lat, lon, *stored in list(Establishment.objects.values_list("id", "lat", "lon", *columns)):
        cells = _cells(lat, lon)
        if stored != [cells[column] for column in columns]:
            Establishment.objects.filter(pk=pk).update(**cells)
        # Visits at the establishment's current place whose coarser cells are parents.
        Visit.objects.filter(establishment_id=pk, h3_r9=cells["h3_r9"]).exclude(
            h3_r5=cells["h3_r5"], h3_r6=cells["h3_r6"], h3_r7=cells["h3_r7"], h3_r8=cells["h3_r8"]
        ).update(**cells)
    # Visits from before their establishment moved: from the centre of their own r9 cell.
    current_r9 = dict(Establishment.objects.values_list("id", "h3_r9"))
    pairs = Visit.objects.values_list("establishment_id", "h3_r9").distinct().order_by("establishment_id", "h3_r9")
    for establishment_id, r9 in list(pairs):
        if current_r9.get(establishment_id) == r9:
            continue
        lat, lon = h3.cell_to_latlng(h3.int_to_str(r9))
        Visit.objects.filter(establishment_id=establishment_id, h3_r9=r9).update(**_cells(lat, lon))


class Migration(migrations.Migration):
    dependencies = [("inspections", "0002_auditevent_action_at")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True)]
