"""Checklists: templates with their published version and items (the phone caches them), and any
version by id (a visit records the exact version it used)."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router
from ninja.pagination import paginate

from backend.api_basics import ERRORS, MappedList, Page
from inspections.api.schemas.checklists import ChecklistDetailOut, ChecklistSummaryOut, ChecklistVersionOut
from inspections.selectors.checklists import checklist_list, visible_checklist_versions, visible_checklists

router = Router(tags=["checklists"])


@router.get("checklists", response={200: list[ChecklistSummaryOut], **ERRORS})
@paginate(Page)
def checklists_list(
    request: HttpRequest,
    category: str | None = Query(None, max_length=32, description="Only checklists for this category code"),
    published: bool = Query(False, description="Only checklists with a published version"),
):
    """Checklist templates with a summary of their published version (id, number, item count)."""
    checklists = checklist_list(user=request.user, category=category, published_only=published)
    return MappedList(checklists, ChecklistSummaryOut.of)


@router.get("checklists/versions/{version_id}", response={200: ChecklistVersionOut, **ERRORS})
def checklist_version_detail(request: HttpRequest, version_id: int):
    """One version with its items: published or retired (the version a stored visit used)."""
    return ChecklistVersionOut.of(get_object_or_404(visible_checklist_versions(user=request.user), pk=version_id))


@router.get("checklists/{checklist_id}", response={200: ChecklistDetailOut, **ERRORS})
def checklist_detail(request: HttpRequest, checklist_id: int):
    """One checklist with its published version and every item (codes, texts, answer types, thresholds,
    severity, fine, photo rule, categories). `published_version_detail` is null before the first publish."""
    return ChecklistDetailOut.of(get_object_or_404(visible_checklists(user=request.user), pk=checklist_id))
