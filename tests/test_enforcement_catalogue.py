"""`manage.py import_violation_catalogue`: a report line per row; any bad row and nothing is written;
the SAMPLE catalogue of the demo imports and every demo checklist item points at one of its codes."""

from pathlib import Path

import pytest
from django.core.management import call_command

from enforcement.demo import SAMPLE_CATALOGUE
from enforcement.models import ViolationType
from inspections.demo.checklists import CHECKLISTS

pytestmark = pytest.mark.django_db

HEADER = (
    "code,article,text_ar,text_en,grade,fine_min_sar,fine_max_sar,grace_days,repeat_multiplier,"
    "repeat_min_days,repeat_window_days,cap_sar,closure_days,licence_suspension_days\n"
)
GOOD = "F-01,Art. 3,عدم وجود ترخيص,No licence,serious,1000,5000,0,2,14,365,20000,3,7\n"


def _run(tmp_path: Path, text: str, *args) -> tuple[int, str]:
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    import io

    out = io.StringIO()
    try:
        call_command("import_violation_catalogue", str(path), *args, stdout=out)
        code = 0
    except SystemExit as exited:
        code = exited.code
    return code, out.getvalue()


def test_imports_and_reports_each_row(tmp_path):
    code, out = _run(tmp_path, HEADER + GOOD + "F-02,Art. 4,تجربة,Test,not_serious,100,500,7,1.5,14,180,1500,0,0\n")
    assert code == 0
    assert "line 2 F-01: created" in out and "line 3 F-02: created" in out
    row = ViolationType.objects.get(code="F-02")
    assert str(row.repeat_multiplier) == "1.500" and row.grace_days == 7 and not row.is_sample
    code, out = _run(tmp_path, HEADER + GOOD)
    assert code == 0 and "line 2 F-01: updated" in out


@pytest.mark.parametrize(
    "bad_row,message",
    [
        ("F-03,Art,ع,E,grave,1,2,0,2,14,365,9,0,0\n", "grade must be one of"),
        ("F-03,Art,ع,E,serious,abc,2,0,2,14,365,9,0,0\n", "fine_min_sar is not a number"),
        ("F-03,Art,ع,E,serious,5,2,0,2,14,365,9,0,0\n", "fine_min_sar is above fine_max_sar"),
        ("F-03,Art,ع,E,serious,1,20,0,2,14,365,9,0,0\n", "cap_sar is below fine_max_sar"),
        ("F-03,Art,ع,E,serious,1,2,-1,2,14,365,9,0,0\n", "grace_days must be a whole number"),
        ("F-03,Art,ع,E,serious,1,2,0,0.5,14,365,9,0,0\n", "repeat_multiplier must be at least 1"),
        ("F-03,,ع,E,serious,1,2,0,2,14,365,9,0,0\n", "missing article"),
        ("F-01,Art,ع,E,serious,1,2,0,2,14,365,9,0,0\n", "the code appears twice"),
    ],
)
def test_one_bad_row_and_nothing_is_written(tmp_path, bad_row, message):
    code, out = _run(tmp_path, HEADER + GOOD + bad_row)
    assert code == 1
    assert message in out and "line 3" in out and "nothing was written" in out
    assert not ViolationType.objects.exists()


def test_a_header_without_columns_is_refused(tmp_path):
    code, out = _run(tmp_path, "code,text_en\nX,y\n")
    assert code == 1 and "the header lacks" in out and not ViolationType.objects.exists()


def test_the_sample_catalogue_covers_every_demo_item(tmp_path):
    code, out = _run(tmp_path, SAMPLE_CATALOGUE.read_text(encoding="utf-8"), "--sample", "--source", "SAMPLE")
    assert code == 0
    codes = set(ViolationType.objects.values_list("code", flat=True))
    items = {f"SMP-{item['code']}" for checklist in CHECKLISTS for item in checklist["items"]}
    assert items == codes
    assert all("SAMPLE" in article for article in ViolationType.objects.values_list("article", flat=True))
    assert ViolationType.objects.filter(is_sample=True).count() == len(codes)
