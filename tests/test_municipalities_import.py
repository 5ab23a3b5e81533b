"""Importing municipality boundaries from GeoJSON: messy names, invalid rings repaired and reported,
unusable features refused with a reason, re-import updates, and point-in-polygon follows the import."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from shapely.geometry import Point, shape

from inspections.domain.geo import municipality_at
from inspections.models import Municipality
from inspections.services.municipalities import municipalities_import
from tests.factories import square

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Commands speak the default language (Arabic); these tests read the English messages."""
    with translation.override("en"):
        yield


# A bow-tie: the ring crosses itself (Self-intersection).
BOW_TIE = {"type": "Polygon", "coordinates": [[[50.0, 26.0], [50.2, 26.2], [50.2, 26.0], [50.0, 26.2], [50.0, 26.0]]]}
# Like the real regions file: an island stored as a "hole" that lies outside its shell.
HOLE_OUTSIDE = {
    "type": "Polygon",
    "coordinates": [
        [[49.0, 25.0], [49.4, 25.0], [49.4, 25.4], [49.0, 25.4], [49.0, 25.0]],
        [[49.6, 25.1], [49.7, 25.1], [49.7, 25.2], [49.6, 25.2], [49.6, 25.1]],
    ],
}


def feature(properties, geometry):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def test_valid_features_are_created_under_the_amanah(amanah):
    report = municipalities_import(
        collection=collection(
            feature({"code": "DAMMAM", "name_ar": "الدمام", "name_en": "Dammam"}, square(26.42, 50.09)),
            feature({"code": "KHOBAR", "name_ar": "الخبر", "name_en": "Khobar"}, square(26.28, 50.21)),
        ),
        amanah_code=amanah.code,
    )
    assert report.created == ["DAMMAM", "KHOBAR"] and not report.refused and not report.repaired
    dammam = Municipality.objects.get(code="DAMMAM")
    assert dammam.parent == amanah and dammam.kind == "baladiya" and dammam.boundary_is_demo is False
    assert shape(dammam.boundary).contains(Point(dammam.centre_lon, dammam.centre_lat))
    assert dammam.centre_lat == pytest.approx(26.42) and dammam.centre_lon == pytest.approx(50.09)


def test_bow_tie_is_repaired_and_reported(amanah):
    report = municipalities_import(
        amanah_code=amanah.code, collection=collection(feature({"code": "BOW", "name_en": "Bow"}, BOW_TIE))
    )
    assert [problem.code for problem in report.repaired] == ["BOW"]
    assert "Self-intersection" in report.repaired[0].reason
    municipality = Municipality.objects.get(code="BOW")
    assert municipality.boundary_repaired is True
    repaired = shape(municipality.boundary)
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(0.02, rel=0.01)  # both triangles kept
    assert municipality_at(26.1, 50.03) == municipality.id  # left triangle
    assert municipality_at(26.1, 50.17) == municipality.id  # right triangle


def test_hole_outside_shell_becomes_an_island(amanah):
    report = municipalities_import(
        amanah_code=amanah.code, collection=collection(feature({"code": "ISL", "name_en": "Island"}, HOLE_OUTSIDE))
    )
    assert "Hole lies outside shell" in report.repaired[0].reason
    municipality = Municipality.objects.get(code="ISL")
    geometry = shape(municipality.boundary)
    assert geometry.is_valid and geometry.geom_type == "MultiPolygon" and len(geometry.geoms) == 2
    assert municipality_at(25.15, 49.65) == municipality.id  # the island
    assert municipality_at(25.2, 49.2) == municipality.id  # the mainland


def test_geometry_collection_with_label_point_is_accepted(amanah):
    geometry = {
        "type": "GeometryCollection",
        "geometries": [square(26.42, 50.09), {"type": "Point", "coordinates": [50.09, 26.42]}],
    }
    report = municipalities_import(
        amanah_code=amanah.code, collection=collection(feature({"code": "GC", "name_en": "Collection"}, geometry))
    )
    assert report.created == ["GC"]
    assert "non-polygon" in report.notes[0].reason
    assert Municipality.objects.get(code="GC").boundary["type"] == "Polygon"


@pytest.mark.parametrize(
    ("properties", "name_ar", "name_en"),
    [
        ({"CODE": "X1", "NAME_AR": "الدمام", "NAME_EN": "Dammam"}, "الدمام", "Dammam"),
        ({"Code": "X1", "Arabic Name": "الدمام", "English Name": "Dammam"}, "الدمام", "Dammam"),
        ({"code": "X1", "name-ar": " الدمـــام\u200f ", "name-en": "  Dammam   City "}, "الدمام", "Dammam City"),
        ({"code": "X1", "name": "الدمام"}, "الدمام", "الدمام"),
        ({"code": "X1", "name": "Dammam"}, "Dammam", "Dammam"),
        ({"id": "X1", "nameAr": "الدمام", "nameEn": "Dammam"}, "الدمام", "Dammam"),
    ],
)
def test_messy_property_names_are_understood(amanah, properties, name_ar, name_en):
    report = municipalities_import(
        amanah_code=amanah.code, collection=collection(feature(properties, square(26.4, 50.1)))
    )
    assert report.created == ["X1"], report.refused
    municipality = Municipality.objects.get(code="X1")
    assert (municipality.name_ar, municipality.name_en) == (name_ar, name_en)


def test_feature_id_is_the_code_when_properties_have_none(amanah):
    report = municipalities_import(
        amanah_code=amanah.code,
        collection=collection(
            {"type": "Feature", "id": 42, "properties": {"name_en": "N"}, "geometry": square(26, 50)}
        ),
    )
    assert report.created == ["42"]


def test_explicit_field_names(amanah):
    properties = {"district_name": "الفيصلية", "district_id": 77}
    report = municipalities_import(
        amanah_code=amanah.code,
        collection=collection(feature(properties, square(26.4, 50.1))),
        code_field="district_id",
        name_ar_field="district_name",
    )
    assert report.created == ["77"]
    assert Municipality.objects.get(code="77").name_ar == "الفيصلية"


@pytest.mark.parametrize(
    ("bad_feature", "reason"),
    [
        (feature({"name_en": "No code"}, square(26, 50)), "No code"),
        (feature({"code": "N1"}, square(26, 50)), "No Arabic or English name"),
        (
            feature({"code": "N1", "name_en": "Line"}, {"type": "LineString", "coordinates": [[50, 26], [51, 27]]}),
            "No Polygon",
        ),
        (feature({"code": "N1", "name_en": "None"}, None), "No Polygon"),
        (
            feature(
                {"code": "N1", "name_en": "Swapped"},
                {"type": "Polygon", "coordinates": [[[26, 150], [27, 150], [27, 151], [26, 150]]]},
            ),
            "out of range",
        ),
        (
            feature({"code": "N1", "name_en": "Junk"}, {"type": "Polygon", "coordinates": [[[50, 26], "x"]]}),
            "Malformed",
        ),
        (
            feature(
                {"code": "N1", "name_en": "Flat"},
                {"type": "Polygon", "coordinates": [[[50, 26], [51, 26], [50, 26], [50, 26]]]},
            ),
            "could not be repaired",
        ),
        ("not a feature", "Not a GeoJSON Feature"),
    ],
)
def test_unusable_features_are_refused_with_a_reason_and_do_not_stop_the_others(amanah, bad_feature, reason):
    good = feature({"code": "GOOD", "name_en": "Good"}, square(26.4, 50.1))
    report = municipalities_import(amanah_code=amanah.code, collection=collection(bad_feature, good))
    assert report.created == ["GOOD"]
    assert len(report.refused) == 1 and report.refused[0].index == 1
    assert reason.lower() in report.refused[0].reason.lower()
    assert not Municipality.objects.filter(code="N1").exists()


def test_duplicate_code_in_the_file_is_refused(amanah):
    report = municipalities_import(
        amanah_code=amanah.code,
        collection=collection(
            feature({"code": "D", "name_en": "First"}, square(26, 50)),
            feature({"code": "D", "name_en": "Second"}, square(27, 50)),
        ),
    )
    assert report.created == ["D"] and report.refused[0].index == 2
    assert Municipality.objects.get(code="D").name_en == "First"


def test_reimport_updates_without_duplicating_and_moves_point_in_polygon(amanah):
    first = collection(feature({"code": "M", "name_en": "Old", "name_ar": "قديم"}, square(26.0, 50.0)))
    municipalities_import(collection=first, amanah_code=amanah.code)
    municipality = Municipality.objects.get(code="M")
    assert municipality_at(26.0, 50.0) == municipality.id
    second = collection(feature({"code": "M", "name_en": "New", "name_ar": "جديد"}, square(27.0, 49.0)))
    report = municipalities_import(collection=second)
    assert report.updated == ["M"] and report.created == []
    assert Municipality.objects.filter(code="M").count() == 1
    assert Municipality.objects.get(code="M").name_en == "New"
    assert municipality_at(26.0, 50.0) is None  # the cached prepared geometries were rebuilt
    assert municipality_at(27.0, 49.0) == municipality.id


def test_dry_run_keeps_nothing(amanah):
    report = municipalities_import(
        collection=collection(feature({"code": "DRY", "name_en": "Dry"}, BOW_TIE)),
        amanah_code=amanah.code,
        dry_run=True,
    )
    assert report.created == ["DRY"] and report.repaired
    assert not Municipality.objects.filter(code="DRY").exists()


def test_an_unknown_amanah_code_creates_the_amanah(db):
    report = municipalities_import(
        collection=collection(feature({"code": "A1", "name_en": "A"}, square(26, 50))), amanah_code="NEW-AMANAH"
    )
    assert report.amanah_created
    assert Municipality.objects.get(code="A1").parent.code == "NEW-AMANAH"
    assert Municipality.objects.get(code="NEW-AMANAH").kind == "amanah"


def test_a_new_municipality_without_amanah_is_refused_even_when_one_amanah_exists(amanah):
    """Item 10: never attached to "the only Amanah" without being told."""
    report = municipalities_import(collection=collection(feature({"code": "NEW", "name_en": "New"}, square(26, 50))))
    assert report.created == [] and "--amanah" in report.refused[0].reason and amanah.code in report.refused[0].reason
    assert not Municipality.objects.filter(code="NEW").exists()


def test_a_new_municipality_without_amanah_is_refused_when_two_exist_and_no_orphan_is_made(amanah):
    """Item 10: with two Amanahs the old code made a municipality with no parent (an orphan)."""
    Municipality.objects.create(code="RIYADH-AMANAH", name_ar="أمانة الرياض", name_en="Riyadh", kind="amanah")
    report = municipalities_import(collection=collection(feature({"code": "NEW", "name_en": "New"}, square(26, 50))))
    assert report.refused and "RIYADH-AMANAH" in report.refused[0].reason
    assert not Municipality.objects.filter(kind="baladiya", parent__isnull=True).exists()


def test_without_amanah_an_existing_municipality_is_updated_and_keeps_its_parent(amanah):
    municipalities_import(
        collection=collection(feature({"code": "M", "name_en": "Old"}, square(26, 50))), amanah_code=amanah.code
    )
    Municipality.objects.create(code="RIYADH-AMANAH", name_ar="أمانة الرياض", name_en="Riyadh", kind="amanah")
    report = municipalities_import(collection=collection(feature({"code": "M", "name_en": "New"}, square(26, 50))))
    assert report.updated == ["M"] and not report.refused
    assert Municipality.objects.get(code="M").parent == amanah


def test_command_without_amanah_names_the_option(tmp_path, amanah, capsys):
    path = write(tmp_path, collection(feature({"code": "NEW", "name_en": "New"}, square(26, 50))))
    with pytest.raises(CommandError, match="No feature"):
        call_command("import_municipalities", path)
    assert "REFUSED: A new municipality needs its Amanah: pass --amanah CODE" in capsys.readouterr().err


def test_a_feature_cannot_overwrite_the_amanah(amanah):
    report = municipalities_import(
        collection=collection(feature({"code": amanah.code, "name_en": "X"}, square(26, 50)))
    )
    assert report.refused and Municipality.objects.get(code=amanah.code).kind == "amanah"


@pytest.mark.parametrize(
    "document",
    [[], {"type": "FeatureCollection", "features": "x"}, {"type": "FeatureCollection"}, "x", {"features": []}],
)
def test_not_a_feature_collection_is_refused(amanah, document):
    from backend.exceptions import ApplicationError

    with pytest.raises(ApplicationError):
        municipalities_import(collection=document)
    assert Municipality.objects.count() == 1


# --- the command --------------------------------------------------------------------------------


def write(tmp_path, document, name="boundaries.geojson", bom=False):
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_command_imports_and_reports(tmp_path, amanah, capsys):
    path = write(
        tmp_path,
        collection(
            feature({"code": "BOW", "name_ar": "فراشة", "name_en": "Bow"}, BOW_TIE),
            feature({"code": "OK", "name_ar": "سليم", "name_en": "Ok"}, square(27, 49)),
            feature({"name_en": "no code"}, square(28, 48)),
        ),
        bom=True,
    )
    call_command("import_municipalities", path, "--amanah", amanah.code)
    out, err = capsys.readouterr()
    assert "2 created, 0 updated, 1 repaired, 1 refused" in out
    assert "feature 1 (BOW): repaired: Self-intersection" in out
    assert "feature 3 (?): REFUSED: No code" in err
    assert set(Municipality.objects.filter(parent=amanah).values_list("code", flat=True)) == {"BOW", "OK"}


def test_command_dry_run(tmp_path, amanah, capsys):
    path = write(tmp_path, collection(feature({"code": "OK", "name_en": "Ok"}, square(27, 49))))
    call_command("import_municipalities", path, "--amanah", amanah.code, "--dry-run")
    assert "[dry run, nothing kept]" in capsys.readouterr().out
    assert not Municipality.objects.filter(code="OK").exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"type": "Topology"}'])
def test_command_refuses_broken_files(tmp_path, amanah, content):
    path = tmp_path / "broken.geojson"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_municipalities", str(path))
    assert Municipality.objects.count() == 1


def test_command_fails_when_nothing_is_importable(tmp_path, amanah):
    path = write(tmp_path, collection(feature({"name_en": "no code"}, square(28, 48))))
    with pytest.raises(CommandError, match="No feature"):
        call_command("import_municipalities", path)


def test_command_missing_file(tmp_path, db):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_municipalities", str(tmp_path / "missing.geojson"))
