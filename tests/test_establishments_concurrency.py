"""Two supervisors registering the same licence at the same moment: one 201, one 409, one row.
PostgreSQL only (real concurrent transactions); skipped on the embedded SQLite default."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from inspections.models import Establishment
from tests.factories import DAMMAM, CategoryFactory, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL for concurrent transactions"),
]


def test_racing_registrations_of_one_licence(api, dammam):
    CategoryFactory(code="grocery")
    supervisors = [make_user("supervisor", dammam, username=f"racer{index}") for index in range(4)]
    body = {"name_ar": "بقالة", "category": "grocery", "licence_no": "RACE-1", "lat": DAMMAM[0], "lon": DAMMAM[1]}
    barrier = threading.Barrier(len(supervisors))
    statuses = []

    def register(user):
        client = api.as_user(user)
        barrier.wait()
        try:
            statuses.append(client.post("establishments", body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(user,)) for user in supervisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [201, 409, 409, 409]
    assert Establishment.objects.filter(licence_no="RACE-1").count() == 1
