"""The same batch posted from several threads at once (own connections, real transactions) is stored
exactly once: the unique client_id decides, each thread answers created or duplicate with the same ids."""

import functools
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from inspections.models import Answer, AuditEvent, Finding, Visit
from tests.concurrency_support import run_at_once
from tests.conftest import ApiClient
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL (concurrent writers)"),
]

THREADS = 6


def test_concurrent_replays_store_each_visit_once(dammam, inspector):
    version, _ = make_checklist()
    shops = [shop(dammam) for _ in range(5)]
    now = timezone.now()
    batch = [
        visit_payload(
            shops[i % 5],
            version,
            finished_at=now - timedelta(minutes=30 * i),
            **({"MASKS": "no"} if i % 4 == 0 else {}),
        )
        for i in range(40)
    ]
    clients = [ApiClient().as_user(inspector) for _ in range(THREADS)]
    outcomes = run_at_once([functools.partial(client.post, "visits/sync", {"visits": batch}) for client in clients])
    answers = [
        (outcome.status_code, outcome.json()) if hasattr(outcome, "status_code") else outcome for outcome in outcomes
    ]

    assert all(answer is not None and answer[0] == 200 for answer in answers), answers
    assert Visit.objects.count() == 40
    assert Answer.objects.count() == 40 * 5
    assert AuditEvent.objects.filter(action="visit.received").count() == 40
    # Findings were opened once, not once per thread: at most one open finding per shop and item.
    open_masks = Finding.objects.filter(item_code="MASKS", status="open")
    assert open_masks.count() == open_masks.values("establishment").distinct().count() > 0

    stored = {str(client_id): visit_id for client_id, visit_id in Visit.objects.values_list("client_id", "id")}
    created = Counter()
    for _status, body in answers:
        for result in body["results"]:
            assert result["status"] in ("created", "duplicate"), result
            assert result["visit_id"] == stored[result["client_id"]]
            created[result["client_id"]] += result["status"] == "created"
    assert set(created.values()) == {1}
