"""History import: past inspections from CSV (command and admin endpoint), marked imported with their
provenance, feeding analytics and risk, with no follow-up, notification, webhook or overdue finding;
a file with one bad row writes nothing and says which row and column; a re-import adds nothing."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from community.models import WebhookDelivery, WebhookSubscription
from community.services.webhooks import secret_generate, webhooks_collect
from enforcement.services.penalties import penalties_assess_due
from inspections.models import (
    Answer,
    AuditEvent,
    Establishment,
    Finding,
    HistoryImport,
    ImportedVisit,
    Membership,
    RoundStop,
    Visit,
)
from notifications.models import Notification
from tests.enforcement_support import violation
from tests.factories import (
    CategoryFactory,
    ChecklistItemFactory,
    ChecklistVersionFactory,
    EstablishmentFactory,
    make_user,
)
from tests.test_analytics_rollups import assert_exact

Role = Membership.Role


@pytest.fixture
def world(dammam, khobar, inspector, supervisor, admin_user):
    grocery = CategoryFactory(code="grocery", name_en="Grocery", name_ar="بقالة")
    version = ChecklistVersionFactory()
    version.checklist.categories.add(grocery)
    violation(code="HIST-V", grade="serious", grace=0)  # a penalty would be issued for a live finding
    ChecklistItemFactory(version=version, code="MASKS", severity="critical", violation_code="HIST-V")
    ChecklistItemFactory(version=version, code="CLEAN", severity="major")
    shops = [
        EstablishmentFactory(municipality=dammam, category=grocery, licence_no="L-100"),
        EstablishmentFactory(municipality=dammam, category=grocery, licence_no="L-101"),
        EstablishmentFactory(municipality=khobar, category=grocery, licence_no="L-200"),
    ]
    inspector.first_name, inspector.last_name = "Saad", "Ali"
    inspector.save()
    WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hook", event_types=["visit.stored", "finding.opened", "finding.closed"],
        secret=secret_generate(),
    )  # fmt: skip
    return {"version": version, "shops": shops, "admin": admin_user}


def day(days_ago: int) -> str:
    return (timezone.localdate() - timedelta(days=days_ago)).isoformat()


def good_file() -> bytes:
    lines = [
        "licence_no,date,inspector,result,MASKS,CLEAN",
        f"L-100,{day(60)},insp_dammam,,fail,pass",  # opens a critical finding...
        f"L-100,{day(30)},Saad Ali,,pass,pass",  # ...closed by the file's own later visit
        f"L-101,{day(45)},insp_dammam,,pass,fail",  # a major finding the file never sees corrected
        f"L-200,{day(20)},insp_dammam,compliant,,",
        f"L-200,{day(10)},insp_dammam,closed,,",
        f"L-101,{day(5)},INSP_DAMMAM,violations,,",  # an overall result without items
    ]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def upload(api, user, data: bytes, name: str = "history-2025.csv"):
    return api.as_user(user).post("history-imports", data={"file": SimpleUploadedFile(name, data, "text/csv")})


@pytest.fixture
def imported(api, world, django_capture_on_commit_callbacks):
    """Upload as the admin, let the queued task run (on commit), then read the job as a client polls it."""

    def run(data: bytes, name: str = "history-2025.csv") -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(api, world["admin"], data, name)
            assert response.status_code == 202, response.content
            assert response.json()["status"] == "queued" and response.json()["processed"] == 0
        polled = api.as_user(world["admin"]).get(f"history-imports/{response.json()['id']}")
        assert polled.status_code == 200
        return polled.json()

    return run


def counts() -> dict[str, int]:
    return {
        "visits": Visit.objects.count(),
        "answers": Answer.objects.count(),
        "findings": Finding.objects.count(),
        "imported": ImportedVisit.objects.count(),
        "jobs": HistoryImport.objects.count(),
    }


def test_a_good_file_imports_every_visit_with_its_provenance_and_feeds_the_rates(api, world, imported):
    body = imported(good_file())
    assert body["status"] == "done" and body["total"] == 6 and body["processed"] == 6 and body["imported"] == 6
    assert [(row["row"], row["status"]) for row in body["report"]] == [(n, "imported") for n in range(2, 8)]
    # The progress and the report stay readable afterwards.
    again = api.as_user(world["admin"]).get(f"history-imports/{body['id']}").json()
    assert again["processed"] == again["total"] == 6

    provenance = ImportedVisit.objects.select_related("visit").get(row_number=3)
    assert provenance.source_file == "history-2025.csv" and provenance.inspector_name == "Saad Ali"
    assert provenance.imported_by == world["admin"] and provenance.imported_at is not None
    assert provenance.visit.inspector.username == "insp_dammam"
    assert provenance.visit.finished_at.date().isoformat() == day(30)

    assert_exact("after a history import")  # the roll-ups hold the imported visits and answers
    rates = api.as_user(world["admin"]).get(
        "analytics/violation-rates", {"group_by": "municipality", "from": day(90), "to": day(1)}
    )
    by_name = {row["label"]: (row["visits"], row["violating_visits"]) for row in rates.json()}
    # Completed visits only (a "closed" shop is not a completed inspection): Dammam 4 (3 violating), Khobar 1.
    assert by_name == {"Dammam": (4, 3), "Khobar": (1, 0)}


def test_the_past_opens_nothing_and_tells_no_one(api, world, imported):
    shops = world["shops"]
    risk_before = Establishment.objects.get(pk=shops[1].pk).risk_score
    assert imported(good_file())["status"] == "done"
    findings = {f.item_code: f for f in Finding.objects.filter(establishment__licence_no__in=["L-100", "L-101"])}
    assert set(findings) == {"MASKS", "CLEAN"}
    assert all(f.status == Finding.Status.CLOSED for f in findings.values())
    masks = findings["MASKS"]
    assert masks.closed_by_visit.imported.row_number == 3 and masks.closed_at == masks.closed_by_visit.finished_at
    assert findings["CLEAN"].closed_at is None  # its correction is not in the file
    assert not Finding.objects.filter(status=Finding.Status.OPEN).exists()
    assert api.as_user(world["admin"]).get("analytics/overdue-findings").json()["count"] == 0
    assert not RoundStop.objects.exists()  # no follow-up stop
    assert not Notification.objects.exists()
    webhooks_collect()
    assert not WebhookDelivery.objects.exists()
    penalties_assess_due()
    assert not Finding.objects.filter(assessment__isnull=False).exists()
    # The risk score does read the history (a closed major counts, decayed).
    assert Establishment.objects.get(pk=shops[1].pk).risk_score > risk_before
    event = AuditEvent.objects.get(action="history.imported")  # one event, on the import, by who imported it
    job = HistoryImport.objects.get()
    assert (event.object_type, event.object_id, event.actor) == (
        "inspections.historyimport",
        str(job.pk),
        world["admin"],
    )
    assert event.details["imported"] == job.imported and event.details["sha256"] == job.file_sha256


def test_one_bad_row_writes_nothing_and_names_the_row_and_column(api, world):
    lines = good_file().decode().splitlines()
    lines.insert(3, f"L-999,{day(3)},insp_dammam,,pass,pass")  # row 4: unknown licence
    lines.append(f"L-100,{day(-1)},nobody,,maybe,pass")  # row 9: future date, unknown inspector, bad value
    before = counts()
    response = upload(api, world["admin"], ("\n".join(lines) + "\n").encode())
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_rows"
    where = {(error["loc"][1], error["loc"][2]) for error in body["errors"]}
    assert where == {(4, "licence_no"), (9, "date"), (9, "inspector"), (9, "MASKS")}
    assert counts() == before


@pytest.mark.parametrize(
    "content,code",
    [
        (b"", "empty_file"),
        (b"\xff\xfe\x00bad", "not_utf8"),
        (b"licence_no,date\nL-100,2020-01-01\n", "missing_columns"),
        (b"licence_no,date,inspector\nL-100,2020-01-01,insp_dammam\n", "missing_columns"),
        (b"licence_no,date,inspector,result\n", "empty_file"),
    ],
)
def test_bad_files_are_4xx_json_and_write_nothing(api, world, content, code):
    before = counts()
    response = upload(api, world["admin"], content)
    assert 400 <= response.status_code < 500 and response.json()["code"] == code, response.content
    assert counts() == before


def test_no_file_is_a_422_and_only_admins_import(api, world, supervisor, leader):
    assert api.as_user(world["admin"]).post("history-imports", data={}).status_code == 422
    for user in (supervisor, leader, make_user(Role.LEADERSHIP, username="ministry_h", national=True)):
        response = upload(api, user, good_file())
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert api.as_user(supervisor).get("history-imports/1").status_code == 403
    assert api.as_user(world["admin"]).get("history-imports/999999").status_code == 404
    assert counts()["visits"] == 0


def test_reimporting_the_same_file_adds_nothing(api, world, imported):
    first = imported(good_file())
    second = imported(good_file(), name="renamed.csv")
    assert second["status"] == "done" and second["imported"] == 0 and second["duplicates"] == 6
    assert {row["status"] for row in second["report"]} == {"duplicate"}
    assert [row["visit_id"] for row in second["report"]] == [row["visit_id"] for row in first["report"]]
    assert Visit.objects.count() == 6 and Finding.objects.count() == 2


def test_the_command_imports_and_refuses_a_bad_file_whole(world, tmp_path, capsys):
    good = tmp_path / "old.csv"
    good.write_bytes(good_file())
    call_command("import_history", str(good), "--user", world["admin"].username)
    assert "6 visit(s) imported" in capsys.readouterr().out
    call_command("import_history", str(good), "--user", world["admin"].username)
    assert "0 visit(s) imported, 6 already there" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(f"licence_no,date,inspector,result\nL-100,{day(2)},insp_dammam,excellent\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_history", str(bad), "--user", world["admin"].username)
    assert "row 2, column result" in capsys.readouterr().err
    assert Visit.objects.count() == 6


def test_the_report_speaks_arabic(world):
    from tests.conftest import ApiClient

    arabic = ApiClient(user=world["admin"], language="ar")
    data = f"licence_no,date,inspector,result\nL-999,{day(2)},insp_dammam,compliant\n".encode()
    response = arabic.post("history-imports", data={"file": SimpleUploadedFile("h.csv", data, "text/csv")})
    assert response.status_code == 422
    assert response.json()["errors"][0]["msg"] == "لا توجد منشأة بهذا الرقم من الترخيص."
