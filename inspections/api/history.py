"""History import for administrators: upload a CSV of past inspections, follow its progress, read
its per-row report. The file is checked whole before anything is stored (a bad row: 422 with every
bad row and column, nothing written); a good file is queued and written by a task in one transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from backend.api_basics import ERRORS
from backend.exceptions import PermissionDeniedError
from inspections.models import HistoryImport
from inspections.selectors.scope import scope_for
from inspections.services.history import history_import_submit, history_progress

router = Router(tags=["history import"])


class HistoryRowOut(Schema):
    row: int
    status: str = Field(description="imported, or duplicate (already imported from this file)")
    visit_id: int


class HistoryImportOut(Schema):
    id: int
    file_name: str
    status: str = Field(description="queued, running, done or failed")
    total: int
    processed: int = Field(description="rows written so far (poll this for a progress bar)")
    imported: int
    duplicates: int
    created_at: datetime
    finished_at: datetime | None
    error: str
    report: list[HistoryRowOut]

    @classmethod
    def of(cls, job: HistoryImport) -> HistoryImportOut:
        return cls(
            id=job.pk,
            file_name=job.file_name,
            status=job.status,
            total=job.total,
            processed=history_progress(job),
            imported=job.imported,
            duplicates=job.duplicates,
            created_at=job.created_at,
            finished_at=job.finished_at,
            error=job.error,
            report=job.report,
        )


def _require_admin(request: HttpRequest) -> None:
    if not scope_for(request.user).is_admin:
        raise PermissionDeniedError(_("Only administrators import history."))


@router.post("history-imports", response={202: HistoryImportOut, 413: ERRORS[400], **ERRORS})
def history_import_create(request: HttpRequest, file: File[UploadedFile]):
    """Upload a CSV of past inspections (columns in inspections/services/history.py). Every row is
    checked first: one bad row and nothing is imported (422, `errors` lists row, column and reason)."""
    _require_admin(request)
    data = file.read()
    job = history_import_submit(actor=request.user, data=data, file_name=file.name or "history.csv")
    from inspections.tasks import history_import

    transaction.on_commit(lambda: history_import.delay(job.pk))
    job.refresh_from_db()
    return Status(202, HistoryImportOut.of(job))


@router.get("history-imports/{import_id}", response={200: HistoryImportOut, **ERRORS})
def history_import_detail(request: HttpRequest, import_id: int):
    """An import's progress (`processed` of `total`) and, once done, its per-row report."""
    _require_admin(request)
    return HistoryImportOut.of(get_object_or_404(HistoryImport, pk=import_id))
