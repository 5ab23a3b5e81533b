"""`field__any=values` (backend/lookups.py) returns exactly the rows `field__in=values` returns, with
the list sent as one parameter, on SQLite and PostgreSQL alike: ids, foreign keys by id or by
object, UUIDs as UUID or as text, sets, empty lists, negation, and row locks."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inspections.models import Establishment, Finding, Visit
from tests.visit_support import make_checklist, shop, visit_payload


@pytest.fixture
def stored(api, dammam, khobar, inspector, leader):
    """Eight shops over two municipalities; visits to three of them, two failing an item."""
    version, _ = make_checklist()
    shops = [shop(dammam) for _ in range(5)] + [shop(khobar) for _ in range(3)]
    now = timezone.now()
    payloads = [
        visit_payload(shops[0], version, finished_at=now - timedelta(hours=3), MASKS="no"),
        visit_payload(shops[1], version, finished_at=now - timedelta(hours=2), MASKS="no", SANITISER="no"),
        visit_payload(shops[2], version, finished_at=now - timedelta(hours=1)),
    ]
    response = api.as_user(inspector).post("visits/sync", {"visits": payloads})
    assert response.status_code == 200, response.content
    return shops, [uuid.UUID(payload["client_id"]) for payload in payloads]


def both(queryset_of, values) -> tuple[list, list]:
    key = queryset_of("any", values).model._meta.pk.name
    return (
        sorted(queryset_of("in", values).values_list(key, flat=True)),
        sorted(queryset_of("any", values).values_list(key, flat=True)),
    )


@pytest.mark.django_db
def test_any_returns_the_rows_in_returns(stored):
    shops, client_ids = stored
    ids = [item.pk for item in shops]

    def by_establishment(lookup, values):
        return Finding.objects.filter(**{f"establishment_id__{lookup}": values}, status="open")

    within, by_any = both(by_establishment, ids[:2] + [ids[5]])
    assert within == by_any and len(by_any) == 3  # 1 + 2 open findings, none at the Khobar shop

    def establishment_object(lookup, values):
        return Finding.objects.filter(**{f"establishment__{lookup}": values})

    assert both(establishment_object, shops[:2]) == both(establishment_object, [shops[0].pk, shops[1].pk])

    def visit_by_client_id(lookup, values):
        return Visit.objects.filter(**{f"client_id__{lookup}": values})

    within, by_any = both(visit_by_client_id, client_ids[1:] + [uuid.uuid4()])
    assert within == by_any and len(by_any) == 2
    within, by_any = both(visit_by_client_id, [str(value) for value in client_ids])
    assert within == by_any and len(by_any) == 3

    def establishments(lookup, values):
        return Establishment.objects.filter(**{f"id__{lookup}": values}).exclude(**{f"id__{lookup}": {ids[0], ids[7]}})

    within, by_any = both(establishments, set(ids[:4] + ids[6:]))
    assert within == by_any == sorted(ids[1:4] + [ids[6]])


@pytest.mark.django_db
def test_a_list_is_one_parameter_and_an_empty_one_matches_nothing_without_a_query(stored):
    shops, _ = stored
    ids = [item.pk for item in shops]
    long_sql, long_params = Establishment.objects.filter(id__any=ids).query.sql_with_params()
    short_sql, short_params = Establishment.objects.filter(id__any=ids[:2]).query.sql_with_params()
    assert long_sql == short_sql  # one statement text whatever the list's length
    assert len(long_params) == len(short_params) == 1
    assert (long_params[0] if connection.vendor == "postgresql" else json.loads(long_params[0])) == ids

    with CaptureQueriesContext(connection) as queries:
        assert not list(Finding.objects.filter(establishment_id__any=[]))
        assert Establishment.objects.exclude(id__any=[]).count() == len(shops)
    assert len(queries) == 1  # the count; the empty filter ran no query


@pytest.mark.django_db(transaction=True)
def test_rows_locked_through_any_are_the_ones_named(stored):
    shops, _ = stored
    wanted = sorted(item.pk for item in shops[2:5])
    with transaction.atomic():
        locked = list(
            Establishment.objects.filter(id__any=wanted)
            .order_by("id")
            .select_for_update(no_key=True)
            .values_list("id", flat=True)
        )
    assert locked == wanted
