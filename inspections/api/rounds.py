"""Rounds: planning by supervisors (POST, PATCH), scoped reads, and the inspector's delta sync."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from backend.api_basics import ERRORS, IsoCursor, IsoDate, MappedList, Page
from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.api.schemas.rounds import MeRoundsOut, RoundIn, RoundOut, RoundPatch, RoundSummaryOut
from inspections.models import Round
from inspections.selectors.rounds import my_rounds_delta, round_list, version_ids_for, visible_rounds
from inspections.selectors.scope import scope_for
from inspections.services.rounds import RoundChange, round_create, round_update

router = Router(tags=["rounds"])
RoundStatus = Round.Status


def _round_out(request: HttpRequest, round_id: int) -> RoundOut:
    round = get_object_or_404(visible_rounds(user=request.user), pk=round_id)
    return RoundOut.of(round, version_ids_for([round]))


@router.post("rounds", response={201: RoundOut, **ERRORS})
def rounds_create(request: HttpRequest, payload: RoundIn):
    """Plan a round (supervisors, within their municipalities). With `optimize_route` (default) the stops
    are ordered by a short tour on geodesic distances (nearest neighbour + 2-opt); `tour_length_m` is
    the length of the path through the stops in their final order."""
    round = round_create(
        actor=request.user,
        inspector_id=payload.inspector_id,
        date=payload.date,
        checklist_id=payload.checklist_id,
        establishment_ids=payload.establishment_ids,
        optimize_route=payload.optimize_route,
        notes=payload.notes,
    )
    return Status(201, _round_out(request, round.pk))


@router.get("rounds", response={200: list[RoundSummaryOut], **ERRORS})
@paginate(Page)
def rounds_list(
    request: HttpRequest,
    date: IsoDate | None = None,
    date_from: IsoDate | None = None,
    date_to: IsoDate | None = None,
    inspector: int | None = Query(None, ge=1, le=2**63 - 1, description="Inspector user id"),
    status: RoundStatus | None = None,
    municipality: int | None = Query(None, ge=1, le=2**63 - 1),
):
    """Rounds in the caller's scope (an inspector sees their own), newest date first."""
    rounds = round_list(
        user=request.user,
        date=date,
        date_from=date_from,
        date_to=date_to,
        inspector_id=inspector,
        status=status,
        municipality_id=municipality,
    )
    return MappedList(rounds, page_mapper=_round_summaries)


def _round_summaries(page: list[Round]) -> list[RoundSummaryOut]:
    version_ids = version_ids_for(page)
    return [RoundSummaryOut.of(round, version_ids) for round in page]


@router.get("rounds/{round_id}", response={200: RoundOut, **ERRORS})
def rounds_detail(request: HttpRequest, round_id: int):
    """One round with its stops in route order."""
    return _round_out(request, round_id)


@router.patch("rounds/{round_id}", response={200: RoundOut, **ERRORS})
def rounds_update(request: HttpRequest, round_id: int, payload: RoundPatch):
    """Reassign (`inspector_id`), reorder (`stop_ids`, a permutation of the current stops), add stops
    (`add_establishment_ids`, placed where they lengthen the path least), remove pending stops
    (`remove_stop_ids`), re-optimise (`optimize_route`) or cancel (`status: "cancelled"`, alone).
    Only planned and in-progress rounds change."""
    get_object_or_404(visible_rounds(user=request.user), pk=round_id)
    round_update(
        actor=request.user,
        round_id=round_id,
        change=RoundChange(
            inspector_id=payload.inspector_id,
            stop_ids=payload.stop_ids,
            add_establishment_ids=payload.add_establishment_ids,
            remove_stop_ids=payload.remove_stop_ids,
            optimize_route=payload.optimize_route,
            cancel=payload.status == RoundStatus.CANCELLED,
            notes=payload.notes,
        ),
    )
    return _round_out(request, round_id)


@router.get("me/rounds", response={200: MeRoundsOut, **ERRORS})
def me_rounds(
    request: HttpRequest,
    updated_since: IsoCursor | None = None,
):
    """The inspector's delta sync. Without `updated_since`: the current set (rounds from a week ago on,
    not cancelled). With it: every round of yours created, changed or cancelled since then, and the ids
    of rounds reassigned away from you. Rounds may repeat across syncs (upsert by id); none are missed.
    Keep the returned `cursor` for the next call."""
    if not scope_for(request.user).is_inspector:
        raise PermissionDeniedError(_("Only inspectors have rounds to sync."))
    if updated_since is not None and updated_since.tzinfo is None:
        raise ApplicationError(
            _("updated_since must carry a time zone (use the cursor as returned)."), code="naive_datetime"
        )
    cursor, rounds, removed = my_rounds_delta(user=request.user, updated_since=updated_since)
    version_ids = version_ids_for(rounds)
    return MeRoundsOut(
        cursor=cursor,
        server_time=cursor,
        full=updated_since is None,
        rounds=[RoundOut.of(round, version_ids) for round in rounds],
        removed_round_ids=removed,
    )
