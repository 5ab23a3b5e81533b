"""Objections end to end through the API and the public page: filed on the owner's behalf or by the
owner, decided by a supervisor with no part in the inspection; the inspector who made the visit and a
supervisor who amended it get a 403 that says why; the notice's figures follow the decision."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from enforcement.models import Objection, ObjectionAttachment, PenaltyNotice
from enforcement.services.penalties import penalties_assess_due
from inspections.models import AuditEvent, Membership
from notifications.models import Notification
from tests.enforcement_support import violating_visit, violation
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _png(name="receipt.png") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 40)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


@pytest.fixture
def notice(inspector, dammam, supervisor):
    violation(grade="serious", grace=0)
    visit, _finding = violating_visit(inspector=inspector, municipality=dammam)
    penalties_assess_due()
    return PenaltyNotice.objects.get(visit=visit)


@pytest.fixture
def fair_supervisor(dammam):
    return make_user(Membership.Role.SUPERVISOR, dammam, username="sup_dammam_fair")


def _file(api, user, notice, **extra):
    data = {"owner_name": "Fahad Al-Harbi", "reasons": "The sanitiser was behind the counter.", **extra}
    return api.as_user(user).post(f"enforcement/notices/{notice.pk}/objections", data=data)


def test_objection_flow_end_to_end(api, notice, inspector, supervisor, fair_supervisor):
    assert notice.amount_sar == Decimal("1000.00")

    filed = _file(api, supervisor, notice, files=[_png()])
    assert filed.status_code == 201, filed.content
    body = filed.json()
    assert body["filed_on_behalf"] is True and body["notice_status"] == "objected"
    assert len(body["attachments"]) == 1 and len(body["attachments"][0]["sha256"]) == 64
    objection_id = body["id"]

    # The inspector who made the visit: 403, and the message says why.
    refused = api.as_user(inspector).post(
        f"enforcement/objections/{objection_id}/decision", {"decision": "cancelled", "reasons": "mine"}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "had_part_in_inspection"
    assert "made the inspection visit" in refused.json()["detail"]

    # A supervisor who amended the visit: 403 too.
    amended = api.as_user(supervisor).post(
        f"visits/{notice.visit_id}/amendments", {"reason": "typo", "changes": {"notes": "corrected"}}
    )
    assert amended.status_code == 201
    refused = api.as_user(supervisor).post(
        f"enforcement/objections/{objection_id}/decision", {"decision": "cancelled", "reasons": "x"}
    )
    assert refused.status_code == 403 and "amended the inspection visit" in refused.json()["detail"]
    assert PenaltyNotice.objects.get(pk=notice.pk).amount_sar == Decimal("1000.00")

    # A supervisor with no part decides: reduced to 400.
    decided = api.as_user(fair_supervisor).post(
        f"enforcement/objections/{objection_id}/decision",
        {"decision": "reduced", "reasons": "First offence, corrected on the spot.", "amount_sar": "400.00"},
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["decision"] == "reduced" and decided.json()["amount_sar"] == "400.00"
    notice.refresh_from_db()
    assert notice.status == "reduced" and notice.amount_sar == Decimal("400.00")
    assert notice.original_amount_sar == Decimal("1000.00")

    shown = api.as_user(fair_supervisor).get(f"enforcement/notices/{notice.pk}").json()
    assert shown["amount_sar"] == "400.00" and shown["status"] == "reduced"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"penalty.issued", "objection.filed", "objection.reduced"} <= actions
    assert Notification.objects.filter(kind="objection_filed", recipient=inspector).exists()
    assert Notification.objects.filter(kind="objection_decided", recipient=inspector).exists()

    again = api.as_user(fair_supervisor).post(
        f"enforcement/objections/{objection_id}/decision", {"decision": "cancelled", "reasons": "x"}
    )
    assert again.status_code == 409


def test_cancelled_sets_the_amount_to_zero(api, notice, supervisor, fair_supervisor):
    objection_id = _file(api, supervisor, notice).json()["id"]
    response = api.as_user(fair_supervisor).post(
        f"enforcement/objections/{objection_id}/decision", {"decision": "cancelled", "reasons": "Wrong shop."}
    )
    assert response.status_code == 200
    notice.refresh_from_db()
    assert notice.status == "cancelled" and notice.amount_sar == Decimal("0.00")


def test_another_municipality_cannot_see_or_decide(api, notice, supervisor, supervisor_khobar):
    objection_id = _file(api, supervisor, notice).json()["id"]
    assert api.as_user(supervisor_khobar).get(f"enforcement/notices/{notice.pk}").status_code == 404
    response = api.as_user(supervisor_khobar).post(
        f"enforcement/objections/{objection_id}/decision", {"decision": "upheld", "reasons": "x"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body,code",
    [
        ({"decision": "reduced", "reasons": "x"}, "invalid_amount"),
        ({"decision": "reduced", "reasons": "x", "amount_sar": "1000.00"}, "invalid_amount"),
        ({"decision": "reduced", "reasons": "x", "amount_sar": "0"}, "invalid_amount"),
        ({"decision": "upheld", "reasons": "x", "amount_sar": "10.00"}, "invalid_amount"),
        ({"decision": "reduced", "reasons": "x", "amount_sar": 400.0}, "validation_error"),
        ({"decision": "forgiven", "reasons": "x"}, "validation_error"),
        ({"decision": "upheld", "reasons": ""}, "validation_error"),
        ({"decision": "upheld", "reasons": "x", "extra": 1}, "validation_error"),
        ({"decision": "upheld", "reasons": "a\u0000b"}, "validation_error"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(api, notice, supervisor, fair_supervisor, body, code):
    objection_id = _file(api, supervisor, notice).json()["id"]
    response = api.as_user(fair_supervisor).post(f"enforcement/objections/{objection_id}/decision", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert Objection.objects.get(pk=objection_id).status == "submitted"
    assert PenaltyNotice.objects.get(pk=notice.pk).amount_sar == Decimal("1000.00")


def test_bad_filings_are_refused_and_write_nothing(api, notice, supervisor, inspector):
    not_an_image = io.BytesIO(b"MZ\x90\x00 not an image")
    not_an_image.name = "virus.exe"
    cases = [
        (_file(api, supervisor, notice, files=[not_an_image]), 422, "attachment_type"),
        (_file(api, supervisor, notice, owner_name=" "), 422, "objection_empty"),
        (_file(api, supervisor, notice, files=[_png(f"{i}.png") for i in range(6)]), 422, "too_many_attachments"),
        (_file(api, inspector, notice), 403, "forbidden"),
        (api.as_user(supervisor).post(f"enforcement/notices/{notice.pk}/objections", data={}), 422, None),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.content
        if code:
            assert response.json()["code"] == code
    assert not Objection.objects.exists() and not ObjectionAttachment.objects.exists()
    assert PenaltyNotice.objects.get(pk=notice.pk).status == "issued"


def test_the_window_closes(api, notice, supervisor):
    PenaltyNotice.objects.filter(pk=notice.pk).update(objection_deadline=timezone.localdate() - timedelta(days=1))
    response = _file(api, supervisor, notice)
    assert response.status_code == 409 and response.json()["code"] == "objection_window_closed"
    assert not Objection.objects.exists()


def test_one_objection_per_notice(api, notice, supervisor):
    assert _file(api, supervisor, notice).status_code == 201
    second = _file(api, supervisor, notice)
    assert second.status_code == 409 and second.json()["code"] == "objection_exists"


def test_the_owner_objects_on_the_public_page(notice):
    client = Client()
    page = client.get("/objections/?lang=en")
    assert page.status_code == 200 and b"Object to a penalty notice" in page.content
    wrong = client.post(
        "/objections/",
        {"number": notice.number, "licence_no": "WRONG", "owner_name": "Owner", "reasons": "r", "lang": "en"},
    )
    assert wrong.status_code == 404 and b"No notice matches" in wrong.content
    assert not Objection.objects.exists()
    filed = client.post(
        "/objections/",
        {
            "number": notice.number,
            "licence_no": notice.establishment.licence_no,
            "owner_name": "صاحب المنشأة",
            "reasons": "كان المعقم موجوداً",
            "files": [_png()],
        },
    )
    assert filed.status_code == 200 and "تم استلام اعتراضك" in filed.content.decode()
    objection = Objection.objects.get()
    assert objection.filed_by is None and objection.attachments.count() == 1
    assert PenaltyNotice.objects.get(pk=notice.pk).status == "objected"
