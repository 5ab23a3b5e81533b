"""Two supervisors registering the same licence at the same moment: one 201, one 409, one row.
PostgreSQL only (real concurrent transactions); skipped on the embedded SQLite default."""

import functools

import pytest
from django.conf import settings

from inspections.models import Establishment
from tests.concurrency_support import run_at_once
from tests.factories import DAMMAM, CategoryFactory, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL for concurrent transactions"),
]


def test_racing_registrations_of_one_licence(api, dammam):
    CategoryFactory(code="grocery")
    supervisors = [make_user("supervisor", dammam, username=f"racer{index}") for index in range(4)]
    body = {"name_ar": "بقالة", "category": "grocery", "licence_no": "RACE-1", "lat": DAMMAM[0], "lon": DAMMAM[1]}
    clients = [api.as_user(user) for user in supervisors]
    responses = run_at_once([functools.partial(client.post, "establishments", body) for client in clients])
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [201, 409, 409, 409]
    assert Establishment.objects.filter(licence_no="RACE-1").count() == 1
