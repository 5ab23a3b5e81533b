"""Checklist authoring through the API (admins), read-only for supervisors; the next sync serves the
published version; bad input writes nothing. Overdue findings and bulk follow-ups are here too."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.models import Answer, ChecklistItem, ChecklistVersion, Finding, RoundStop
from inspections.services.rounds import riyadh_today
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory, EstablishmentFactory, VisitFactory


@pytest.fixture
def published(db):
    version = ChecklistVersionFactory()
    ChecklistItemFactory(version=version, code="CLEAN")
    return version


def test_draft_edit_validate_publish_and_the_sync_serves_it(api, admin_user, supervisor, inspector, published):
    admin = api.as_user(admin_user)
    draft = admin.post(f"checklists/{published.checklist_id}/drafts", {"notes": "winter"})
    assert draft.status_code == 201, draft.json()
    draft = draft.json()
    assert draft["status"] == "draft" and [i["code"] for i in draft["items"]] == ["CLEAN"]
    added = admin.post(
        f"checklists/versions/{draft['id']}/items",
        {
            "code": "FRIDGE",
            "text_ar": "حالة الثلاجة",
            "text_en": "Fridge state",
            "answer_type": "choice",
            "choices": ["ok", "warm"],
            "failing_choices": ["warm"],
            "choice_labels": {"ok": {"ar": "سليمة", "en": "OK"}, "warm": {"ar": "دافئة", "en": "Warm"}},
            "severity": "major",
            "fine_sar": "250.00",
            "photo_required_on_fail": True,
        },
    )
    assert added.status_code == 201, added.json()
    item = next(i for i in added.json()["items"] if i["code"] == "FRIDGE")
    assert {"value": "warm", "label_ar": "دافئة", "label_en": "Warm", "fails": True}.items() <= item["choice_options"][
        1
    ].items()
    patched = admin.patch(f"checklists/versions/{draft['id']}/items/{item['id']}", {"severity": "critical"})
    assert patched.status_code == 200
    assert admin.get(f"checklists/versions/{draft['id']}/validation").json() == {
        "version_id": draft["id"],
        "valid": True,
        "problems": [],
    }
    # Supervisors read only.
    assert api.as_user(supervisor).post(f"checklists/versions/{draft['id']}/publish").status_code == 404
    published_now = admin.post(f"checklists/versions/{draft['id']}/publish")
    assert published_now.status_code == 200 and published_now.json()["status"] == "published"
    assert ChecklistVersion.objects.get(pk=published.pk).status == "retired"
    served = api.as_user(inspector).get(f"checklists/{published.checklist_id}").json()
    assert served["published_version_detail"]["id"] == draft["id"]
    assert {i["code"] for i in served["published_version_detail"]["items"]} == {"CLEAN", "FRIDGE"}
    # A published version is immutable; it can be retired.
    frozen = admin.patch(f"checklists/versions/{draft['id']}/items/{item['id']}", {"severity": "minor"})
    assert frozen.status_code == 400 and frozen.json()["code"] == "checklist_version_immutable"
    assert admin.post(f"checklists/versions/{draft['id']}/retire").json()["status"] == "retired"


@pytest.mark.parametrize(
    "body,code",
    [
        ({"code": "X", "text_ar": "ا", "text_en": "x", "answer_type": "choice", "choices": ["a"]}, "invalid_choices"),
        (
            {
                "code": "X",
                "text_ar": "ا",
                "text_en": "x",
                "answer_type": "choice",
                "choices": ["a", "b"],
                "choice_labels": {"c": {"ar": "ج", "en": "c"}},
            },
            "invalid_choices",
        ),
        ({"code": "X", "text_ar": "ا", "text_en": "x", "answer_type": "number"}, "invalid_thresholds"),
        ({"code": "X", "text_ar": "ا", "text_en": "x", "min_value": 1}, "invalid_thresholds"),
        ({"code": "CLEAN", "text_ar": "ا", "text_en": "x"}, "duplicate_code"),
        ({"code": "X", "text_ar": "", "text_en": "x"}, "validation_error"),
        ({"code": "X", "text_ar": "ا", "text_en": "x", "fine_sar": -1}, "validation_error"),
        ({"code": "X", "text_ar": "ا", "text_en": "x", "category_codes": ["nope"]}, "unknown_categories"),
        ({"code": "bad code", "text_ar": "ا", "text_en": "x"}, "validation_error"),
    ],
)
def test_bad_items_write_nothing(api, admin_user, published, body, code):
    admin = api.as_user(admin_user)
    draft = admin.post(f"checklists/{published.checklist_id}/drafts", {}).json()
    response = admin.post(f"checklists/versions/{draft['id']}/items", body)
    # a body the schema refuses is 422; a well-formed item the authoring rules refuse is 400
    expected = 422 if code == "validation_error" else 400
    assert (response.status_code, response.json()["code"]) == (expected, code), response.json()
    assert list(ChecklistItem.objects.filter(version_id=draft["id"]).values_list("code", flat=True)) == ["CLEAN"]


def test_one_draft_at_a_time_and_published_versions_cannot_be_edited(api, admin_user, supervisor, published):
    admin = api.as_user(admin_user)
    assert admin.post(f"checklists/{published.checklist_id}/drafts", {}).status_code == 201
    second = admin.post(f"checklists/{published.checklist_id}/drafts", {})
    assert second.status_code == 400 and second.json()["code"] == "draft_exists"
    assert api.as_user(supervisor).post(f"checklists/{published.checklist_id}/drafts", {}).status_code == 403
    item = published.items.get()
    refused = admin.patch(f"checklists/versions/{published.pk}/items/{item.pk}", {"text_en": "changed"})
    assert refused.status_code == 400 and ChecklistItem.objects.get(pk=item.pk).text_en != "changed"


@pytest.fixture
def overdue(dammam, khobar, inspector, inspector_khobar):
    version = ChecklistVersionFactory()
    item = ChecklistItemFactory(version=version)
    version.checklist.categories.clear()
    findings = []
    for municipality, who, days in ((dammam, inspector, 5), (dammam, inspector, 2), (khobar, inspector_khobar, 9)):
        shop = EstablishmentFactory(municipality=municipality)
        visit = VisitFactory(establishment=shop, inspector=who, checklist_version=version, outcome="violations")
        answer = Answer.objects.create(visit=visit, item=item, item_code=item.code, value="no", failed=True)
        findings.append(
            Finding.objects.create(
                visit=visit,
                answer=answer,
                establishment=shop,
                municipality=municipality,
                item_code=item.code,
                severity="major",
                due_date=riyadh_today() - timedelta(days=days),
                opened_at=timezone.now() - timedelta(days=20),
            )
        )
    return findings


def test_overdue_findings_full_list_and_bulk_follow_ups(api, supervisor, inspector, overdue):
    client = api.as_user(supervisor)
    rows = client.get("findings/overdue").json()
    assert rows["count"] == 2 and [r["days_overdue"] for r in rows["items"]] == [5, 2]
    scheduled = client.post("findings/follow-ups", {"finding_ids": [overdue[0].pk, overdue[1].pk]})
    assert scheduled.status_code == 200, scheduled.json()
    assert all(row["stop_id"] for row in scheduled.json())
    assert RoundStop.objects.filter(is_follow_up=True, round__inspector=inspector).count() == 2
    assert client.get("findings/overdue", {"unscheduled": True}).json()["count"] == 0
    assert {r["follow_up_date"] for r in client.get("findings/overdue").json()["items"]} != {None}


def test_bad_bulk_follow_ups_write_nothing(api, supervisor, inspector, overdue):
    client = api.as_user(supervisor)
    foreign = client.post("findings/follow-ups", {"finding_ids": [overdue[2].pk]})
    assert foreign.status_code == 400 and foreign.json()["code"] == "unknown_findings"
    assert client.post("findings/follow-ups", {"finding_ids": []}).status_code == 422
    assert client.post("findings/follow-ups", {"finding_ids": ["1"]}).status_code == 422
    past = client.post("findings/follow-ups", {"finding_ids": [overdue[0].pk], "due_date": "2020-01-01"})
    assert past.status_code == 422 and past.json()["code"] == "date_in_past"
    assert api.as_user(inspector).post("findings/follow-ups", {"finding_ids": [overdue[0].pk]}).status_code == 403
    assert not RoundStop.objects.exists()
