"""`manage.py import_establishments FILE.csv`: dedupe by licence, per-row errors, nothing half-written, Arabic."""

import csv

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from inspections.models import Establishment
from inspections.services.establishments import establishments_import
from tests.factories import DAMMAM, KHOBAR, CategoryFactory, EstablishmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Commands speak the default language (Arabic); these tests read the English messages."""
    with translation.override("en"):
        yield


HEADER = "licence_no,name_ar,name_en,category,lat,lon,address,municipality,status"


@pytest.fixture
def categories(db):
    return {
        "grocery": CategoryFactory(code="grocery", name_ar="بقالة", name_en="Grocery"),
        "bakery": CategoryFactory(code="bakery", name_ar="مخبز", name_en="Bakery"),
    }


@pytest.fixture
def places(dammam, khobar, categories):
    return {"dammam": dammam, "khobar": khobar}


def write(tmp_path, lines, *, bom=False, encoding="utf-8", name="establishments.csv"):
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return str(path)


def run(path, *args):
    call_command("import_establishments", path, "--no-progress", *args)


GOOD = [
    f"2050000001,بقالة النخيل,Al Nakheel Grocery,grocery,{DAMMAM[0]},{DAMMAM[1]},طريق الملك فهد,,",
    f"2050000002,مخبز الريان,Al Rayyan Bakery,bakery,{KHOBAR[0]},{KHOBAR[1]},,,",
    f'2050000003,"مخبز ""الأمل""، فرع ١",Al Amal,Bakery,{DAMMAM[0] + 0.01},{DAMMAM[1]},"شارع 1, حي 2",,suspended',
]


@pytest.mark.parametrize("bom", [False, True])
def test_import_creates_with_arabic_text_and_point_in_polygon(tmp_path, places, capsys, bom):
    run(write(tmp_path, [HEADER, *GOOD], bom=bom))
    assert "3 rows: 3 created, 0 updated, 0 unchanged, 0 bad" in capsys.readouterr().out
    nakheel = Establishment.objects.get(licence_no="2050000001")
    assert nakheel.name_ar == "بقالة النخيل" and nakheel.address == "طريق الملك فهد"
    assert nakheel.municipality == places["dammam"] and not nakheel.municipality_overridden
    assert Establishment.objects.get(licence_no="2050000002").municipality == places["khobar"]
    amal = Establishment.objects.get(licence_no="2050000003")
    assert amal.name_ar == 'مخبز "الأمل"، فرع ١' and amal.category.code == "bakery" and amal.status == "suspended"
    assert amal.address == "شارع 1, حي 2"
    assert amal.h3_r9 and amal.h3_r5


def test_reimport_updates_and_never_duplicates(tmp_path, places, capsys):
    run(write(tmp_path, [HEADER, *GOOD]))
    before = {e.licence_no: e.updated_at for e in Establishment.objects.all()}
    changed = GOOD[0].replace("بقالة النخيل", "بقالة النخيل الجديدة")
    run(write(tmp_path, [HEADER, changed, GOOD[1], GOOD[2]], name="again.csv"))
    out = capsys.readouterr().out
    assert "3 rows: 0 created, 1 updated, 2 unchanged, 0 bad" in out
    assert Establishment.objects.count() == 3
    updated = Establishment.objects.get(licence_no="2050000001")
    assert updated.name_ar == "بقالة النخيل الجديدة"
    assert updated.updated_at > before["2050000001"]  # the phones' delta sync sees the change
    assert Establishment.objects.get(licence_no="2050000002").updated_at == before["2050000002"]


def test_reimport_keeps_risk_score(tmp_path, places):
    EstablishmentFactory(licence_no="2050000001", municipality=places["dammam"], risk_score=0.7)
    run(write(tmp_path, [HEADER, GOOD[0]]))
    establishment = Establishment.objects.get(licence_no="2050000001")
    assert establishment.risk_score == 0.7 and establishment.name_ar == "بقالة النخيل"


BAD_ROWS = [
    (",بقالة,Shop,grocery,26.42,50.09,,,", "licence_no", "Required"),
    ("X1,,Shop,grocery,26.42,50.09,,,", "name_ar", "Required"),
    ("X1,بقالة,Shop,casino,26.42,50.09,,,", "category", "Unknown category"),
    ("X1,بقالة,Shop,,26.42,50.09,,,", "category", "Required"),
    ("X1,بقالة,Shop,grocery,north,50.09,,,", "lat", "latitude"),
    ("X1,بقالة,Shop,grocery,96,50.09,,,", "lat", "latitude"),
    ("X1,بقالة,Shop,grocery,26.42,,,,", "lon", "Missing: the row has no longitude"),
    ("X1,بقالة,Shop,grocery,,50.09,,,", "lat", "Missing: the row has no latitude"),
    ("X1,بقالة,Shop,grocery,26.42,190,,,", "lon", "longitude"),
    ("X1,بقالة,Shop,grocery,nan,50.09,,,", "lat", "latitude"),
    ("X1,بقالة,Shop,grocery,24.7,46.7,,,", "lat", "outside every municipality"),
    ("X1,بقالة,Shop,grocery,26.42,50.09,,NOWHERE,", "municipality", "Unknown municipality"),
    ("X1,بقالة,Shop,grocery,26.42,50.09,,,open", "status", "Must be one of"),
    ("X1," + "ب" * 201 + ",Shop,grocery,26.42,50.09,,,", "name_ar", "Longer than 200"),
]


@pytest.mark.parametrize(("line", "field", "reason"), BAD_ROWS)
def test_bad_rows_are_reported_and_not_written_while_good_rows_are(tmp_path, places, capsys, line, field, reason):
    with pytest.raises(CommandError, match="1 row.s. refused") as refused:
        run(write(tmp_path, [HEADER, GOOD[0], line, GOOD[1]]))
    assert refused.value.returncode == 3  # rows refused, the others written
    out, err = capsys.readouterr()
    assert f"row 3, {field}: " in err and reason in err
    assert "1 bad (skipped, not written)" in out
    assert set(Establishment.objects.values_list("licence_no", flat=True)) == {"2050000001", "2050000002"}


def test_a_row_with_several_problems_lists_them_all(tmp_path, places, capsys):
    with pytest.raises(CommandError):
        run(write(tmp_path, [HEADER, "X9,,Shop,casino,north,east,,,"]))
    err = capsys.readouterr().err
    for field in ("name_ar", "category", "lat", "lon"):
        assert f"row 2, {field}:" in err
    assert Establishment.objects.count() == 0


def test_strict_mode_writes_nothing_when_any_row_is_bad(tmp_path, places):
    with pytest.raises(CommandError, match="nothing was written") as refused:
        run(write(tmp_path, [HEADER, GOOD[0], BAD_ROWS[2][0], GOOD[1]]), "--strict")
    assert refused.value.returncode == 1
    assert Establishment.objects.count() == 0


def test_every_row_refused_exits_non_zero_and_says_nothing_was_written(tmp_path, places, capsys):
    """Item 10: the old command exited 0 when every row was refused."""
    with pytest.raises(CommandError, match="Every row .2. was refused: nothing was written") as refused:
        run(write(tmp_path, [HEADER, BAD_ROWS[0][0], BAD_ROWS[2][0]]))
    assert refused.value.returncode == 1
    assert Establishment.objects.count() == 0


def test_a_header_without_rows_exits_non_zero(tmp_path, places):
    with pytest.raises(CommandError, match="no rows") as refused:
        run(write(tmp_path, [HEADER]))
    assert refused.value.returncode == 1


def test_exit_statuses_are_documented_in_help():
    from inspections.management.commands.import_establishments import Command

    assert "Exit status: 0 every row was written; 1 nothing was written" in Command.help
    assert "3 some rows were refused" in Command.help


def test_language_option_sets_the_report_language(tmp_path, places, capsys):
    with pytest.raises(CommandError, match="رُفض 1 صف") as refused:
        run(write(tmp_path, [HEADER, GOOD[0], "X1,بقالة,Shop,grocery,,50.09,,,"]), "--language", "ar")
    assert refused.value.returncode == 3
    out, err = capsys.readouterr()
    assert "الصف 3، lat: ناقص: لا يوجد خط عرض" in err
    assert "2 صف: 1 أُنشئ" in out
    with pytest.raises(CommandError, match="1 row.s. refused"):
        run(write(tmp_path, [HEADER, "X1,بقالة,Shop,grocery,,50.09,,,", GOOD[1]], name="again.csv"), "--language", "en")
    assert "row 2, lat: Missing: the row has no latitude." in capsys.readouterr().err


def test_strict_mode_writes_a_clean_file(tmp_path, places):
    run(write(tmp_path, [HEADER, *GOOD]), "--strict")
    assert Establishment.objects.count() == 3


def test_same_licence_twice_in_a_file_is_reported(tmp_path, places, capsys):
    duplicate = GOOD[1].replace("2050000002", "2050000001")
    with pytest.raises(CommandError):
        run(write(tmp_path, [HEADER, GOOD[0], duplicate]))
    assert "row 3, licence_no: Licence 2050000001 already appears at row 2" in capsys.readouterr().err
    assert Establishment.objects.get().name_en == "Al Nakheel Grocery"


def test_municipality_code_overrides_point_in_polygon(tmp_path, places):
    line = "2050000009,كشك,Kiosk,grocery,27.5,49.0,,khobar,"
    run(write(tmp_path, [HEADER, line]))
    establishment = Establishment.objects.get(licence_no="2050000009")
    assert establishment.municipality == places["khobar"] and establishment.municipality_overridden


def test_header_aliases_order_and_case(tmp_path, places):
    lines = ["Longitude ; Latitude ; License ; Arabic_Name ; Category", f"{DAMMAM[1]};{DAMMAM[0]};L-1;بقالة;GROCERY"]
    run(write(tmp_path, lines))
    establishment = Establishment.objects.get(licence_no="L-1")
    assert establishment.lat == DAMMAM[0] and establishment.category.code == "grocery"


def test_category_by_arabic_name(tmp_path, places):
    run(write(tmp_path, ["licence_no,name_ar,category,lat,lon", f"L-2,مخبز,مخبز,{DAMMAM[0]},{DAMMAM[1]}"]))
    assert Establishment.objects.get(licence_no="L-2").category.code == "bakery"


def test_arabic_decimal_comma_in_a_semicolon_file(tmp_path, places):
    run(write(tmp_path, ["licence_no;name_ar;category;lat;lon", "L-3;بقالة;grocery;26٫4207;50,0888"]))
    assert Establishment.objects.get(licence_no="L-3").lon == pytest.approx(50.0888)


def test_missing_required_column_stops_before_anything(tmp_path, places):
    with pytest.raises(CommandError, match="Missing required column"):
        run(write(tmp_path, ["licence_no,name_ar,lat,lon", "L-1,بقالة,26.4,50.1"]))
    assert Establishment.objects.count() == 0


def test_not_utf8_is_a_clear_error_and_cp1256_works_with_the_option(tmp_path, places):
    path = write(
        tmp_path,
        ["licence_no,name_ar,category,lat,lon", f"L-4,بقالة,grocery,{DAMMAM[0]},{DAMMAM[1]}"],
        encoding="cp1256",
    )
    with pytest.raises(CommandError, match="not utf-8-sig"):
        run(path)
    assert Establishment.objects.count() == 0
    run(path, "--encoding", "cp1256")
    assert Establishment.objects.get(licence_no="L-4").name_ar == "بقالة"


@pytest.mark.parametrize("lines", [[], [""], ["   "]])
def test_empty_file(tmp_path, places, lines):
    with pytest.raises(CommandError, match="empty"):
        run(write(tmp_path, lines))


def test_blank_lines_are_skipped_and_row_numbers_are_file_lines(tmp_path, places, capsys):
    with pytest.raises(CommandError):
        run(write(tmp_path, [HEADER, "", GOOD[0], "", "X,,,,,,,,"]))
    assert "row 5, name_ar" in capsys.readouterr().err
    assert Establishment.objects.count() == 1


def test_errors_csv_report(tmp_path, places):
    report_path = tmp_path / "errors.csv"
    with pytest.raises(CommandError):
        run(write(tmp_path, [HEADER, GOOD[0], BAD_ROWS[2][0]]), "--errors-csv", str(report_path))
    with open(report_path, encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row", "field", "reason"]
    assert rows[1][:2] == ["3", "category"]


def test_missing_file(tmp_path, db):
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "nope.csv"))


def test_progress_bar_goes_to_stderr(tmp_path, places, capsys):
    call_command("import_establishments", write(tmp_path, [HEADER, *GOOD]))
    assert Establishment.objects.count() == 3


def test_service_is_set_based(places, django_assert_max_num_queries):
    rows = [
        (
            index + 2,
            {
                "licence_no": f"B-{index}",
                "name_ar": "بقالة",
                "category": "grocery",
                "lat": str(DAMMAM[0]),
                "lon": str(DAMMAM[1]),
            },
        )
        for index in range(300)
    ]
    # Point-in-polygon is set-based too: a handful of queries whatever the number of rows.
    with django_assert_max_num_queries(12):
        report = establishments_import(rows=rows)
    assert report.created == 300 and Establishment.objects.count() == 300


def test_a_bad_row_does_not_block_a_later_row_with_the_same_licence(tmp_path, places, capsys):
    outside = "2050000001,بقالة,Shop,grocery,24.7,46.7,,,"
    with pytest.raises(CommandError):
        run(write(tmp_path, [HEADER, outside, GOOD[0]]))
    err = capsys.readouterr().err
    assert "row 2, lat: The location is outside every municipality" in err and "already appears" not in err
    assert Establishment.objects.get(licence_no="2050000001").municipality == places["dammam"]


def test_points_go_to_the_smallest_enclosing_municipality(tmp_path, places, amanah):
    from tests.factories import MunicipalityFactory

    inner = MunicipalityFactory(code="INNER", centre_lat=DAMMAM[0], centre_lon=DAMMAM[1], parent=amanah)
    inner.boundary = {
        "type": "Polygon",
        "coordinates": [[[50.08, 26.41], [50.10, 26.41], [50.10, 26.43], [50.08, 26.43], [50.08, 26.41]]],
    }
    inner.save()
    run(write(tmp_path, [HEADER, GOOD[0], GOOD[2]]))
    assert Establishment.objects.get(licence_no="2050000001").municipality == inner  # also inside Dammam's square
    assert Establishment.objects.get(licence_no="2050000003").municipality == places["dammam"]
