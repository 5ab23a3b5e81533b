"""Every event type a subscription may name is really emitted, by the real services and APIs, once, with
its stable id and the payload the municipality's other systems read; no payload carries a reporter's or
an owner's personal data.

- report.opened: a citizen's Open311 POST (in the case's transaction);
- visit.stored, finding.opened, finding.closed: visits through `visits/sync`, read by the collector;
- report.closed: the case's stop gets the visit (the reconciler) or a supervisor dismisses it;
- penalty.issued: the enforcement sweep issues a notice (enforcement's signal, community's receiver);
- objection.decided: a supervisor decides the owner's objection through the API (the same way).
"""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from community.models import Case, WebhookEvent
from community.services import webhooks
from community.services.cases import cases_reconcile
from enforcement.models import Objection, PenaltyNotice
from enforcement.services.penalties import penalties_assess_due
from inspections.models import ChecklistItem, Finding, Membership, Visit
from tests.community_support import Open311, as_json, code_of
from tests.enforcement_support import violation
from tests.factories import RoundFactory, RoundStopFactory, make_user
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db

REPORTER = {
    "email": "citizen.private@example.org",
    "phone": "+966500000123",
    "first_name": "Noura",
    "last_name": "Alqahtani",
    "device_id": "device-secret-42",
}
OWNER = {"owner_name": "Fahad Al-Harbi", "owner_contact": "owner.private@example.org"}


def _one(event_type: str, subject: str) -> WebhookEvent:
    rows = list(WebhookEvent.objects.filter(type=event_type))
    assert len(rows) == 1, (event_type, rows)
    assert rows[0].id == webhooks.event_id_for(event_type, subject)
    return rows[0]


def test_every_subscribable_event_type_is_emitted_with_a_stable_id(
    api, dammam, inspector, supervisor, admin_user, django_capture_on_commit_callbacks
):
    webhooks.subscription_create(
        actor=admin_user, url="http://127.0.0.1:9/hook", event_types=list(webhooks.EVENT_TYPES)
    )
    webhooks.webhooks_collect()  # the collector's cursors start here
    fair = make_user(Membership.Role.SUPERVISOR, dammam, username="sup_fair")  # no part in the inspection
    version, _items = make_checklist()
    ChecklistItem.objects.filter(version=version, code="EXPIRED").update(violation_code="V-EXP")
    violation("V-EXP", grade="serious", grace=0, fine_max="2000.00", cap="10000.00")
    store, other = shop(dammam), shop(dammam, lat=dammam.centre_lat + 0.02)

    # report.opened: a citizen's report about the shop, with every contact field filled in.
    response = Open311(ip="10.7.0.1").post(
        "requests.json",
        {"service_code": "expired-products", "address_id": code_of(store), "description": "Expired milk", **REPORTER},
    )
    assert response.status_code == 200, response.content
    case = Case.objects.get(pk=int(as_json(response)[0]["service_request_id"]))
    opened = _one("report.opened", f"case:{case.pk}")
    assert opened.payload["case_id"] == case.pk and opened.payload["establishment_id"] == store.pk

    # Triaged into a round; the inspector's visit fails EXPIRED: visit.stored and finding.opened.
    round_ = RoundFactory(municipality=dammam, inspector=inspector, checklist=version.checklist)
    RoundStopFactory(round=round_, establishment=other, position=1)
    assert api.as_user(supervisor).post(f"community/cases/{case.pk}/triage", {"round_id": round_.pk}).status_code == 200
    stop = round_.stops.get(establishment=store)
    synced = api.as_user(inspector).post(
        "visits/sync", {"visits": [visit_payload(store, version, round_stop=stop, EXPIRED="no")]}
    )
    visit = Visit.objects.get(pk=synced.json()["results"][0]["visit_id"])
    finding = Finding.objects.get(visit=visit)
    webhooks.webhooks_collect()
    stored = _one("visit.stored", f"visit:{visit.pk}")
    assert (stored.payload["visit_id"], stored.payload["outcome"], stored.payload["violation_count"]) == (
        visit.pk,
        "violations",
        1,
    )
    finding_opened = _one("finding.opened", f"finding:{finding.pk}")
    assert finding_opened.payload["item_code"] == "EXPIRED" and finding_opened.payload["severity"] == "critical"

    # report.closed: the reconciler sees the case's stop got the visit.
    assert cases_reconcile() == 1
    closed = _one("report.closed", f"case:{case.pk}")
    assert closed.payload["state"] == "closed" and closed.payload["visit_id"] == visit.pk
    assert closed.payload["violation_count"] == 1

    # penalty.issued: the sweep issues the notice; enforcement's signal, community's receiver.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert penalties_assess_due()["penalised"] == 1
    notice = PenaltyNotice.objects.get(finding=finding)
    issued = _one("penalty.issued", f"penalty:{notice.pk}")
    assert issued.occurred_at == notice.issued_at
    assert issued.payload["notice_id"] == notice.pk and issued.payload["number"] == notice.number
    assert issued.payload["violation_code"] == "V-EXP" and issued.payload["amount_sar"] == "2000.00"
    assert (issued.payload["visit_id"], issued.payload["establishment_id"]) == (visit.pk, store.pk)
    assert issued.payload["due_date"] == notice.due_date.isoformat() and issued.payload["status"] == "issued"
    assert issued.deliveries.count() == 1  # the outbox row, queued for sending on commit
    assert sum("deliver_webhook" in repr(callback) for callback in queued) == 1

    # objection.decided: filed on the owner's behalf, decided by a supervisor with no part in it.
    filed = api.as_user(supervisor).post(
        f"enforcement/notices/{notice.pk}/objections", data={"reasons": "The milk was for staff.", **OWNER}
    )
    assert filed.status_code == 201, filed.content
    assert not WebhookEvent.objects.filter(type="objection.decided").exists()  # filing is not a decision
    decided = api.as_user(fair).post(
        f"enforcement/objections/{filed.json()['id']}/decision",
        {"decision": "reduced", "reasons": "First offence.", "amount_sar": "500.00"},
    )
    assert decided.status_code == 200, decided.content
    objection = Objection.objects.get(pk=filed.json()["id"])
    decision = _one("objection.decided", f"objection:{objection.pk}")
    assert decision.occurred_at == objection.decided_at
    assert decision.payload["decision"] == "reduced" and decision.payload["notice_id"] == notice.pk
    assert (decision.payload["original_amount_sar"], decision.payload["amount_sar"]) == ("2000.00", "500.00")
    assert decision.payload["notice_status"] == "reduced"

    # finding.closed: a later visit passes the item.
    later = visit_payload(store, version)
    assert api.as_user(inspector).post("visits/sync", {"visits": [later]}).json()["results"][0]["status"] == "created"
    webhooks.webhooks_collect()
    finding_closed = _one("finding.closed", f"finding:{finding.pk}")
    assert finding_closed.payload["closed_by_visit_id"] != visit.pk

    # Every subscribable type was emitted; recording again changes nothing (stable ids).
    assert set(WebhookEvent.objects.values_list("type", flat=True)) == set(webhooks.EVENT_TYPES)
    before = WebhookEvent.objects.count()
    assert webhooks.webhooks_collect() == 0 and cases_reconcile() == 0
    assert webhooks.penalty_issued(notice=notice) is None and webhooks.objection_decided(objection=objection) is None
    assert WebhookEvent.objects.count() == before

    # No payload carries a reporter's or an owner's personal data.
    everything = json.dumps(list(WebhookEvent.objects.values_list("payload", flat=True)), cls=DjangoJSONEncoder)
    for private in [*REPORTER.values(), *OWNER.values(), "10.7.0.1", "The milk was for staff."]:
        assert private not in everything, private


def test_a_dismissed_case_emits_report_closed(api, dammam, supervisor, admin_user):
    webhooks.subscription_create(actor=admin_user, url="http://127.0.0.1:9/hook", event_types=["report.closed"])
    store = shop(dammam)
    response = Open311(ip="10.7.0.2").post(
        "requests.json", {"service_code": "food-hygiene", "address_id": code_of(store), "description": "Dirty"}
    )
    case_id = int(as_json(response)[0]["service_request_id"])
    assert not WebhookEvent.objects.exists()  # nobody subscribed to report.opened: nothing kept
    dismissed = api.as_user(supervisor).post(f"community/cases/{case_id}/dismiss", {"reason": "Duplicate of a visit"})
    assert dismissed.status_code == 200, dismissed.content
    event = _one("report.closed", f"case:{case_id}")
    assert event.payload["state"] == "dismissed" and event.payload["reason"] == "Duplicate of a visit"


def test_a_penalty_rolled_back_leaves_no_event(dammam, inspector, admin_user):
    """The event is written in the notice's transaction: a failure after it leaves neither."""
    from enforcement.signals import penalty_issued
    from tests.enforcement_support import violating_visit

    webhooks.subscription_create(actor=admin_user, url="http://127.0.0.1:9/hook", event_types=["penalty.issued"])
    violation(grade="serious", grace=0)
    violating_visit(inspector=inspector, municipality=dammam)

    def fails_after_community(sender, notice, **kwargs):  # connected after community's receiver: runs after it
        raise RuntimeError("a later step of the transaction failed")

    penalty_issued.connect(fails_after_community, dispatch_uid="test.fails_after_community")
    try:
        with pytest.raises(RuntimeError):
            penalties_assess_due()
    finally:
        penalty_issued.disconnect(dispatch_uid="test.fails_after_community")
    assert not PenaltyNotice.objects.exists() and not WebhookEvent.objects.exists()
    assert penalties_assess_due()["penalised"] == 1
    notice = PenaltyNotice.objects.get()
    assert _one("penalty.issued", f"penalty:{notice.pk}").payload["amount_sar"] == str(notice.amount_sar)
