"""Reviewing flagged visits: accept, correct through an amendment, or send back to the inspector with
a reason (a notification; the visit shows as returned to the phone). The inspector's answer to a
return is stored as an amendment too: a submitted visit is never edited.

What flags a visit is decided in one place, `visit_flags` (selectors/reviews.py).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.alerts.policy import notify_visit_returned
from inspections.models import Membership, Visit, VisitAmendment, VisitReview
from inspections.selectors.scope import scope_for
from inspections.services.amendments import visit_amend
from inspections.services.audit import audit_record

ACCEPT = "accept"
CORRECT = "correct"
SEND_BACK = "send_back"


def _require_reviewer(actor, visit: Visit) -> None:
    scope = scope_for(actor)
    if not scope.has_role(Membership.Role.SUPERVISOR) or not scope.covers(visit.municipality_id):
        raise PermissionDeniedError(_("Only a supervisor of the visit's municipality reviews it."))


@transaction.atomic
def visit_review(*, actor, visit: Visit, action: str, reason: str = "", changes=None, flags=()) -> VisitReview:
    """Decide on a visit (the caller fetched it through scope). A visit is decided once, except that a
    returned visit the inspector answered is decided again."""
    _require_reviewer(actor, visit)
    visit = (  # the visit row only, not its establishment and inspector through the join
        Visit.objects.select_for_update(of=("self",)).select_related("establishment", "inspector").get(pk=visit.pk)
    )
    review = VisitReview.objects.filter(visit=visit).first()
    if review is not None and review.status != VisitReview.Status.ANSWERED:
        raise ApplicationError(
            _("This visit was already reviewed (%(status)s).") % {"status": review.get_status_display()},
            code="already_reviewed",
            status=409,
        )
    if action in (SEND_BACK, CORRECT) and not reason.strip():
        raise ApplicationError(_("Give a reason."), code="reason_required", status=422)
    amendment = None
    if action == CORRECT:
        if changes is None:
            raise ApplicationError(_("A correction needs changes."), code="empty_amendment", status=422)
        amendment = visit_amend(author=actor, visit=visit, reason=reason, changes=changes)
    status = {
        ACCEPT: VisitReview.Status.ACCEPTED,
        CORRECT: VisitReview.Status.CORRECTED,
        SEND_BACK: VisitReview.Status.RETURNED,
    }[action]
    now = timezone.now()
    if review is None:
        try:
            with transaction.atomic():
                review = VisitReview.objects.create(
                    visit=visit,
                    status=status,
                    flags=list(flags),
                    reason=reason,
                    reviewer=actor,
                    decided_at=now,
                    amendment=amendment,
                )
        except IntegrityError as error:  # a concurrent decision won
            raise ApplicationError(
                _("This visit was already reviewed."), code="already_reviewed", status=409
            ) from error
    else:
        review.status = status
        review.reason = reason
        review.reviewer = actor
        review.decided_at = now
        review.amendment = amendment
        review.flags = list(flags) or review.flags
        review.save()
    audit_record(
        actor=actor,
        action=f"visit.review_{action}",
        target=visit,
        municipality_id=visit.municipality_id,
        details={"reason": reason, "flags": list(flags)},
    )
    if action == SEND_BACK:
        notify_visit_returned(visit=visit, reason=reason, at=now)
    return review


@transaction.atomic
def visit_return_answer(*, inspector, visit: Visit, reason: str, changes) -> VisitAmendment:
    """The inspector's answer to a returned visit: an amendment authored by them (the visit is untouched);
    the visit goes back to the review queue."""
    if visit.inspector_id != inspector.pk:
        raise PermissionDeniedError(_("Only the visit's inspector answers its return."))
    review = VisitReview.objects.select_for_update().filter(visit=visit).first()
    if review is None or review.status != VisitReview.Status.RETURNED:
        raise ApplicationError(_("This visit was not returned to you."), code="not_returned", status=409)
    amendment = _amendment_by_inspector(inspector=inspector, visit=visit, reason=reason, changes=changes)
    review.status = VisitReview.Status.ANSWERED
    review.answered_at = timezone.now()
    review.answer = amendment
    review.save(update_fields=["status", "answered_at", "answer"])
    return amendment


def _amendment_by_inspector(*, inspector, visit: Visit, reason: str, changes) -> VisitAmendment:
    recorded: dict = {}
    if changes is not None:
        if changes.outcome is not None and changes.outcome != visit.outcome:
            recorded["outcome"] = {"from": visit.outcome, "to": changes.outcome}
        if changes.notes is not None and changes.notes != visit.notes:
            recorded["notes"] = {"from": visit.notes, "to": changes.notes}
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), code="reason_required", status=422)
    amendment = VisitAmendment.objects.create(
        visit=visit, author=inspector, reason=reason, changes=recorded or {"explanation": True}
    )
    audit_record(
        actor=inspector,
        action="visit.return_answered",
        target=visit,
        municipality_id=visit.municipality_id,
        details={"amendment_id": amendment.pk},
    )
    return amendment
