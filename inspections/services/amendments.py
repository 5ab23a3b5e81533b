"""Amendments: a supervisor's correction of a stored visit. The visit row is never updated; the
amendment records who, when, why and what (`{"field": {"from": ..., "to": ...}}`, answers by
item code), and an AuditEvent "visit.amended" is written in the same transaction. Readers show
the original values and, beside them, the effective outcome (see selectors.visits.effective_outcome).
"""

from django.db import transaction
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.domain.answers import answer_failed
from inspections.models import ChecklistItem, Membership, Visit, VisitAmendment
from inspections.selectors.scope import scope_for
from inspections.services.audit import audit_record
from inspections.services.inputs import AmendmentChangesIn


@transaction.atomic
def visit_amend(*, author, visit: Visit, reason: str, changes: AmendmentChangesIn) -> VisitAmendment:
    """Record a correction of `visit` by a supervisor in scope (the caller fetched `visit` through scope)."""
    scope = scope_for(author)
    if not scope.has_role(Membership.Role.SUPERVISOR) or not scope.covers(visit.municipality_id):
        raise PermissionDeniedError(_("Only a supervisor of the visit's municipality may amend it."))

    recorded: dict = {}
    errors: list[dict] = []
    if changes.outcome is not None and changes.outcome != visit.outcome:
        recorded["outcome"] = {"from": visit.outcome, "to": changes.outcome}
    if changes.notes is not None and changes.notes != visit.notes:
        recorded["notes"] = {"from": visit.notes, "to": changes.notes}
    if changes.answers:
        answers = {answer.item_code: answer for answer in visit.answers.all()}
        items = {item.code: item for item in ChecklistItem.objects.filter(version_id=visit.checklist_version_id)}
        answer_changes = {}
        for code, value in sorted(changes.answers.items()):
            item = items.get(code)
            if item is None:
                errors.append(
                    {"loc": ["changes", "answers", code], "msg": _("Unknown item code."), "type": "unknown_item"}
                )
                continue
            failed = answer_failed(item, value)
            if failed is None:
                errors.append(
                    {
                        "loc": ["changes", "answers", code],
                        "msg": _("The value does not fit the item's answer type."),
                        "type": "invalid_value",
                    }
                )
                continue
            previous = answers[code].value if code in answers else None
            if previous != value:
                answer_changes[code] = {"from": previous, "to": value, "failed": failed}
        if answer_changes:
            recorded["answers"] = answer_changes
    if errors:
        raise ApplicationError(
            _("The amendment is invalid."), code="invalid_amendment", status=422, extra={"errors": errors}
        )
    if not recorded:
        raise ApplicationError(_("The amendment changes nothing."), code="empty_amendment", status=422)

    amendment = VisitAmendment.objects.create(visit=visit, author=author, reason=reason, changes=recorded)
    audit_record(
        actor=author,
        action="visit.amended",
        target=visit,
        municipality_id=visit.municipality_id,
        details={"amendment_id": amendment.pk, "reason": reason, "fields": sorted(recorded)},
    )
    return amendment
