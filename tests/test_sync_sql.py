"""The visit sync's set-based writes (inspections/services/sync_sql.py), on SQLite and PostgreSQL
alike: insert_returning returns what it inserted (and with `returning_if` only the flagged rows),
skips conflicting rows, and update_rows sets the given columns of the given rows only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inspections.models import Answer, Visit
from inspections.services.sync_sql import insert_returning, update_rows
from inspections.services.visits import VISIT_FIELDS
from tests.visit_support import make_checklist, shop, visit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(api, dammam, inspector):
    version, _ = make_checklist()
    payload = visit_payload(shop(dammam), version, finished_at=timezone.now() - timedelta(hours=1))
    response = api.as_user(inspector).post("visits/sync", {"visits": [payload]})
    assert response.status_code == 200, response.content
    stored = Visit.objects.get(pk=response.json()["results"][0]["visit_id"])
    Answer.objects.filter(visit=stored).delete()
    return stored


def test_returning_if_returns_only_the_flagged_rows_in_insertion_order(visit):
    items = list(visit.checklist_version.items.order_by("position"))[:4]
    flags = [False, True, False, True]
    rows = [(visit.pk, item.pk, item.code, "yes", failed, "") for item, failed in zip(items, flags, strict=True)]
    fields = ["visit_id", "item_id", "item_code", "value", "failed", "note"]

    returned = insert_returning(Answer, fields, rows, returning=("id", "item_id"), returning_if="failed")

    stored = dict(Answer.objects.filter(visit=visit).values_list("item_id", "id"))
    assert len(stored) == 4  # every row written
    assert returned == [(stored[items[1].pk], items[1].pk), (stored[items[3].pk], items[3].pk)]
    # Without the option, every inserted row comes back; with nothing flagged, none.
    Answer.objects.filter(visit=visit).delete()
    assert len(insert_returning(Answer, fields, rows, returning=("id",))) == 4
    Answer.objects.filter(visit=visit).delete()
    unflagged = [(*row[:4], False, "") for row in rows]
    assert insert_returning(Answer, fields, unflagged, returning=("id",), returning_if="failed") == []
    assert Answer.objects.filter(visit=visit).count() == 4


def test_conflicting_rows_are_skipped_and_not_returned(visit):
    """The sync's own insert of visits: a client id stored before is neither written again nor returned."""
    row = [getattr(visit, Visit._meta.get_field(name).attname) for name in VISIT_FIELDS]
    row[VISIT_FIELDS.index("payload_sha256")] = "x" * 64
    assert insert_returning(Visit, VISIT_FIELDS, [row], returning=("id",), conflict_field="client_id") == []
    assert Visit.objects.count() == 1 and Visit.objects.get().payload_sha256 == visit.payload_sha256


def test_update_rows_sets_the_listed_columns_of_the_listed_rows_only(visit):
    items = list(visit.checklist_version.items.order_by("position"))[:2]
    fields = ["visit_id", "item_id", "item_code", "value", "failed", "note"]
    ((first,),), ((second,),) = (
        insert_returning(Answer, fields, [(visit.pk, item.pk, item.code, "yes", False, "as seen")]) for item in items
    )
    update_rows(Answer, ["note", "failed"], [(first, "corrected", True)])
    changed = Answer.objects.get(pk=first)
    assert (changed.note, changed.failed) == ("corrected", True)
    assert changed.value == "yes"  # a column not listed is left as it was
    untouched = Answer.objects.get(pk=second)
    assert (untouched.note, untouched.failed) == ("as seen", False)
