"""Reviewing flagged visits, and the inspector's side of a return."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from backend.api_basics import ERRORS, MAX_ID, ErrorOut
from backend.exceptions import PermissionDeniedError
from inspections.api.planning import _require_overseer, flagged_out
from inspections.api.schemas.console import FlaggedVisitOut, ReturnAnswerIn, ReturnedVisitOut, ReviewIn, ReviewOut
from inspections.api.schemas.visits import AmendmentOut, amendment_out
from inspections.models import VisitReview
from inspections.selectors.reviews import _differed_ids, returned_visits, review_queue, visit_flags
from inspections.selectors.scope import scope_for
from inspections.selectors.visits import visible_visits
from inspections.services.reviews import visit_return_answer, visit_review

router = Router(tags=["reviews"])


def _review_out(review: VisitReview) -> ReviewOut:
    return ReviewOut(
        visit_id=review.visit_id,
        status=review.status,
        reason=review.reason,
        flags=review.flags or [],
        decided_at=review.decided_at,
        amendment_id=review.amendment_id,
        answered_at=review.answered_at,
        answer_amendment_id=review.answer_id,
    )


@router.get("reviews", response={200: list[FlaggedVisitOut], **ERRORS})
def reviews_queue(
    request: HttpRequest,
    municipality: int | None = Query(None, ge=1, le=MAX_ID),
    days: int = Query(30, ge=1, le=365),
    limit: int = Query(100, ge=1, le=500),
):
    """Visits that need a supervisor's decision: out of range, impossible travel, unusually short or
    long, or replayed with a different payload (and returned visits the inspector answered)."""
    _require_overseer(request)
    visits, differed = review_queue(user=request.user, municipality_id=municipality, days=days)
    return [flagged_out(visit, differed) for visit in visits[:limit]]


@router.post("visits/{visit_id}/review", response={200: ReviewOut, 409: ErrorOut, **ERRORS})
def visits_review(request: HttpRequest, visit_id: int, payload: ReviewIn):
    """Accept, correct (an amendment with `changes` and a `reason`), or send back to the inspector with
    a `reason` (they are notified, and see the visit as returned in `me/returned-visits`)."""
    visit = get_object_or_404(visible_visits(user=request.user), pk=visit_id)
    review = visit_review(
        actor=request.user,
        visit=visit,
        action=payload.action,
        reason=payload.reason,
        changes=payload.changes,
        flags=visit_flags(visit, differed=_differed_ids()),
    )
    return _review_out(review)


@router.get("me/returned-visits", response={200: list[ReturnedVisitOut], **ERRORS})
def me_returned_visits(request: HttpRequest):
    """The caller's visits that a supervisor sent back and that wait for an answer."""
    if not scope_for(request.user).is_inspector:
        raise PermissionDeniedError(_("Only inspectors have visits returned to them."))
    return [
        ReturnedVisitOut(
            id=visit.pk,
            establishment_id=visit.establishment_id,
            establishment_name=visit.establishment.name_ar,
            finished_at=visit.finished_at,
            reason=visit.review.reason,
            returned_at=visit.review.decided_at,
        )
        for visit in returned_visits(user=request.user)[:200]
    ]


@router.post("visits/{visit_id}/return-answer", response={201: AmendmentOut, 409: ErrorOut, **ERRORS})
def visits_return_answer(request: HttpRequest, visit_id: int, payload: ReturnAnswerIn):
    """The inspector answers a returned visit: stored as an amendment (the visit itself never changes)."""
    visit = get_object_or_404(visible_visits(user=request.user), pk=visit_id)
    amendment = visit_return_answer(inspector=request.user, visit=visit, reason=payload.reason, changes=payload.changes)
    return Status(201, amendment_out(amendment))
