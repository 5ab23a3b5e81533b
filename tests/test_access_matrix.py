"""The access-control matrix, generated from the API's own route list (the OpenAPI paths of
backend.api.api): every operation × every role (anonymous, inspector, supervisor, leadership,
admin) × an object of the caller's municipality ("home") and of another municipality ("foreign").

EXPECTED maps each (METHOD, path) to the statuses each role must get. An operation without an
entry fails `test_every_operation_has_an_entry` (and its generated cases), so a new endpoint cannot
ship without deciding who may call it. Out-of-scope objects are 404 (never a 403 that confirms
they exist); a role that may not do something at all is 403; no token is 401.

The world: Dammam (home) and Khobar (foreign). The inspector, the supervisor and their objects are
in Dammam; the leader covers the whole Amanah; the admin everything. Writes send a valid body, so
the status shows the access decision and not a validation error.
"""

import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from analytics.models import IndicatorTarget
from backend.api import api as ninja_api
from community.models import WebhookSubscription
from community.services.reports import ReportIn, report_submit
from community.services.shops import shop_code_ensure
from community.services.webhooks import secret_generate
from enforcement.models import Acknowledgement, Objection, VisitReport
from enforcement.services.objections import objection_file
from enforcement.services.penalties import penalties_assess_due
from inspections.models import (
    Answer,
    Finding,
    HistoryImport,
    Membership,
    Photo,
    RecurringVisit,
    Round,
    Visit,
    VisitAmendment,
    WeekPlan,
)
from inspections.services.auth import token_pair_for
from inspections.services.planning import next_week_start
from inspections.services.rounds import riyadh_today
from notifications.models import Device, Notification
from tests.factories import (
    CategoryFactory,
    ChecklistItemFactory,
    ChecklistVersionFactory,
    DeviceFactory,
    EstablishmentFactory,
    RoundFactory,
    RoundStopFactory,
    VisitFactory,
    make_user,
)

Role = Membership.Role
ROLES = ("anonymous", "inspector", "supervisor", "leadership", "ministry", "admin")
PREFIX = "/api/v1/"
PASSWORD = "pass12345"


def _operations() -> list[tuple[str, str]]:
    """Every (METHOD, path) the API serves, from its own OpenAPI document."""
    paths = ninja_api.get_openapi_schema()["paths"]
    return sorted(
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in paths.items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


# ---- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, Any]
    other_inspector: Any  # an inspector of Khobar: owns the foreign objects
    sibling_inspector: Any  # another inspector of Dammam
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> {"home": obj, "foreign": obj}
    category: Any = None
    version: Any = None
    item: Any = None
    municipalities: dict[str, Any] = field(default_factory=dict)

    def user(self, role: str):
        return self.users.get(role)


def _visit_with_finding(establishment, inspector, version, item):
    visit = VisitFactory(
        establishment=establishment,
        inspector=inspector,
        checklist_version=version,
        outcome=Visit.Outcome.VIOLATIONS,
        has_violation=True,
        violation_count=1,
    )
    answer = Answer.objects.create(visit=visit, item=item, item_code=item.code, value="no", failed=True)
    finding = Finding.objects.create(
        visit=visit,
        answer=answer,
        establishment=establishment,
        municipality=establishment.municipality,
        item_code=item.code,
        severity=item.severity,
        fine_sar=item.fine_sar,
        due_date=timezone.localdate() + timedelta(days=7),
        opened_at=visit.finished_at,
    )
    return visit, finding


@pytest.fixture
def world(dammam, khobar, amanah, inspector, supervisor, leader, admin_user, inspector_khobar) -> World:
    sibling = make_user(Role.INSPECTOR, dammam, username="insp_dammam_2")
    ministry = make_user(Role.LEADERSHIP, username="ministry", national=True)
    category = CategoryFactory()
    version = ChecklistVersionFactory()
    item = ChecklistItemFactory(version=version, code="MASKS")
    checklist = version.checklist
    checklist.categories.add(category)
    world = World(
        users={
            "anonymous": None,
            "inspector": inspector,
            "supervisor": supervisor,
            "leadership": leader,
            "ministry": ministry,
            "admin": admin_user,
        },
        other_inspector=inspector_khobar,
        sibling_inspector=sibling,
        category=category,
        version=version,
        item=item,
        municipalities={"home": dammam, "foreign": khobar},
    )
    establishments = {
        "home": EstablishmentFactory(municipality=dammam, category=category),
        "foreign": EstablishmentFactory(municipality=khobar, category=category),
    }
    rounds = {
        "home": RoundFactory(municipality=dammam, inspector=inspector, checklist=checklist),
        "foreign": RoundFactory(municipality=khobar, inspector=inspector_khobar, checklist=checklist),
        "sibling": RoundFactory(municipality=dammam, inspector=sibling, checklist=checklist),
    }
    for target, round_ in rounds.items():
        RoundStopFactory(round=round_, establishment=establishments["foreign" if target == "foreign" else "home"])
    visits, findings = {}, {}
    visits["home"], findings["home"] = _visit_with_finding(establishments["home"], inspector, version, item)
    visits["foreign"], findings["foreign"] = _visit_with_finding(
        establishments["foreign"], inspector_khobar, version, item
    )
    week = next_week_start(riyadh_today())
    plans = {
        "home": WeekPlan.objects.create(municipality=dammam, week_start=week),
        "foreign": WeekPlan.objects.create(municipality=khobar, week_start=week),
    }
    recurring = {
        target: RecurringVisit.objects.create(
            municipality=world.municipalities[target],
            establishment=establishments[target],
            every_weeks=2,
            start_week=week,
        )
        for target in ("home", "foreign")
    }
    world.objects = {
        "plan": plans,
        "recurring": recurring,
        "establishment": establishments,
        "round": rounds,
        "visit": visits,
        "finding": findings,
        "municipality": {"home": dammam, "foreign": khobar},
        "checklist": {"home": checklist, "foreign": checklist},
        "version": {"home": version, "foreign": version},
        "case": {
            target: report_submit(
                payload=ReportIn(
                    service_code="food-hygiene",
                    description="Matrix report",
                    ip="10.0.0.9",
                    shop_code=shop_code_ensure(establishment=establishments[target]).code,
                )
            ).case
            for target in ("home", "foreign")
        },
        "history_import": dict.fromkeys(
            ("home", "foreign"),
            HistoryImport.objects.create(file_name="matrix.csv", file_sha256="0" * 64, imported_by=admin_user),
        ),
        "subscription": {
            target: WebhookSubscription.objects.create(
                url="http://127.0.0.1:9/hook", event_types=["visit.stored"], secret=secret_generate()
            )
            for target in ("home", "foreign")
        },
    }
    world.objects.update(_enforcement_objects(world, establishments))
    IndicatorTarget.objects.create(code="coverage", target=0.5)  # a national target for DELETE to remove
    for user in [inspector, supervisor, leader, ministry, admin_user, inspector_khobar]:
        DeviceFactory(user=user, token=f"device-of-{user.username}")
        Notification.objects.create(
            recipient=user,
            kind="round_assigned",
            title="Round",
            body="A round",
            dedupe_key=f"matrix:{user.pk}",
        )
    return world


def _enforcement_objects(world: World, establishments: dict) -> dict:
    """Per municipality: a notice to object to, an objection to decide (on another notice) and a report."""
    from django.core.files.base import ContentFile

    from tests.enforcement_support import violation

    violation(code="MATRIX-V", grade="serious", grace=0)
    item = ChecklistItemFactory(version=world.version, code="MATRIX-ITEM", violation_code="MATRIX-V", required=False)
    notices, objections, reports = {}, {}, {}
    for target, inspector in (("home", world.users["inspector"]), ("foreign", world.other_inspector)):
        visits = [_visit_with_finding(establishments[target], inspector, world.version, item)[0] for _ in range(2)]
        Finding.objects.filter(visit__in=visits).update(opened_at=timezone.now() - timedelta(days=30))
        Finding.objects.filter(visit=visits[1]).update(opened_at=timezone.now() - timedelta(days=1))
        penalties_assess_due()
        notices[target] = visits[0].penalty_notices.get()
        objections[target] = objection_file(
            notice=visits[1].penalty_notices.get(), owner_name="Owner", reasons="Not mine", filed_by=None
        )
        report = VisitReport(
            number=f"JR-MATRIX-{target}",
            code=f"matrix{target}",
            visit=visits[0],
            pdf_sha256="0" * 64,
            visit_content_hash="",
            total_fines_sar=0,
            generated_at=timezone.now(),
            generated_by=world.users["admin"],
        )
        report.pdf.save(f"matrix-{target}.pdf", ContentFile(b"%PDF-1.7 matrix"), save=False)
        report.save()
        reports[target] = report
    return {"notice": notices, "objection": objections, "report": reports}


# ---- requests -----------------------------------------------------------------------------------


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _owner(world: World, role: str):
    """Whose caller-owned things (devices, notifications) "home" means: the caller's own."""
    return world.user(role) or world.users["inspector"]


def path_params(world: World, role: str, target: str) -> dict[str, Any]:
    """Values for every path parameter name the API uses."""
    obj = world.objects
    owner = _owner(world, role) if target == "home" else world.other_inspector
    return {
        "municipality_id": obj["municipality"][target].pk,
        "establishment_id": obj["establishment"][target].pk,
        "checklist_id": obj["checklist"][target].pk,
        "version_id": obj["version"][target].pk,
        "round_id": obj["round"][target].pk,
        "visit_id": obj["visit"][target].pk,
        "finding_id": obj["finding"][target].pk,
        "plan_id": obj["plan"][target].pk,
        "recurring_id": obj["recurring"][target].pk,
        "item_id": world.item.pk,
        "notification_id": Notification.objects.get(recipient=owner, dedupe_key__startswith="matrix:").pk,
        "token": f"device-of-{owner.username}",
        "fmt": "csv",
        "code": "coverage",
        "case_id": obj["case"][target].pk,
        "subscription_id": obj["subscription"][target].pk,
        "notice_id": obj["notice"][target].pk,
        "objection_id": obj["objection"][target].pk,
        "report_id": obj["report"][target].pk,
        "import_id": obj["history_import"][target].pk,
        "shop_code": shop_code_ensure(establishment=obj["establishment"][target]).code,
    }


def body_for(world: World, role: str, method: str, path: str, target: str) -> dict | None:
    """A valid body for the operation (JSON, or multipart under the key "multipart")."""
    municipality = world.municipalities[target]
    establishment = world.objects["establishment"][target]
    inspector = world.users["inspector"] if target == "home" else world.other_inspector
    now = timezone.now()
    if (method, path) == ("POST", "auth/token"):
        user = world.user(role) or world.users["inspector"]
        return {"username": user.username, "password": PASSWORD}
    if (method, path) in {("POST", "auth/refresh"), ("POST", "auth/logout")}:
        user = world.user(role) or world.users["inspector"]
        return {"refresh": token_pair_for(user=user).refresh}
    if (method, path) == ("POST", "establishments"):
        return {
            "name_ar": "منشأة المصفوفة",
            "name_en": "Matrix shop",
            "category": world.category.code,
            "licence_no": f"MATRIX-{uuid.uuid4().hex[:10]}",
            "lat": municipality.centre_lat + 0.001,
            "lon": municipality.centre_lon + 0.001,
        }
    if (method, path) == ("PATCH", "establishments/{establishment_id}"):
        return {"address": "King Fahd Road"}
    if (method, path) == ("POST", "rounds"):
        return {
            "inspector_id": inspector.pk,
            "date": (timezone.localdate() + timedelta(days=1)).isoformat(),
            "checklist_id": world.objects["checklist"]["home"].pk,
            "establishment_ids": [establishment.pk],
            "optimize_route": False,
        }
    if (method, path) == ("PATCH", "rounds/{round_id}"):
        return {"notes": "Start at the north gate."}
    if (method, path) == ("POST", "visits/sync"):
        return {
            "visits": [
                {
                    "client_id": str(uuid.uuid4()),
                    "establishment_id": establishment.pk,
                    "checklist_version_id": world.version.pk,
                    "started_at": (now - timedelta(minutes=15)).isoformat(),
                    "finished_at": (now - timedelta(minutes=5)).isoformat(),
                    "location": {"lat": establishment.lat, "lon": establishment.lon, "accuracy_m": 8.0},
                    "outcome": "compliant",
                    "answers": [{"item_code": world.item.code, "value": "yes"}],
                }
            ]
        }
    if (method, path) == ("POST", "visits/{visit_id}/photos"):
        upload = io.BytesIO(_jpeg())
        upload.name = "shelf.jpg"
        return {"multipart": {"file": upload, "client_id": str(uuid.uuid4())}}
    if (method, path) == ("POST", "visits/{visit_id}/amendments"):
        return {"reason": "Typo in the notes", "changes": {"notes": "Corrected by the supervisor"}}
    if (method, path) == ("POST", "community/cases/{case_id}/triage"):
        return {"round_id": world.objects["round"][target].pk}
    if (method, path) == ("POST", "community/cases/{case_id}/dismiss"):
        return {"reason": "Not a food shop"}
    if (method, path) == ("POST", "community/webhooks"):
        return {"url": "https://licensing.example.sa/hooks/jawla", "event_types": ["visit.stored"]}
    if (method, path) == ("PATCH", "community/webhooks/{subscription_id}"):
        return {"is_active": False}
    if (method, path) == ("POST", "community/webhook-replays"):
        return {"event_id": "msg_matrix"}
    if (method, path) == ("POST", "devices"):
        return {"token": f"new-device-{uuid.uuid4().hex}", "platform": "android"}
    if (method, path) == ("PUT", "analytics/indicators/targets/{code}"):
        return {"target": 0.8}
    if (method, path) == ("POST", "history-imports"):
        day = (timezone.localdate() - timedelta(days=30)).isoformat()
        licence = world.objects["establishment"][target].licence_no
        data = f"licence_no,date,inspector,result\n{licence},{day},insp_dammam,compliant\n".encode()
        return {"multipart": {"file": SimpleUploadedFile("history.csv", data, "text/csv")}}
    if (method, path) == ("POST", "enforcement/notices/{notice_id}/objections"):
        return {"multipart": {"owner_name": "Owner", "reasons": "The sanitiser was there."}}
    if (method, path) == ("POST", "enforcement/objections/{objection_id}/decision"):
        return {"decision": "upheld", "reasons": "The photos show it."}
    if (method, path) == ("POST", "enforcement/visits/{visit_id}/acknowledgement"):
        return {"client_id": str(uuid.uuid4()), "kind": "refused", "captured_at": now.isoformat()}
    if (method, path) == ("POST", "plans"):
        # The week after the world's plans (one live plan per week).
        return {
            "municipality_id": municipality.pk,
            "week_start": (next_week_start(riyadh_today()) + timedelta(days=7)).isoformat(),
        }
    if (method, path) == ("POST", "stops/move"):
        home_round = world.objects["round"]["home"]
        stop = RoundStopFactory(
            round=home_round, establishment=EstablishmentFactory(municipality=municipality, category=world.category)
        )
        return {"stop_id": stop.pk, "to_round_id": world.objects["round"]["sibling"].pk}
    if (method, path) == ("PATCH", "municipalities/{municipality_id}/plan-settings"):
        return {"daily_capacity": 10}
    if (method, path) == ("POST", "recurring-visits"):
        return {
            "municipality_id": municipality.pk,
            "establishment_ids": [establishment.pk],
            "every_weeks": 4,
            "start_week": next_week_start(riyadh_today()).isoformat(),
        }
    if (method, path) == ("POST", "findings/follow-ups"):
        return {"finding_ids": [world.objects["finding"][target].pk]}
    if (method, path) == ("POST", "visits/{visit_id}/review"):
        return {"action": "accept"}
    if (method, path) == ("POST", "visits/{visit_id}/return-answer"):
        return {"reason": "The shop had moved next door."}
    if (method, path) == ("POST", "checklists/{checklist_id}/drafts"):
        return {"notes": "matrix"}
    if (method, path) == ("POST", "checklists/versions/{version_id}/items"):
        return {"code": "MATRIX", "text_ar": "بند", "text_en": "Item"}
    if (method, path) == ("PATCH", "checklists/versions/{version_id}/items/{item_id}"):
        return {"text_en": "Changed"}
    return None


# ---- the table ------------------------------------------------------------------------------------

A = "anonymous"


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def _with_ministry(statuses: dict[str, int]) -> dict[str, int]:
    """The ministry's national leadership (every Amanah, read-only) is answered as the Amanah's
    leadership is, unless an entry says otherwise."""
    return {**statuses, "ministry": statuses.get("ministry", statuses["leadership"])}


def signed_in(status: int, **overrides: int) -> dict[str, int]:
    return _with_ministry(
        {A: 401, "inspector": status, "supervisor": status, "leadership": status, "admin": status, **overrides}
    )


def scoped(status: int, **overrides: int) -> dict[str, int]:
    """Another municipality's object: a 404 for the Dammam inspector and supervisor, visible to
    the leader (whole Amanah), the ministry (every Amanah) and the admin."""
    return _with_ministry(
        {A: 401, "inspector": 404, "supervisor": 404, "leadership": status, "admin": status, **overrides}
    )


@dataclass(frozen=True)
class Expect:
    home: dict[str, int]
    foreign: dict[str, int] | None = None  # None: the operation has no municipal object
    note: str = ""


ANALYTICS = signed_in(200, inspector=403)
OVERSEERS = signed_in(200, inspector=403)


def PLANNERS(status: int) -> dict[str, int]:  # noqa: N802 - reads like the constants beside it
    return signed_in(status, inspector=403, leadership=403)


def ADMIN_ONLY(status: int) -> dict[str, int]:  # noqa: N802
    return signed_in(403, admin=status)


EXPECTED: dict[tuple[str, str], Expect] = {
    ("GET", "health"): Expect(everyone(200)),
    ("GET", "config"): Expect(everyone(200), note="public: the settings a client needs before signing in"),
    ("POST", "auth/token"): Expect(everyone(200), note="public: anyone may sign in"),
    ("POST", "auth/refresh"): Expect(everyone(200), note="public: the refresh token is the credential"),
    ("POST", "auth/logout"): Expect(everyone(204), note="public: the refresh token is the credential"),
    ("GET", "me"): Expect(signed_in(200)),
    ("GET", "municipalities"): Expect(signed_in(200)),
    ("GET", "municipalities/{municipality_id}"): Expect(
        signed_in(200), signed_in(200), note="municipalities are public reference data for every signed-in user"
    ),
    ("GET", "establishments"): Expect(signed_in(200)),
    ("POST", "establishments"): Expect(
        signed_in(201, inspector=403, leadership=403),
        # A location outside the supervisor's municipalities is refused as bad input (400
        # municipality_out_of_scope): there is no object whose existence a 404 would hide.
        signed_in(201, inspector=403, leadership=403, supervisor=400),
    ),
    ("GET", "establishments/{establishment_id}"): Expect(signed_in(200), scoped(200)),
    ("PATCH", "establishments/{establishment_id}"): Expect(
        signed_in(200, inspector=403, leadership=403), scoped(200, leadership=403)
    ),
    ("GET", "checklists"): Expect(signed_in(200)),
    ("GET", "checklists/{checklist_id}"): Expect(signed_in(200), note="checklists are not municipal data"),
    ("GET", "checklists/versions/{version_id}"): Expect(signed_in(200)),
    ("POST", "rounds"): Expect(
        signed_in(201, inspector=403, leadership=403),
        # Khobar's inspector and establishment are "unknown" ids to the Dammam supervisor (400, the
        # same answer as for ids that do not exist: nothing confirms they exist elsewhere).
        signed_in(201, inspector=403, leadership=403, supervisor=400),
    ),
    ("GET", "rounds"): Expect(signed_in(200)),
    ("GET", "rounds/{round_id}"): Expect(signed_in(200), scoped(200)),
    ("PATCH", "rounds/{round_id}"): Expect(signed_in(200, inspector=403, leadership=403), scoped(200, leadership=403)),
    ("GET", "me/rounds"): Expect(signed_in(403, inspector=200), note="the phone's delta sync is for inspectors"),
    ("POST", "visits/sync"): Expect(
        signed_in(200, leadership=403),
        # Still 200: a visit to another municipality's establishment is `rejected` inside the answer.
        signed_in(200, leadership=403),
    ),
    ("GET", "visits"): Expect(signed_in(200)),
    ("GET", "visits/{visit_id}"): Expect(signed_in(200), scoped(200)),
    ("POST", "visits/{visit_id}/photos"): Expect(
        signed_in(201, leadership=403), scoped(201, leadership=403), note="the visit's inspector or a supervisor"
    ),
    ("POST", "visits/{visit_id}/amendments"): Expect(
        signed_in(201, inspector=403, leadership=403), scoped(201, leadership=403)
    ),
    ("GET", "findings"): Expect(signed_in(200)),
    ("GET", "findings/{finding_id}"): Expect(signed_in(200), scoped(200)),
    ("GET", "analytics/violation-rates"): Expect(ANALYTICS),
    ("GET", "analytics/heatmap"): Expect(ANALYTICS),
    ("GET", "analytics/overdue-findings"): Expect(ANALYTICS),
    ("GET", "analytics/visits"): Expect(ANALYTICS),
    ("GET", "analytics/exports/visits.{fmt}"): Expect(ANALYTICS),
    ("GET", "analytics/exports/findings.{fmt}"): Expect(ANALYTICS),
    ("GET", "analytics/indicators"): Expect(ANALYTICS),
    ("GET", "analytics/indicators.csv"): Expect(ANALYTICS),
    ("GET", "analytics/indicators.pdf"): Expect(ANALYTICS, note="the monthly Arabic report"),
    ("PUT", "analytics/indicators/targets/{code}"): Expect(signed_in(403, admin=200), note="targets are the admins'"),
    ("DELETE", "analytics/indicators/targets/{code}"): Expect(
        signed_in(403, admin=204), note="the world's national coverage target; scoped ones in test_analytics_targets"
    ),
    ("GET", "analytics/exports/visits/{visit_id}/report.pdf"): Expect(
        signed_in(200, inspector=403), scoped(200, inspector=403)
    ),
    # --- the supervisor's console ---
    ("GET", "inspectors"): Expect(OVERSEERS),
    ("GET", "inspectors/consistency"): Expect(OVERSEERS),
    ("GET", "board"): Expect(OVERSEERS),
    ("GET", "municipalities/{municipality_id}/risk"): Expect(OVERSEERS, scoped(200, inspector=403)),
    ("GET", "municipalities/{municipality_id}/plan-settings"): Expect(OVERSEERS, scoped(200, inspector=403)),
    ("PATCH", "municipalities/{municipality_id}/plan-settings"): Expect(PLANNERS(200), scoped(200, leadership=403)),
    ("POST", "plans"): Expect(
        signed_in(201, inspector=403, leadership=403), signed_in(201, inspector=403, leadership=403, supervisor=404)
    ),
    ("GET", "plans"): Expect(OVERSEERS),
    ("GET", "plans/{plan_id}"): Expect(OVERSEERS, scoped(200, inspector=403)),
    ("POST", "plans/{plan_id}/publish"): Expect(PLANNERS(200), scoped(200, leadership=403)),
    ("POST", "plans/{plan_id}/discard"): Expect(PLANNERS(200), scoped(200, leadership=403)),
    ("POST", "stops/move"): Expect(PLANNERS(200), note="a stop of Dammam moved to the sibling inspector's round"),
    ("GET", "recurring-visits"): Expect(OVERSEERS),
    ("POST", "recurring-visits"): Expect(
        signed_in(201, inspector=403, leadership=403),
        signed_in(201, inspector=404, leadership=403, supervisor=404),
    ),
    ("DELETE", "recurring-visits/{recurring_id}"): Expect(PLANNERS(204), scoped(204, leadership=403)),
    ("GET", "findings/overdue"): Expect(OVERSEERS),
    ("POST", "findings/follow-ups"): Expect(
        PLANNERS(200),
        # Another municipality's finding is an unknown id to the Dammam supervisor (400, as for ids that do not exist).
        signed_in(200, inspector=403, leadership=403, supervisor=400),
    ),
    ("GET", "reviews"): Expect(OVERSEERS),
    ("POST", "visits/{visit_id}/review"): Expect(PLANNERS(200), scoped(200, leadership=403)),
    ("GET", "me/returned-visits"): Expect(signed_in(403, inspector=200)),
    ("POST", "visits/{visit_id}/return-answer"): Expect(
        signed_in(403, inspector=409),
        scoped(403),
        note="only the visit's inspector; the world's visit was not returned, so the inspector gets 409 not_returned",
    ),
    ("POST", "checklists/{checklist_id}/drafts"): Expect(ADMIN_ONLY(201)),
    # The world's version is published, so even the admin's edits are refused as immutable (400);
    # drafts are edited in tests/test_checklist_authoring.py.
    ("POST", "checklists/versions/{version_id}/items"): Expect(ADMIN_ONLY(400)),
    ("PATCH", "checklists/versions/{version_id}/items/{item_id}"): Expect(ADMIN_ONLY(400)),
    ("DELETE", "checklists/versions/{version_id}/items/{item_id}"): Expect(ADMIN_ONLY(400)),
    ("GET", "checklists/versions/{version_id}/validation"): Expect(signed_in(200)),
    ("POST", "checklists/versions/{version_id}/publish"): Expect(ADMIN_ONLY(400)),
    ("POST", "checklists/versions/{version_id}/retire"): Expect(ADMIN_ONLY(200)),
    ("POST", "history-imports"): Expect(ADMIN_ONLY(202), note="history is not municipal: the admin's back office"),
    ("GET", "history-imports/{import_id}"): Expect(ADMIN_ONLY(200)),
    ("POST", "devices"): Expect(signed_in(201)),
    # community: the triage queue is the supervisors' (leadership reads it); webhooks are the admins'
    ("GET", "community/cases"): Expect(signed_in(200, inspector=403)),
    ("GET", "community/cases/{case_id}"): Expect(signed_in(200, inspector=403), scoped(200, inspector=403)),
    ("POST", "community/cases/{case_id}/triage"): Expect(
        signed_in(200, inspector=403, leadership=403), scoped(200, inspector=403, leadership=403)
    ),
    ("POST", "community/cases/{case_id}/dismiss"): Expect(
        signed_in(200, inspector=403, leadership=403), scoped(200, inspector=403, leadership=403)
    ),
    ("GET", "community/establishments/{establishment_id}/sticker.pdf"): Expect(
        signed_in(200, inspector=403, leadership=403), scoped(200, inspector=403, leadership=403)
    ),
    ("GET", "community/shops/{shop_code}"): Expect(
        signed_in(200), scoped(200), note="the field app's shop QR scan: another municipality's code is a 404"
    ),
    ("GET", "community/me/reports"): Expect(signed_in(403), note="registered volunteers only (none of these roles)"),
    ("GET", "community/volunteers/rewards.csv"): Expect(signed_in(200, inspector=403, supervisor=403)),
    ("GET", "community/webhooks"): Expect(signed_in(403, admin=200)),
    ("POST", "community/webhooks"): Expect(signed_in(403, admin=201)),
    ("PATCH", "community/webhooks/{subscription_id}"): Expect(
        signed_in(403, admin=200), note="subscriptions belong to the Amanah, not a municipality"
    ),
    ("GET", "community/webhooks/{subscription_id}/deliveries"): Expect(signed_in(403, admin=200)),
    ("POST", "community/webhook-replays"): Expect(signed_in(403, admin=200)),
    ("DELETE", "devices/{token}"): Expect(
        signed_in(204), signed_in(404), note="foreign: another user's token (a 404 for every role, admin included)"
    ),
    ("GET", "notifications"): Expect(signed_in(200)),
    ("POST", "notifications/read-all"): Expect(signed_in(200)),
    ("GET", "enforcement/violations"): Expect(signed_in(200), note="the catalogue is reference data"),
    ("GET", "enforcement/notices"): Expect(signed_in(200)),
    ("GET", "enforcement/notices/{notice_id}"): Expect(signed_in(200), scoped(200)),
    ("POST", "enforcement/notices/{notice_id}/objections"): Expect(
        signed_in(201, inspector=403, leadership=403),
        scoped(201, leadership=403),
        note="staff on the owner's behalf; the owner files on the public page",
    ),
    ("GET", "enforcement/objections"): Expect(signed_in(200)),
    ("GET", "enforcement/objections/{objection_id}"): Expect(signed_in(200), scoped(200)),
    ("POST", "enforcement/objections/{objection_id}/decision"): Expect(
        signed_in(200, inspector=403, leadership=403),
        scoped(200, leadership=403),
        note="home: the inspector made the visit (403 had_part_in_inspection)",
    ),
    ("POST", "enforcement/visits/{visit_id}/acknowledgement"): Expect(
        signed_in(201, leadership=403), scoped(201, leadership=403), note="the visit's inspector or a supervisor"
    ),
    ("POST", "enforcement/visits/{visit_id}/reports"): Expect(signed_in(201, inspector=403), scoped(201)),
    ("GET", "enforcement/reports/{report_id}"): Expect(signed_in(200), scoped(200)),
    ("GET", "enforcement/reports/{report_id}/pdf"): Expect(signed_in(200), scoped(200)),
    ("POST", "notifications/{notification_id}/read"): Expect(
        signed_in(200), signed_in(404), note="foreign: another user's notification"
    ),
}


def _cases():
    for method, path in _operations():
        expect = EXPECTED.get((method, path))
        targets = ["home"] if expect is None or expect.foreign is None else ["home", "foreign"]
        for target in targets:
            for role in ROLES:
                yield pytest.param(method, path, role, target, id=f"{method} {path} [{role}, {target}]")


def test_every_operation_has_an_entry():
    operations = set(_operations())
    missing = sorted(operations - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - operations)
    assert not missing, f"operations without an access-matrix entry in {__name__}.EXPECTED: {missing}"
    assert not stale, f"EXPECTED lists operations the API no longer has: {stale}"


def test_the_matrix_covers_the_contract():
    # The phone app's contract (PRODUCT.md) must be in the route list, so the matrix covers it.
    contract = {
        ("POST", "auth/token"),
        ("POST", "auth/refresh"),
        ("GET", "me"),
        ("GET", "municipalities"),
        ("GET", "municipalities/{municipality_id}"),
        ("GET", "establishments"),
        ("POST", "establishments"),
        ("GET", "establishments/{establishment_id}"),
        ("PATCH", "establishments/{establishment_id}"),
        ("GET", "checklists"),
        ("GET", "checklists/{checklist_id}"),
        ("POST", "rounds"),
        ("GET", "rounds"),
        ("GET", "rounds/{round_id}"),
        ("PATCH", "rounds/{round_id}"),
        ("GET", "me/rounds"),
        ("POST", "visits/sync"),
        ("GET", "visits"),
        ("GET", "visits/{visit_id}"),
        ("POST", "visits/{visit_id}/photos"),
        ("GET", "findings"),
        ("GET", "findings/{finding_id}"),
        ("GET", "analytics/violation-rates"),
        ("GET", "analytics/heatmap"),
        ("POST", "devices"),
        ("DELETE", "devices/{token}"),
        ("GET", "notifications"),
        ("POST", "notifications/{notification_id}/read"),
        ("GET", "health"),
    }
    assert contract <= set(_operations()), sorted(contract - set(_operations()))


def _row_counts() -> dict[str, int]:
    models = (
        Visit, Photo, VisitAmendment, Round, Device, Finding, Objection, Acknowledgement, VisitReport, IndicatorTarget
    )  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
@pytest.mark.parametrize("method,path,role,target", list(_cases()))
def test_access(api, world, method, path, role, target):
    expect = EXPECTED.get((method, path))
    if expect is None:
        pytest.fail(f"{method} {path} has no entry in the access matrix (tests/test_access_matrix.py EXPECTED)")
    wanted = (expect.home if target == "home" else expect.foreign)[role]
    url = PREFIX + path.format(**path_params(world, role, target))
    body = body_for(world, role, method, path, target)
    client = api.as_user(world.user(role)) if world.user(role) else api
    before = _row_counts()

    if body is not None and "multipart" in body:
        response = client.post(url, data=body["multipart"])
    elif method == "GET":
        response = client.get(url)
    elif method == "POST":
        response = client.post(url, body if body is not None else {})
    elif method == "PATCH":
        response = client.patch(url, body or {})
    elif method == "DELETE":
        response = client.delete(url)
    elif method == "PUT":
        response = client.raw("PUT", url, json.dumps(body).encode())
    else:  # pragma: no cover - _operations() yields only these
        pytest.fail(f"unexpected method {method}")

    # Exports stream: read the whole stream (an error inside it would surface here).
    detail = b"".join(response.streaming_content)[:300] if response.streaming else response.content[:300]
    assert response.status_code == wanted, f"{method} {path} as {role} on {target}: {response.status_code} {detail}"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), detail
        assert {"detail", "code"} <= response.json().keys(), detail
        if method != "GET":
            assert _row_counts() == before, f"a refused {method} {path} wrote something"


# ---- the finer points the table cannot say ------------------------------------------------------


@pytest.mark.django_db
def test_visit_sync_to_a_foreign_establishment_is_rejected_and_not_stored(api, world):
    body = body_for(world, "inspector", "POST", "visits/sync", "foreign")
    response = api.as_user(world.users["inspector"]).post("visits/sync", body)
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["status"] == "rejected" and result["visit_id"] is None
    assert not Visit.objects.filter(client_id=body["visits"][0]["client_id"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["inspector", "supervisor", "admin"])
def test_visit_sync_to_a_home_establishment_is_created(api, world, role):
    body = body_for(world, role, "POST", "visits/sync", "home")
    response = api.as_user(world.users[role]).post("visits/sync", body)
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["status"] == "created", result
    assert Visit.objects.get(pk=result["visit_id"]).inspector == world.users[role]


@pytest.mark.django_db
def test_an_inspector_does_not_see_a_colleagues_round(api, world):
    sibling_round = world.objects["round"]["sibling"]
    client = api.as_user(world.users["inspector"])
    assert client.get(f"rounds/{sibling_round.pk}").status_code == 404
    assert client.patch(f"rounds/{sibling_round.pk}", {"notes": "x"}).status_code == 404
    ids = {item["id"] for item in client.get("rounds").json()["items"]}
    assert sibling_round.pk not in ids and world.objects["round"]["home"].pk in ids
    # ...while their supervisor does.
    assert api.as_user(world.users["supervisor"]).get(f"rounds/{sibling_round.pk}").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,kind",
    [
        ("establishments", "establishment"),
        ("visits", "visit"),
        ("findings", "finding"),
    ],
)
@pytest.mark.parametrize("role", ["inspector", "supervisor"])
def test_lists_never_show_another_municipality(api, world, path, kind, role):
    response = api.as_user(world.users[role]).get(path, {"limit": 200})
    assert response.status_code == 200
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    ids = {item["id"] for item in items}
    assert world.objects[kind]["home"].pk in ids
    assert world.objects[kind]["foreign"].pk not in ids


@pytest.mark.django_db
def test_the_leader_lists_every_municipality(api, world):
    for path, kind in [("establishments", "establishment"), ("visits", "visit"), ("findings", "finding")]:
        body = api.as_user(world.users["leadership"]).get(path, {"limit": 200}).json()
        items = body["items"] if isinstance(body, dict) else body
        ids = {item["id"] for item in items}
        assert {world.objects[kind]["home"].pk, world.objects[kind]["foreign"].pk} <= ids, path


@pytest.mark.django_db
def test_a_user_without_a_membership_sees_nothing(api, world):
    from tests.factories import UserFactory

    stranger = UserFactory(username="no_membership")
    client = api.as_user(stranger)
    visit = world.objects["visit"]["home"]
    assert client.get(f"visits/{visit.pk}").status_code == 404
    assert client.get(f"establishments/{world.objects['establishment']['home'].pk}").status_code == 404
    assert client.post("visits/sync", body_for(world, "inspector", "POST", "visits/sync", "home")).status_code == 403
    assert client.get("analytics/violation-rates").status_code == 403


@pytest.mark.django_db
def test_an_expired_or_forged_token_is_401_everywhere(api, world, settings):
    import jwt

    claims = {"sub": str(world.users["admin"].pk), "type": "access"}
    forged = jwt.encode({**claims, "exp": 4102444800}, "a-wrong-signing-key-of-forty-bytes-length!")
    expired = jwt.encode({**claims, "exp": 1_000_000_000}, settings.JWT_SIGNING_KEY)
    for method, path in _operations():
        if EXPECTED[(method, path)].home[A] != 401:
            continue  # public operations (health, config, sign-in): no token needed, a bad one is ignored
        url = PREFIX + path.format(**path_params(world, "admin", "home"))
        for token in (forged, expired):
            response = getattr(api.client, method.lower())(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (method, path, response.status_code)
