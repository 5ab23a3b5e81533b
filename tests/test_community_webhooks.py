"""Signed webhooks end to end: events of visits, findings, reports, penalty notices and objection
decisions reach a receiver on 127.0.0.1
that verifies the Standard Webhooks signature with the `standardwebhooks` package; a receiver that
fails five times then recovers gets every event exactly once by id (the sweeper here, a real Celery
worker on the PostgreSQL/Redis pass); a replay re-sends with the same id; the delivery log shows it."""

import importlib
import os
import subprocess
import sys

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, transaction

from backend.celery import app
from community.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from community.services import webhooks
from community.services.reports import ReportIn, report_submit
from community.services.shops import shop_code_ensure
from enforcement.models import PenaltyNotice
from enforcement.services.objections import objection_decide, objection_file
from enforcement.services.penalties import penalties_assess_due
from inspections.models import ChecklistItem, Membership
from tests.enforcement_support import violation
from tests.factories import make_user
from tests.fake_fcm import postgres_url
from tests.process_support import stop_process_group, wait_for
from tests.visit_support import make_checklist, shop, visit_payload
from tests.webhook_receiver import Receiver

ALL = list(webhooks.EVENT_TYPES)


def _events_happen(api, dammam, inspector):
    """A public report (report.opened), a failing visit (visit.stored, finding.opened), the penalty
    notice it leads to (penalty.issued) and the decision on the owner's objection (objection.decided)."""
    version, _items = make_checklist()
    ChecklistItem.objects.filter(version=version, code="MASKS").update(violation_code="V-MASKS")
    violation("V-MASKS", grade="serious", grace=0)
    store = shop(dammam)
    report_submit(
        payload=ReportIn(
            service_code="food-hygiene",
            description="dirty",
            ip="10.0.0.1",
            shop_code=shop_code_ensure(establishment=store).code,
        )
    )
    response = api.as_user(inspector).post("visits/sync", {"visits": [visit_payload(store, version, MASKS="no")]})
    assert response.json()["results"][0]["status"] == "created"
    assert penalties_assess_due()["penalised"] == 1
    objection = objection_file(notice=PenaltyNotice.objects.get(), owner_name="Owner", reasons="We disagree.")
    decider = make_user(Membership.Role.SUPERVISOR, dammam, username="sup_decides")
    objection_decide(objection=objection, decider=decider, decision="upheld", reasons="Reviewed.")
    return webhooks.webhooks_collect()


def _subscribe(admin_user, url: str) -> dict:
    from django.test import Client

    from inspections.services.auth import token_pair_for

    response = Client().post(
        "/api/v1/community/webhooks",
        {"url": url, "event_types": ALL},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_pair_for(user=admin_user).access}"},
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_a_failing_receiver_gets_every_event_exactly_once_then_a_replay_keeps_the_id(
    api, dammam, inspector, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0.05
    with Receiver(fail_first=5) as receiver:
        subscription = _subscribe(admin_user, receiver.url)
        receiver.secret = subscription["secret"]
        with django_capture_on_commit_callbacks(execute=True):
            _events_happen(api, dammam, inspector)
        events = set(WebhookEvent.objects.values_list("id", flat=True))
        assert {e.split(".")[0] for e in WebhookEvent.objects.values_list("type", flat=True)} == {
            "report",
            "visit",
            "finding",
            "penalty",
            "objection",
        }
        # the sweeper picks up what is due (each attempt's backoff is 50 ms x 2^n)
        delivered = wait_for(
            lambda: (
                webhooks.webhooks_sweep() is not None and not WebhookDelivery.objects.filter(status="pending").exists()
            ),
            timeout=30,
            interval=0.05,
        )
        assert delivered
        assert receiver.bad_signatures == 0
        assert set(receiver.accepted) == events
        assert all(count == 1 for count in receiver.accepted.values()), receiver.accepted
        assert receiver.requests == len(events) + 5
        assert WebhookAttempt.objects.filter(status_code=500).count() == 5

        log = api.as_user(admin_user).get(f"community/webhooks/{subscription['id']}/deliveries").json()["items"]
        assert {row["status"] for row in log} == {"delivered"}
        assert sum(1 for row in log for attempt in row["log"] if attempt["status_code"] == 500) == 5

        # the visit's event carries the data a penalty system needs, never a reporter's contact
        visit_event = next(body for body in receiver.bodies.values() if body["type"] == "visit.stored")
        assert visit_event["data"]["outcome"] == "violations" and "email" not in str(receiver.bodies)
        # the penalty platform gets the notice and the decision, verified like every other event
        by_type = {body["type"]: body["data"] for body in receiver.bodies.values()}
        notice = PenaltyNotice.objects.get()
        assert by_type["penalty.issued"]["number"] == notice.number
        assert by_type["penalty.issued"]["amount_sar"] == str(notice.amount_sar)
        assert by_type["objection.decided"]["decision"] == "upheld"
        assert by_type["objection.decided"]["notice_id"] == notice.pk and "Owner" not in str(receiver.bodies)

        one = sorted(events)[0]
        with django_capture_on_commit_callbacks(execute=True):
            replay = api.as_user(admin_user).post("community/webhook-replays", {"event_id": one})
        assert replay.json() == {"queued": 1}
        assert wait_for(lambda: receiver.accepted[one] == 2, timeout=10)
        assert sum(receiver.accepted.values()) == len(events) + 1  # only that one again, same webhook-id

        # collecting again records nothing new (stable ids)
        assert webhooks.webhooks_collect() == 0


@pytest.mark.django_db
def test_replay_a_time_range_and_bad_replays(api, dammam, inspector, admin_user, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        subscription = _subscribe(admin_user, receiver.url)
        receiver.secret = subscription["secret"]
        with django_capture_on_commit_callbacks(execute=True):
            _events_happen(api, dammam, inspector)
        events = list(WebhookEvent.objects.order_by("occurred_at"))
        since = events[0].occurred_at.isoformat()
        until = events[-1].occurred_at.replace(microsecond=0).isoformat()
        with django_capture_on_commit_callbacks(execute=True):
            replay = api.as_user(admin_user).post("community/webhook-replays", {"since": since, "until": until})
        in_range = [e for e in events if e.occurred_at < events[-1].occurred_at.replace(microsecond=0)]
        assert replay.json() == {"queued": len(in_range)}
        client = api.as_user(admin_user)
        # 400: well-formed but naming no event or range; 422: a body the schema refuses
        for body, status in (
            ({}, 400),
            ({"since": until, "until": since}, 400),
            ({"event_id": "x" * 41}, 422),
            ({"event_id": 5}, 422),
        ):
            before = WebhookDelivery.objects.count()
            response = client.post("community/webhook-replays", body)
            assert response.status_code == status, body
            assert WebhookDelivery.objects.count() == before
        for body, status, code in (
            ({"url": "ftp://x.example/hook", "event_types": ["visit.stored"]}, 422, "validation_error"),
            ({"url": "https://x.example/hook", "event_types": ["visit.deleted"]}, 400, "unknown_event_type"),
            ({"url": "https://x.example/hook", "event_types": []}, 422, "validation_error"),
            ({"url": "https://x.example/hook", "event_types": ["visit.stored"], "extra": 1}, 422, "validation_error"),
        ):
            response = client.post("community/webhooks", body)
            assert (response.status_code, response.json()["code"]) == (status, code), body


def test_our_signature_is_what_standardwebhooks_verifies():
    from standardwebhooks.webhooks import Webhook

    secret = webhooks.secret_generate()
    body = b'{"type":"visit.stored"}'
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(__import__("time").time())),
    }
    headers["webhook-signature"] = webhooks.sign(
        secret=secret, msg_id="msg_1", timestamp=int(headers["webhook-timestamp"]), body=body
    )
    assert Webhook(secret).verify(body, headers) == {"type": "visit.stored"}


# --- a real Celery worker (the PostgreSQL + Redis pass) ------------------------------------------------

needs_services = pytest.mark.skipif(
    not (settings.IS_POSTGRES and settings.CELERY_BROKER_URL.startswith("redis://")),
    reason="needs PostgreSQL and Redis (the CI pass); the sweeper test above covers the embedded default",
)


@pytest.fixture
def worker(tmp_path):
    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DATABASE_URL=postgres_url(connection.settings_dict),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        WEBHOOK_BACKOFF_BASE_SECONDS="0.2",
        PYTHONUNBUFFERED="1",
    )
    with app.connection_for_write() as conn:
        app.control.purge(connection=conn)
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "backend", "worker", "-l", "info", "-c", "2", "-Q", "celery"]
        + ["--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"webhooks-{os.getpid()}@%h"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield tmp_path / "worker.log"
    stop_process_group(process)
    log.close()
    app.conf.task_always_eager = before


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_with_backoff_until_the_receiver_recovers(api, dammam, inspector, admin_user, worker):
    # A transactional test: an earlier one flushed the report types that a data migration made.
    importlib.import_module("community.migrations.0002_service_types_and_shop_codes").seed(django_apps, None)
    with Receiver(fail_first=5) as receiver:
        subscription = _subscribe(admin_user, receiver.url)
        receiver.secret = subscription["secret"]
        with transaction.atomic():
            pass
        _events_happen(api, dammam, inspector)
        events = set(WebhookEvent.objects.values_list("id", flat=True))
        done = wait_for(lambda: not WebhookDelivery.objects.filter(status="pending").exists(), timeout=60)
        assert done, worker.read_text()[-3000:]
        assert set(receiver.accepted) == events and all(n == 1 for n in receiver.accepted.values())
        assert receiver.requests == len(events) + 5 and receiver.bad_signatures == 0
