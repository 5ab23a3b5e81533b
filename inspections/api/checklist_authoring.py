"""Checklist authoring for administrators: draft a version from the published one, edit its items,
validate, publish, retire. Every write goes through inspections.services.checklists (the same service
the admin and the seed use); supervisors and everyone else read only (a 403 on writes)."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from backend.api_basics import ERRORS, ErrorOut
from inspections.api.schemas.checklists import ChecklistVersionOut
from inspections.api.schemas.console import DraftIn, ItemIn, ItemPatch, ValidationOut
from inspections.models import ChecklistItem
from inspections.selectors.checklists import visible_checklist_versions, visible_checklists
from inspections.services.checklists import (
    checklist_item_add,
    checklist_item_delete,
    checklist_item_update,
    checklist_version_draft,
    checklist_version_problems,
    checklist_version_publish,
    checklist_version_retire,
)

router = Router(tags=["checklist authoring"])


def _version_out(request: HttpRequest, version_id: int) -> ChecklistVersionOut:
    return ChecklistVersionOut.of(get_object_or_404(visible_checklist_versions(user=request.user), pk=version_id))


def _item_values(payload) -> dict:
    values = payload.model_dump(exclude_none=True) if isinstance(payload, ItemPatch) else payload.model_dump()
    if "choice_labels" in values:
        values["choice_labels"] = {key: dict(label) for key, label in values["choice_labels"].items()}
    if isinstance(payload, ItemIn) and payload.position is None:
        values.pop("position")
    return values


@router.post("checklists/{checklist_id}/drafts", response={201: ChecklistVersionOut, **ERRORS})
def checklist_draft(request: HttpRequest, checklist_id: int, payload: DraftIn):
    """A new draft version: a copy of the latest version's items (one draft at a time)."""
    checklist = get_object_or_404(visible_checklists(user=request.user), pk=checklist_id)
    draft = checklist_version_draft(actor=request.user, checklist=checklist, notes=payload.notes)
    return Status(201, _version_out(request, draft.pk))


@router.post("checklists/versions/{version_id}/items", response={201: ChecklistVersionOut, **ERRORS})
def checklist_item_create(request: HttpRequest, version_id: int, payload: ItemIn):
    """Add an item to a draft version."""
    version = get_object_or_404(visible_checklist_versions(user=request.user), pk=version_id)
    checklist_item_add(actor=request.user, version=version, **_item_values(payload))
    return Status(201, _version_out(request, version_id))


def _item(request: HttpRequest, version_id: int, item_id: int) -> ChecklistItem:
    version = get_object_or_404(visible_checklist_versions(user=request.user), pk=version_id)
    return get_object_or_404(ChecklistItem.objects.filter(version=version), pk=item_id)


@router.patch("checklists/versions/{version_id}/items/{item_id}", response={200: ChecklistVersionOut, **ERRORS})
def checklist_item_patch(request: HttpRequest, version_id: int, item_id: int, payload: ItemPatch):
    """Change an item of a draft version (texts, choices and their labels, thresholds, severity, fine,
    photo rule, categories)."""
    item = _item(request, version_id, item_id)
    checklist_item_update(actor=request.user, item=item, **_item_values(payload))
    return _version_out(request, version_id)


@router.delete("checklists/versions/{version_id}/items/{item_id}", response={200: ChecklistVersionOut, **ERRORS})
def checklist_item_remove(request: HttpRequest, version_id: int, item_id: int):
    """Remove an item from a draft version."""
    checklist_item_delete(actor=request.user, item=_item(request, version_id, item_id))
    return _version_out(request, version_id)


@router.get("checklists/versions/{version_id}/validation", response={200: ValidationOut, **ERRORS})
def checklist_version_validate(request: HttpRequest, version_id: int):
    """What would stop the version from being published (empty `problems`: it would publish)."""
    version = get_object_or_404(visible_checklist_versions(user=request.user), pk=version_id)
    problems = checklist_version_problems(version=version)
    return ValidationOut(version_id=version.pk, valid=not problems, problems=problems)


@router.post("checklists/versions/{version_id}/publish", response={200: ChecklistVersionOut, **ERRORS})
def checklist_version_publish_endpoint(request: HttpRequest, version_id: int):
    """Publish a draft: the published version it replaces is retired; the next sync serves the new one."""
    version = get_object_or_404(visible_checklist_versions(user=request.user), pk=version_id)
    checklist_version_publish(actor=request.user, version=version)
    return _version_out(request, version_id)


@router.post("checklists/versions/{version_id}/retire", response={200: ChecklistVersionOut, 409: ErrorOut, **ERRORS})
def checklist_version_retire_endpoint(request: HttpRequest, version_id: int):
    """Retire a published version (the checklist then has none until a draft is published)."""
    version = get_object_or_404(visible_checklist_versions(user=request.user), pk=version_id)
    checklist_version_retire(actor=request.user, version=version)
    return _version_out(request, version_id)
