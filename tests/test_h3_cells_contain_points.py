"""Issue 11 item 1: every stored H3 resolution is the cell that contains the point (never the parent
of the r9 cell), so the heatmap equals an independent per-point computation; the data migration
repairs cells stored the old way."""

import importlib
import random
from collections import Counter

import h3
import pytest
from django.apps import apps

from inspections.models import Establishment, Visit
from tests.factories import CategoryFactory, VisitFactory

MIGRATION = importlib.import_module("inspections.migrations.0003_h3_cells_from_points")


def _random_points(count: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    # Around Dammam and Khobar (about 40 x 40 km): many r5..r8 cells, many points near their edges.
    return [(rng.uniform(26.15, 26.55), rng.uniform(49.95, 50.35)) for _ in range(count)]


@pytest.mark.django_db
def test_heatmap_counts_equal_an_independent_per_point_computation(api, admin_user, leader, dammam):
    category = CategoryFactory()
    points = _random_points(150, seed=11)
    inspector = admin_user
    for index, (lat, lon) in enumerate(points):
        response = api.as_user(admin_user).post(
            "establishments",
            {
                "name_ar": f"منشأة {index}",
                "category": category.code,
                "licence_no": f"H3-{index:05d}",
                "lat": lat,
                "lon": lon,
                "municipality_id": dammam.id,
            },
        )
        assert response.status_code == 201, response.content
        establishment = Establishment.objects.get(pk=response.json()["id"])
        VisitFactory(establishment=establishment, inspector=inspector, outcome=Visit.Outcome.COMPLIANT)

    parents_differ = 0
    for resolution in (5, 6, 7, 8, 9):
        expected = Counter(h3.latlng_to_cell(lat, lon, resolution) for lat, lon in points)
        body = api.as_user(leader).get("analytics/heatmap", {"resolution": resolution}).json()
        shown = {feature["properties"]["cell"]: feature["properties"]["visits"] for feature in body["features"]}
        assert shown == dict(expected), f"resolution {resolution}"
        parents_differ += sum(
            h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 9), resolution) != h3.latlng_to_cell(lat, lon, resolution)
            for lat, lon in points
        )
    # The sample holds points where the parent is not the containing cell (else this test could not fail).
    assert parents_differ > 10


@pytest.mark.django_db
def test_migration_recomputes_cells_stored_as_parents(dammam):
    points = _random_points(400, seed=7)
    wrong = []
    for lat, lon in points:
        r9 = h3.latlng_to_cell(lat, lon, 9)
        parents = {f"h3_r{r}": h3.str_to_int(h3.cell_to_parent(r9, r)) for r in (5, 6, 7, 8)}
        if all(parents[f"h3_r{r}"] == h3.str_to_int(h3.latlng_to_cell(lat, lon, r)) for r in (5, 6, 7, 8)):
            continue
        wrong.append((lat, lon, {**parents, "h3_r9": h3.str_to_int(r9)}))
    assert len(wrong) > 20
    stored = []
    for lat, lon, cells in wrong[:20]:
        visit = VisitFactory(establishment__municipality=dammam, establishment__lat=lat, establishment__lon=lon)
        Establishment.objects.filter(pk=visit.establishment_id).update(**cells)
        Visit.objects.filter(pk=visit.pk).update(**cells)
        stored.append((visit.pk, lat, lon))

    MIGRATION.recompute(apps, None)

    for visit_id, lat, lon in stored:
        visit = Visit.objects.select_related("establishment").get(pk=visit_id)
        for resolution in (5, 6, 7, 8, 9):
            cell = h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution))
            assert getattr(visit, f"h3_r{resolution}") == cell
            assert getattr(visit.establishment, f"h3_r{resolution}") == cell
