"""Checklists as data: drafts, publishing, and published versions that never change."""

import pytest

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.models import ChecklistItem, ChecklistVersion, Membership
from inspections.services.checklists import (
    checklist_item_add,
    checklist_item_delete,
    checklist_item_update,
    checklist_version_draft,
    checklist_version_publish,
)
from tests.factories import CategoryFactory, ChecklistFactory, ChecklistItemFactory, ChecklistVersionFactory, make_user

pytestmark = pytest.mark.django_db
Status = ChecklistVersion.Status


@pytest.fixture
def published():
    version = ChecklistVersionFactory(number=1, status=Status.PUBLISHED)
    ChecklistItemFactory(version=version, code="A", position=1)
    ChecklistItemFactory(
        version=version,
        code="TEMP",
        position=2,
        answer_type="number",
        min_value=0,
        max_value=5,
        unit="°C",
        severity="critical",
        fine_sar=3000,
    )
    return version


def test_published_item_cannot_be_edited_or_deleted(published):
    item = published.items.get(code="A")
    with pytest.raises(ApplicationError) as caught:
        checklist_item_update(actor=None, item=item, text_en="Changed")
    assert caught.value.code == "checklist_version_immutable"
    with pytest.raises(ApplicationError):
        checklist_item_delete(actor=None, item=item)
    with pytest.raises(ApplicationError):
        checklist_item_add(actor=None, version=published, code="NEW", text_ar="س", text_en="q")
    item.refresh_from_db()
    assert item.text_en == "Is the item satisfied?"
    assert published.items.count() == 2


def test_published_version_cannot_be_published_again(published):
    with pytest.raises(ApplicationError):
        checklist_version_publish(actor=None, version=published)


def test_draft_copies_latest_items_with_categories(published):
    bakery = CategoryFactory(code="bakery", name_en="Bakery", name_ar="مخبز")
    published.items.get(code="A").categories.add(bakery)
    draft = checklist_version_draft(actor=None, checklist=published.checklist)
    assert draft.number == 2 and draft.status == Status.DRAFT
    copied = {item.code: item for item in draft.items.all()}
    assert set(copied) == {"A", "TEMP"}
    assert copied["TEMP"].max_value == 5 and copied["TEMP"].severity == "critical"
    assert list(copied["A"].categories.values_list("code", flat=True)) == ["bakery"]
    # The copies are new rows: editing the draft leaves the published version alone.
    checklist_item_update(actor=None, item=copied["A"], text_en="Edited in the draft")
    assert published.items.get(code="A").text_en == "Is the item satisfied?"


def test_second_draft_is_refused(published):
    checklist_version_draft(actor=None, checklist=published.checklist)
    with pytest.raises(ApplicationError) as caught:
        checklist_version_draft(actor=None, checklist=published.checklist)
    assert caught.value.code == "draft_exists"


def test_publish_retires_previous_version(published):
    draft = checklist_version_draft(actor=None, checklist=published.checklist)
    checklist_item_add(actor=None, version=draft, code="NEW", text_ar="سؤال", text_en="Question")
    checklist_version_publish(actor=None, version=draft)
    published.refresh_from_db()
    draft.refresh_from_db()
    assert published.status == Status.RETIRED
    assert draft.status == Status.PUBLISHED and draft.published_at is not None
    assert ChecklistVersion.objects.filter(checklist=draft.checklist, status=Status.PUBLISHED).count() == 1
    # the retired version is frozen too
    with pytest.raises(ApplicationError):
        checklist_item_update(actor=None, item=published.items.first(), text_en="x")


def test_publish_failure_changes_nothing(published):
    draft = checklist_version_draft(actor=None, checklist=published.checklist)
    for item in draft.items.all():
        checklist_item_delete(actor=None, item=item)
    with pytest.raises(ApplicationError) as caught:
        checklist_version_publish(actor=None, version=draft)
    assert caught.value.code == "empty_version"
    published.refresh_from_db()
    draft.refresh_from_db()
    assert published.status == Status.PUBLISHED and draft.status == Status.DRAFT


@pytest.mark.parametrize(
    "values, code",
    [
        ({"answer_type": "choice", "choices": ["a"]}, "invalid_choices"),
        ({"answer_type": "choice", "choices": ["a", "b"], "failing_choices": ["c"]}, "invalid_choices"),
        (
            {"answer_type": "choice", "choices": ["a", "b"], "choice_labels": {"c": {"ar": "ج", "en": "C"}}},
            "invalid_choices",
        ),
        ({"answer_type": "choice", "choices": ["a", "b"], "choice_labels": {"a": {"ar": "أ"}}}, "invalid_choices"),
        (
            {"answer_type": "choice", "choices": ["a", "b"], "choice_labels": {"a": {"ar": " ", "en": "A"}}},
            "invalid_choices",
        ),
        ({"answer_type": "choice", "choices": ["a", "b"], "choice_labels": ["a"]}, "invalid_choices"),
        ({"choice_labels": {"yes": {"ar": "نعم", "en": "Yes"}}}, "invalid_choices"),
        ({"answer_type": "number"}, "invalid_thresholds"),
        ({"answer_type": "number", "min_value": 5, "max_value": 1}, "invalid_thresholds"),
        ({"min_value": 1}, "invalid_thresholds"),
        ({"severity": "apocalyptic"}, "invalid_severity"),
        ({"fine_sar": -5}, "invalid_fine"),
        ({"text_en": ""}, "invalid_item"),
    ],
)
def test_bad_items_are_refused(published, values, code):
    draft = checklist_version_draft(actor=None, checklist=published.checklist)
    before = ChecklistItem.objects.count()
    with pytest.raises(ApplicationError) as caught:
        checklist_item_add(actor=None, version=draft, **({"code": "X", "text_ar": "س", "text_en": "q"} | values))
    assert caught.value.code == code
    assert ChecklistItem.objects.count() == before


def test_only_admins_edit_checklists(dammam, published):
    supervisor = make_user(Membership.Role.SUPERVISOR, dammam, username="sup_checklists")
    with pytest.raises(PermissionDeniedError):
        checklist_version_draft(actor=supervisor, checklist=published.checklist)
    admin = make_user(Membership.Role.ADMIN, username="admin_checklists")
    assert checklist_version_draft(actor=admin, checklist=published.checklist).number == 2


def test_first_version_of_a_new_checklist_is_empty():
    checklist = ChecklistFactory()
    draft = checklist_version_draft(actor=None, checklist=checklist)
    assert draft.number == 1 and draft.items.count() == 0


def test_a_draft_keeps_the_choice_labels_of_the_version_it_copies(published):
    first = checklist_version_draft(actor=None, checklist=published.checklist)
    checklist_item_add(
        actor=None,
        version=first,
        code="CLEAN",
        text_ar="النظافة",
        text_en="Cleanliness",
        answer_type="choice",
        choices=["good", "poor"],
        failing_choices=["poor"],
        choice_labels={"good": {"ar": "جيد", "en": "Good"}, "poor": {"ar": "ضعيف", "en": "Poor"}},
    )
    checklist_version_publish(actor=None, version=first)
    second = checklist_version_draft(actor=None, checklist=published.checklist)
    assert second.items.get(code="CLEAN").choice_labels["poor"] == {"ar": "ضعيف", "en": "Poor"}
