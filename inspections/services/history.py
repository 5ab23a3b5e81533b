"""History import: past inspections from a CSV file, stored as visits marked imported.

The file (UTF-8, BOM or not; a header row; one inspection per row):

- `licence_no` (the establishment's licence number), `date` (YYYY-MM-DD, a day before today in
  Asia/Riyadh), `inspector` (a user's username or full name) are required;
- `checklist` (a checklist code) is needed only when more than one checklist applies to the
  establishment's category; the latest published version of it is used;
- `result` (compliant, violations, closed, refused_entry) and/or one column per checklist item,
  headed by the item's code, with pass, fail or na (blank: not recorded). Without `result` the
  outcome follows the items (violations when one fails); with both they must agree.

Rules:

- Nothing half-written: every row is checked first (`history_validate`); one bad row and the whole
  file is refused with a report of every bad row (row number as the spreadsheet shows it, column,
  reason) and nothing is stored. A good file is written in one transaction (`history_import_run`).
- Imported, with provenance: each visit gets an ImportedVisit row (file name, row number, the
  inspector's name as written, who imported it and when). Its key, the file's SHA-256 and the row
  number, makes a re-import of the same file (under any name) a no-op for rows already stored.
- The past stays the past: no follow-up stop, no notification, no webhook, no overdue finding. A
  failed item opens a finding that is recorded closed: closed by the file's own later visit that
  passes the item (closed_at, closed_by_visit), or closed with no date when the file does not show
  its correction. Analytics, indicators and the establishment's risk score read them as they read
  any visit: the analytics roll-ups are maintained through `inspections.signals.visits_stored` (as
  for the visit sync) and the risk score is recomputed for the establishments touched.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.cache import cache_quietly
from backend.exceptions import ApplicationError
from inspections.models import (
    Answer,
    ChecklistItem,
    ChecklistVersion,
    Establishment,
    Finding,
    HistoryImport,
    ImportedVisit,
    Visit,
)
from inspections.services.audit import audit_record
from inspections.services.findings import establishments_risk_refresh, finding_due_date
from inspections.signals import visits_stored

MAX_ROWS = 200_000
MAX_BYTES = 50 * 2**20
BATCH = 1000
FIXED_COLUMNS = ("licence_no", "date", "inspector", "checklist", "result")
REQUIRED_COLUMNS = ("licence_no", "date", "inspector")
RESULTS = {"compliant", "violations", "closed", "refused_entry"}
ITEM_VALUES = {
    "pass": "pass", "fail": "fail", "na": "na", "n/a": "na",
    "مستوفى": "pass", "مخالف": "fail", "لا ينطبق": "na",
}  # fmt: skip
KEY_NAMESPACE = uuid.UUID("6f1d1c1e-8f38-4c52-9a57-0d1b7e1f6a10")
VISIT_HOUR = time(12, 0)  # the file has a day, not a time: noon, local time
_PROGRESS_KEY = "history_import:{}:processed"


@dataclass
class HistoryProblem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    message: str

    def as_error(self) -> dict:
        return {"loc": ["rows", self.row, self.column], "msg": self.message, "type": "invalid_row"}


@dataclass
class HistoryCheck:
    rows: list[dict] = field(default_factory=list)
    problems: list[HistoryProblem] = field(default_factory=list)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ApplicationError(
            _("The file is larger than %(mb)d MB: split it.") % {"mb": MAX_BYTES // 2**20},
            code="file_too_large",
            status=413,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ApplicationError(
            _("The file is not UTF-8 (byte %(at)d): save it as 'CSV UTF-8'.") % {"at": error.start},
            code="not_utf8",
        ) from error
    if not text.strip():
        raise ApplicationError(_("The file is empty."), code="empty_file")
    return text


def _names_to_users(names: set[str]) -> dict[str, list[int]]:
    """{lower-cased name: [user ids]} for usernames and full names among `names`."""
    users = get_user_model().objects.filter(is_active=True).values_list("id", "username", "first_name", "last_name")
    found: dict[str, list[int]] = defaultdict(list)
    for user_id, username, first, last in users:
        for name in {username.lower(), " ".join(f"{first} {last}".split()).lower()}:
            if name and name in names:
                found[name].append(user_id)
    return found


def _versions_by_checklist() -> tuple[dict[str, ChecklistVersion], dict[int, list[str]], list[str]]:
    """The latest published version of every active checklist by code; the codes of the checklists
    of each category; the codes of checklists without categories (they apply to every category)."""
    latest: dict[str, ChecklistVersion] = {}
    for version in (
        ChecklistVersion.objects.filter(status=ChecklistVersion.Status.PUBLISHED, checklist__is_active=True)
        .select_related("checklist")
        .prefetch_related("checklist__categories")
        .order_by("checklist_id", "number")
    ):
        latest[version.checklist.code] = version
    by_category: dict[int, list[str]] = defaultdict(list)
    everywhere = []
    for code, version in latest.items():
        categories = [category.pk for category in version.checklist.categories.all()]
        for category_id in categories:
            by_category[category_id].append(code)
        if not categories:
            everywhere.append(code)
    return latest, by_category, everywhere


def history_validate(*, data: bytes) -> HistoryCheck:
    """Every row checked against the database; raises ApplicationError for an unreadable file."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader)]
    lowered = [name.lower() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in lowered]
    if missing:
        raise ApplicationError(
            _("Missing column(s): %(missing)s. Required: licence_no, date, inspector; then result and/or item codes.")
            % {"missing": ", ".join(missing)},
            code="missing_columns",
        )
    if len(set(lowered)) != len(lowered):
        raise ApplicationError(_("A column appears twice in the header."), code="duplicate_columns")
    fixed = {name: lowered.index(name) for name in FIXED_COLUMNS if name in lowered}
    item_columns = [(index, name) for index, name in enumerate(header) if name.lower() not in FIXED_COLUMNS]
    if "result" not in fixed and not item_columns:
        raise ApplicationError(_("The file has neither a result column nor item columns."), code="missing_columns")

    raw = []
    for line, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        raw.append((line, values))
        if len(raw) > MAX_ROWS:
            raise ApplicationError(
                _("More than %(max)d rows: split the file.") % {"max": MAX_ROWS}, code="too_many_rows"
            )
    if not raw:
        raise ApplicationError(_("The file has a header and no rows."), code="empty_file")

    def cell(values, name):
        index = fixed.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    licences = {cell(values, "licence_no") for _line, values in raw}
    establishments = {
        e.licence_no: e
        for e in Establishment.objects.filter(licence_no__in=licences).only(
            "id", "licence_no", "category_id", "municipality_id"
        )
    }
    users = _names_to_users({" ".join(cell(values, "inspector").split()).lower() for _line, values in raw})
    latest, by_category, everywhere = _versions_by_checklist()
    items_of: dict[int, dict[str, ChecklistItem]] = {}
    today = timezone.localdate()
    check = HistoryCheck()

    for line, values in raw:
        problems = []

        def problem(column: str, message: str, problems=problems, line=line) -> None:
            problems.append(HistoryProblem(line, column, message))

        if len(values) > len(header):
            problem("", _("The row has more cells than the header."))
        establishment = establishments.get(cell(values, "licence_no"))
        if establishment is None:
            problem("licence_no", _("No establishment has this licence number."))
        day = None
        try:
            day = date.fromisoformat(cell(values, "date"))
        except ValueError:
            problem("date", _("Not a date: write YYYY-MM-DD."))
        else:
            if day >= today:
                problem("date", _("Not in the past: history stops yesterday."))
            elif day.year < 1990:
                problem("date", _("Before 1990."))
        name = " ".join(cell(values, "inspector").split())
        inspector_ids = users.get(name.lower(), [])
        if not name:
            problem("inspector", _("The inspector is missing."))
        elif not inspector_ids:
            problem("inspector", _("No user has this username or full name."))
        elif len(inspector_ids) > 1:
            problem("inspector", _("Several users have this name: use the username."))

        version = None
        code = cell(values, "checklist")
        if code:
            version = latest.get(code)
            if version is None:
                problem("checklist", _("No published checklist has this code."))
        elif establishment is not None:
            candidates = by_category.get(establishment.category_id) or everywhere
            if len(candidates) == 1:
                version = latest[candidates[0]]
            else:
                problem("checklist", _("Name the checklist: %(n)d apply to this category.") % {"n": len(candidates)})

        results: dict[str, str] = {}
        for index, item_code in item_columns:
            value = values[index].strip().lower() if index < len(values) else ""
            if not value:
                continue
            normalised = ITEM_VALUES.get(value)
            if normalised is None:
                problem(item_code, _("Write pass, fail or na."))
                continue
            results[item_code] = normalised
        if version is not None and results:
            if version.pk not in items_of:
                items_of[version.pk] = {item.code: item for item in version.items.all()}
            for item_code in results:
                if item_code not in items_of[version.pk]:
                    problem(item_code, _("The checklist has no item with this code."))

        result = cell(values, "result").lower()
        failed = sum(1 for value in results.values() if value == "fail")
        if result and result not in RESULTS:
            problem("result", _("Write compliant, violations, closed or refused_entry."))
        elif not result and not results:
            problem("result", _("Neither a result nor any item result."))
        elif result == "compliant" and failed:
            problem("result", _("Compliant, but an item failed."))
        elif result in {"closed", "refused_entry"} and results:
            problem("result", _("No item results for a visit that was not carried out."))
        outcome = result or ("violations" if failed else "compliant")

        if problems:
            check.problems.extend(problems)
            continue
        check.rows.append(
            {
                "row": line,
                "establishment_id": establishment.pk,
                "inspector_id": inspector_ids[0],
                "inspector_name": name,
                "version_id": version.pk,
                "day": day.isoformat(),
                "outcome": outcome,
                "items": results,
            }
        )
    return check


def history_import_submit(*, actor, data: bytes, file_name: str) -> HistoryImport:
    """Check the whole file; refuse it (ApplicationError 422 with every bad row) or queue its import."""
    check = history_validate(data=data)
    if check.problems:
        raise ApplicationError(
            _("%(n)d row(s) are invalid: nothing was imported.") % {"n": len({p.row for p in check.problems})},
            code="invalid_rows",
            status=422,
            extra={"errors": [problem.as_error() for problem in check.problems]},
        )
    job = HistoryImport.objects.create(
        file_name=file_name[:255],
        file_sha256=file_sha256(data),
        imported_by=actor,
        total=len(check.rows),
        rows=check.rows,
    )
    return job


def history_progress(job: HistoryImport) -> int:
    """Rows processed: the running task's count from the cache (its transaction is not visible yet)."""
    if job.status != HistoryImport.Status.RUNNING:
        return job.processed
    found = cache_quietly(lambda: cache.get(_PROGRESS_KEY.format(job.pk)), None)
    return max(job.processed, found or 0)


def _finished_at(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), VISIT_HOUR, tzinfo=ZoneInfo(settings.TIME_ZONE))


def history_import_run(*, import_id: int) -> HistoryImport:
    """Write a queued import in one transaction (a second run of a finished import does nothing)."""
    try:
        with transaction.atomic():
            job = HistoryImport.objects.select_for_update().get(pk=import_id)
            if job.status in {HistoryImport.Status.DONE, HistoryImport.Status.FAILED}:
                return job
            HistoryImport.objects.filter(pk=job.pk).update(status=HistoryImport.Status.RUNNING)
            job.status = HistoryImport.Status.RUNNING
            _write(job)
            return job
    except Exception as error:
        HistoryImport.objects.filter(pk=import_id).exclude(status=HistoryImport.Status.DONE).update(
            status=HistoryImport.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise


def _write(job: HistoryImport) -> None:
    now = timezone.now()
    rows = sorted(job.rows, key=lambda row: row["row"])
    keys = {row["row"]: f"{job.file_sha256}:{row['row']}" for row in rows}
    existing: dict[str, int] = {}
    key_list = list(keys.values())
    for start in range(0, len(key_list), 500):
        existing.update(
            ImportedVisit.objects.filter(key__in=key_list[start : start + 500]).values_list("key", "visit_id")
        )
    report = []
    new_rows = []
    for row in rows:
        visit_id = existing.get(keys[row["row"]])
        if visit_id is not None:
            report.append({"row": row["row"], "status": "duplicate", "visit_id": visit_id})
        else:
            new_rows.append(row)

    establishments = {
        e["id"]: e
        for e in Establishment.objects.filter(id__in={row["establishment_id"] for row in new_rows}).values(
            "id", "municipality_id", "category_id", "h3_r5", "h3_r6", "h3_r7", "h3_r8", "h3_r9"
        )
    }
    items: dict[int, dict[str, ChecklistItem]] = {}
    for item in ChecklistItem.objects.filter(version_id__in={row["version_id"] for row in new_rows}):
        items.setdefault(item.version_id, {})[item.code] = item

    visit_ids: dict[int, int] = {}  # row -> visit id
    answers: dict[tuple[int, str], Answer] = {}
    for start in range(0, len(new_rows), BATCH):
        batch = new_rows[start : start + BATCH]
        visits = []
        for row in batch:
            establishment = establishments[row["establishment_id"]]
            finished = _finished_at(row["day"])
            failed = sum(1 for value in row["items"].values() if value == "fail")
            count = failed or (1 if row["outcome"] == Visit.Outcome.VIOLATIONS else 0)
            visits.append(
                Visit(
                    client_id=uuid.uuid5(KEY_NAMESPACE, keys[row["row"]]),
                    establishment_id=row["establishment_id"],
                    inspector_id=row["inspector_id"],
                    checklist_version_id=row["version_id"],
                    municipality_id=establishment["municipality_id"],
                    category_id=establishment["category_id"],
                    started_at=finished,
                    finished_at=finished,
                    received_at=now,
                    outcome=row["outcome"],
                    geo_status=Visit.GeoStatus.NO_FIX,
                    has_violation=count > 0,
                    violation_count=count,
                    **{f"h3_r{r}": establishment[f"h3_r{r}"] for r in range(5, 10)},
                )
            )
        Visit.objects.bulk_create(visits)
        new_answers = []
        for row, visit in zip(batch, visits, strict=True):
            visit_ids[row["row"]] = visit.pk
            for code, value in row["items"].items():
                item = items[row["version_id"]][code]
                stored = {"pass": "yes", "fail": "no", "na": "na"}[value]
                if item.answer_type != ChecklistItem.AnswerType.YES_NO_NA and value != "na":
                    stored = None  # a number or a choice that the file only judged pass or fail
                answer = Answer(visit=visit, item=item, item_code=code, value=stored, failed=value == "fail")
                answers[(row["row"], code)] = answer
                new_answers.append(answer)
        Answer.objects.bulk_create(new_answers)
        ImportedVisit.objects.bulk_create(
            ImportedVisit(
                visit_id=visit.pk,
                history_import=job,
                key=keys[row["row"]],
                source_file=job.file_name,
                row_number=row["row"],
                inspector_name=row["inspector_name"][:150],
                imported_by_id=job.imported_by_id,
                imported_at=now,
            )
            for row, visit in zip(batch, visits, strict=True)
        )
        done = len(report) + start + len(batch)
        cache_quietly(lambda done=done: cache.set(_PROGRESS_KEY.format(job.pk), done, 3600), None)

    # The analytics roll-ups add the imported visits and answers in this transaction (bulk_create sends
    # no model signal; this is the signal the visit sync sends after its bulk insert).
    visits_stored.send(sender=Visit, visit_ids=sorted(visit_ids.values()))
    findings = _historical_findings(new_rows, visit_ids, answers, items, establishments)
    Finding.objects.bulk_create(findings)
    touched = {row["establishment_id"] for row in new_rows}
    if touched:
        establishments_risk_refresh(establishment_ids=touched, now=now)
    for row in new_rows:
        report.append({"row": row["row"], "status": "imported", "visit_id": visit_ids[row["row"]]})
    report.sort(key=lambda entry: entry["row"])
    audit_record(
        actor=job.imported_by,
        action="history.imported",
        target=job,
        details={"file": job.file_name, "sha256": job.file_sha256, "imported": len(new_rows),
                 "duplicates": len(rows) - len(new_rows), "findings": len(findings)},
    )  # fmt: skip
    job.status = HistoryImport.Status.DONE
    job.processed = len(rows)
    job.imported = len(new_rows)
    job.duplicates = len(rows) - len(new_rows)
    job.report = report
    job.rows = []  # written: the report and the visits keep what matters
    job.finished_at = timezone.now()
    job.save()


def _historical_findings(new_rows, visit_ids, answers, items, establishments) -> list[Finding]:
    """Findings of the imported visits, in the order the visits happened, all recorded closed: a
    later imported visit passing the item closes the finding then; otherwise it is closed undated."""
    open_now: dict[tuple[int, str], Finding] = {}
    findings = []
    for row in sorted(new_rows, key=lambda row: (row["day"], row["row"])):
        finished = _finished_at(row["day"])
        visit_id = visit_ids[row["row"]]
        establishment_id = row["establishment_id"]
        for code, value in row["items"].items():
            key = (establishment_id, code)
            current = open_now.get(key)
            if value == "fail":
                if current is not None and current.opened_at < finished:
                    current.repeat_count += 1
                    current.last_seen_visit_id = visit_id
                    continue
                item = items[row["version_id"]][code]
                finding = Finding(
                    visit_id=visit_id,
                    answer=answers[(row["row"], code)],
                    establishment_id=establishment_id,
                    municipality_id=establishments[establishment_id]["municipality_id"],
                    item_code=code,
                    severity=item.severity,
                    fine_sar=item.fine_sar,
                    due_date=finding_due_date(severity=item.severity, finished_at=finished),
                    status=Finding.Status.CLOSED,
                    opened_at=finished,
                    closed_at=None,
                )
                findings.append(finding)
                open_now[key] = finding
            elif value == "pass" and current is not None and current.opened_at < finished:
                current.closed_at = finished
                current.closed_by_visit_id = visit_id
                del open_now[key]
    return findings
