"""Checklists as data: draft a version, edit its items, publish it. Published and retired versions
never change; a new draft (a copy of the latest version) replaces them.

Writes come from the admin or the demo seed; `actor=None` means the system (seed, migrations).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.models import Category, Checklist, ChecklistItem, ChecklistVersion
from inspections.selectors.scope import scope_for
from inspections.services.audit import audit_record

EDITABLE_ITEM_FIELDS = (
    "code",
    "position",
    "text_ar",
    "text_en",
    "answer_type",
    "choices",
    "failing_choices",
    "choice_labels",
    "min_value",
    "max_value",
    "unit",
    "severity",
    "fine_sar",
    "photo_required_on_fail",
    "required",
    "violation_code",
)


def _require_admin(actor) -> None:
    if actor is None:
        return  # the system: seed, data migrations
    if not (getattr(actor, "is_superuser", False) or scope_for(actor).is_admin):
        raise PermissionDeniedError(_("Only administrators edit checklists."))


def _require_draft(version: ChecklistVersion) -> None:
    if version.status != ChecklistVersion.Status.DRAFT:
        raise ApplicationError(
            _("Version %(number)d is %(status)s and can no longer be changed; draft a new version instead.")
            % {"number": version.number, "status": version.get_status_display()},
            code="checklist_version_immutable",
        )


def _lock_version(version_id: int) -> ChecklistVersion:
    # The version row only (`of=self`): locking its checklist through the join too took the two rows
    # in whatever order the join produced them, while publishing and drafting lock the checklist first,
    # then the version, and the two met in a deadlock (tests/test_checklists_concurrency.py).
    return ChecklistVersion.objects.select_for_update(of=("self",)).select_related("checklist").get(pk=version_id)


@transaction.atomic
def checklist_create(
    *,
    actor,
    code: str,
    name_ar: str,
    name_en: str,
    description_ar: str = "",
    description_en: str = "",
    category_codes: list[str] | None = None,
) -> Checklist:
    """A new checklist template (no version yet: draft one, add items, publish)."""
    _require_admin(actor)
    if Checklist.objects.filter(code=code).exists():
        raise ApplicationError(_("A checklist with this code exists already."), code="duplicate_code")
    checklist = Checklist.objects.create(
        code=code, name_ar=name_ar, name_en=name_en, description_ar=description_ar, description_en=description_en
    )
    if category_codes:
        checklist.categories.set(_categories(category_codes))
    audit_record(actor=actor, action="checklist.created", target=checklist)
    return checklist


def _categories(codes: list[str]) -> list[Category]:
    categories = list(Category.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {category.code for category in categories})
    if missing:
        raise ApplicationError(
            _("Unknown categories: %(codes)s.") % {"codes": ", ".join(missing)}, code="unknown_categories"
        )
    return categories


@transaction.atomic
def checklist_version_draft(*, actor, checklist: Checklist, notes: str = "") -> ChecklistVersion:
    """A new draft version: a copy of the latest version's items (with their categories), or empty.

    A checklist has at most one draft at a time.
    """
    _require_admin(actor)
    checklist = Checklist.objects.select_for_update().get(pk=checklist.pk)
    if checklist.versions.filter(status=ChecklistVersion.Status.DRAFT).exists():
        raise ApplicationError(_("This checklist already has a draft version."), code="draft_exists")
    latest = checklist.versions.order_by("-number").first()
    number = (checklist.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    draft = ChecklistVersion.objects.create(checklist=checklist, number=number, notes=notes)
    if latest is not None:
        for item in latest.items.prefetch_related("categories").order_by("position", "id"):
            category_ids = [category.pk for category in item.categories.all()]
            copy = ChecklistItem.objects.create(
                version=draft, **{name: getattr(item, name) for name in EDITABLE_ITEM_FIELDS}
            )
            copy.categories.set(category_ids)
    audit_record(
        actor=actor,
        action="checklist.version_drafted",
        target=draft,
        details={"checklist_id": checklist.pk, "from_version": latest.number if latest else None},
    )
    return draft


def _clean_item(values: dict[str, Any]) -> dict[str, Any]:
    """Check that an item's fields make sense together; raises ApplicationError."""
    unknown = set(values) - set(EDITABLE_ITEM_FIELDS) - {"category_codes"}
    if unknown:
        raise ApplicationError(
            _("Unknown item fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}, code="unknown_fields"
        )
    answer_type = values.get("answer_type", ChecklistItem.AnswerType.YES_NO_NA)
    if answer_type not in ChecklistItem.AnswerType.values:
        raise ApplicationError(_("Unknown answer type."), code="invalid_answer_type")
    if values.get("severity", ChecklistItem.Severity.MINOR) not in ChecklistItem.Severity.values:
        raise ApplicationError(_("Unknown severity."), code="invalid_severity")
    if not str(values.get("code", "")).strip():
        raise ApplicationError(_("An item needs a code."), code="invalid_item")
    if not str(values.get("text_ar", "")).strip() or not str(values.get("text_en", "")).strip():
        raise ApplicationError(_("An item needs its Arabic and English text."), code="invalid_item")
    try:
        fine = Decimal(str(values.get("fine_sar", 0)))
    except InvalidOperation as error:
        raise ApplicationError(_("The fine must be an amount in SAR."), code="invalid_fine") from error
    if fine < 0:
        raise ApplicationError(_("The fine cannot be negative."), code="invalid_fine")
    choices = values.get("choices") or []
    failing = values.get("failing_choices") or []
    if answer_type == ChecklistItem.AnswerType.CHOICE:
        if len(choices) < 2 or len(set(choices)) != len(choices):
            raise ApplicationError(_("A choice item needs at least two distinct choices."), code="invalid_choices")
        if not set(failing) <= set(choices):
            raise ApplicationError(_("Failing choices must be among the choices."), code="invalid_choices")
        _clean_choice_labels(values.get("choice_labels") or {}, choices)
    elif choices or failing or values.get("choice_labels"):
        raise ApplicationError(_("Only choice items have choices."), code="invalid_choices")
    low, high = values.get("min_value"), values.get("max_value")
    if answer_type == ChecklistItem.AnswerType.NUMBER:
        if low is None and high is None:
            raise ApplicationError(_("A number item needs a minimum or a maximum."), code="invalid_thresholds")
        if low is not None and high is not None and low > high:
            raise ApplicationError(_("The minimum is above the maximum."), code="invalid_thresholds")
    elif low is not None or high is not None:
        raise ApplicationError(_("Only number items have thresholds."), code="invalid_thresholds")
    return values


def _clean_choice_labels(labels: Any, choices: list) -> None:
    """Labels are optional (the bare value is shown without them); given, each names a choice and
    carries a non-empty Arabic and English text."""
    if not isinstance(labels, dict):
        raise ApplicationError(
            _("Choice labels map each choice to its Arabic and English label."), code="invalid_choices"
        )
    unknown = sorted(set(labels) - {str(choice) for choice in choices})
    if unknown:
        raise ApplicationError(
            _("Labels for values that are not choices: %(values)s.") % {"values": ", ".join(unknown)},
            code="invalid_choices",
        )
    for value, label in labels.items():
        if not isinstance(label, dict) or set(label) != {"ar", "en"}:
            raise ApplicationError(
                _("The label of %(value)s needs exactly an Arabic (ar) and an English (en) text.") % {"value": value},
                code="invalid_choices",
            )
        if not all(isinstance(text, str) and text.strip() for text in label.values()):
            raise ApplicationError(
                _("The label of %(value)s needs exactly an Arabic (ar) and an English (en) text.") % {"value": value},
                code="invalid_choices",
            )


@transaction.atomic
def checklist_item_add(*, actor, version: ChecklistVersion, **values: Any) -> ChecklistItem:
    """Add an item to a draft version. `category_codes` limits it to some establishment categories."""
    _require_admin(actor)
    version = _lock_version(version.pk)
    _require_draft(version)
    category_codes = values.pop("category_codes", None) or []
    _clean_item(values)
    if version.items.filter(code=values["code"]).exists():
        raise ApplicationError(_("This version already has an item with this code."), code="duplicate_code")
    if "position" not in values:
        values["position"] = (version.items.aggregate(top=Max("position"))["top"] or 0) + 1
    item = ChecklistItem.objects.create(version=version, **values)
    if category_codes:
        item.categories.set(_categories(category_codes))
    return item


@transaction.atomic
def checklist_item_update(*, actor, item: ChecklistItem, **values: Any) -> ChecklistItem:
    """Change an item of a draft version; an item of a published or retired version is refused."""
    _require_admin(actor)
    version = _lock_version(item.version_id)
    _require_draft(version)
    item = ChecklistItem.objects.get(pk=item.pk)
    category_codes = values.pop("category_codes", None)
    merged = {name: getattr(item, name) for name in EDITABLE_ITEM_FIELDS} | values
    _clean_item(merged)
    if "code" in values and version.items.filter(code=values["code"]).exclude(pk=item.pk).exists():
        raise ApplicationError(_("This version already has an item with this code."), code="duplicate_code")
    for name, value in values.items():
        setattr(item, name, value)
    item.save()
    if category_codes is not None:
        item.categories.set(_categories(category_codes))
    return item


@transaction.atomic
def checklist_item_delete(*, actor, item: ChecklistItem) -> None:
    """Remove an item from a draft version."""
    _require_admin(actor)
    version = _lock_version(item.version_id)
    _require_draft(version)
    ChecklistItem.objects.filter(pk=item.pk).delete()


@transaction.atomic
def checklist_version_publish(*, actor, version: ChecklistVersion) -> ChecklistVersion:
    """Publish a draft: the previously published version is retired in the same transaction.

    The checklist row is locked so two publishers cannot both win; the partial unique constraint
    (one published version per checklist) backs this up in the database.
    """
    _require_admin(actor)
    Checklist.objects.select_for_update().get(pk=version.checklist_id)
    version = _lock_version(version.pk)
    _require_draft(version)
    items = list(version.items.all())
    if not items:
        raise ApplicationError(_("A version needs at least one item to be published."), code="empty_version")
    for item in items:
        _clean_item({name: getattr(item, name) for name in EDITABLE_ITEM_FIELDS})
    previous = list(
        ChecklistVersion.objects.select_for_update().filter(
            checklist_id=version.checklist_id, status=ChecklistVersion.Status.PUBLISHED
        )
    )
    ChecklistVersion.objects.filter(pk__in=[old.pk for old in previous]).update(status=ChecklistVersion.Status.RETIRED)
    version.status = ChecklistVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    audit_record(
        actor=actor,
        action="checklist.version_published",
        target=version,
        details={"checklist_id": version.checklist_id, "retired_version_ids": [old.pk for old in previous]},
    )
    return version


def checklist_version_problems(*, version: ChecklistVersion) -> list[dict]:
    """What would stop this version from being published: one entry per problem (empty: it would publish)."""
    problems: list[dict] = []
    items = list(version.items.all())
    if not items:
        problems.append({"item": None, "code": "empty_version", "detail": _("A version needs at least one item.")})
    for item in items:
        try:
            _clean_item({name: getattr(item, name) for name in EDITABLE_ITEM_FIELDS})
        except ApplicationError as error:
            problems.append({"item": item.code, "code": error.code, "detail": str(error.message)})
    return problems


@transaction.atomic
def checklist_version_retire(*, actor, version: ChecklistVersion) -> ChecklistVersion:
    """Retire a published version: phones stop receiving it; visits that used it keep pointing at it."""
    _require_admin(actor)
    version = _lock_version(version.pk)
    if version.status != ChecklistVersion.Status.PUBLISHED:
        raise ApplicationError(_("Only a published version can be retired."), code="not_published", status=409)
    version.status = ChecklistVersion.Status.RETIRED
    version.save(update_fields=["status"])
    audit_record(
        actor=actor, action="checklist.version_retired", target=version, details={"checklist_id": version.checklist_id}
    )
    return version
