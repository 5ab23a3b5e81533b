"""Round reads: scoped lists and details, and the inspector's delta sync.

Scope: supervisors, leadership and admins see the rounds of their municipalities; an inspector sees
only their own rounds.

Delta-sync cursor contract (`GET me/rounds?updated_since=`)
-----------------------------------------------------------
* The cursor is a server timestamp `T` read *before* the query runs.
* A sync with cursor `C` returns every round of the inspector whose `updated_at` is later than
  `C - ROUNDS_SYNC_OVERLAP_SECONDS` (default 300 s), and the ids of rounds reassigned away from the
  inspector in the same window.
* `updated_at` is written by the server (Python clock, inside the writing transaction), so a round
  changed by a transaction that began before `T` but committed after the query is invisible to that
  sync even though its `updated_at` < T. The overlap window catches it on the next sync, provided
  writing transactions last less than the window (round writes take milliseconds) and the
  application servers' clocks agree within it.
* Rounds may therefore come again; the phone upserts by `id` (and may skip a round whose `updated_at`
  it already holds). Nothing is missed, some things are repeated: that is the trade.
"""

from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from inspections.domain.calendar import riyadh_today
from inspections.models import AuditEvent, Round, RoundStop
from inspections.selectors.checklists import published_version_ids
from inspections.selectors.scope import scope_for, visible_to

DEFAULT_SYNC_OVERLAP_SECONDS = 300
FIRST_SYNC_DAYS_BACK = 7
# Any cursor older than this asks for everything; clamping keeps `cursor - overlap` in range.
OLDEST_CURSOR = datetime(2000, 1, 1, tzinfo=UTC)


# What a round answer shows of its stops (api/schemas/rounds.py StopOut): loading only these columns keeps the
# phone's delta sync, the hottest read, cheap to build and to transfer.
STOP_FIELDS = ("id", "round_id", "establishment_id", "position", "status", "is_follow_up", "updated_at")
STOP_ESTABLISHMENT_FIELDS = ("name_ar", "name_en", "licence_no", "address", "lat", "lon", "category__code")


def _with_stops(rounds: QuerySet[Round]) -> QuerySet[Round]:
    stops = (
        RoundStop.objects.select_related("establishment__category")
        .only(*STOP_FIELDS, *(f"establishment__{name}" for name in STOP_ESTABLISHMENT_FIELDS))
        .order_by("position", "id")
    )
    return rounds.select_related("inspector").prefetch_related(Prefetch("stops", queryset=stops))


def visible_rounds(*, user) -> QuerySet[Round]:
    """Rounds the user may see (a 404 for the others)."""
    scope = scope_for(user)
    rounds = visible_to(Round.objects.all(), user=user)
    if scope.is_inspector:
        rounds = rounds.filter(inspector=user, is_draft=False)  # a drafted week is the supervisor's until published
    return _with_stops(rounds)


def round_list(
    *,
    user,
    date: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    inspector_id: int | None = None,
    status: str | None = None,
    municipality_id: int | None = None,
) -> QuerySet[Round]:
    rounds = visible_rounds(user=user)
    if date is not None:
        rounds = rounds.filter(date=date)
    if date_from is not None:
        rounds = rounds.filter(date__gte=date_from)
    if date_to is not None:
        rounds = rounds.filter(date__lte=date_to)
    if inspector_id is not None:
        rounds = rounds.filter(inspector_id=inspector_id)
    if status is not None:
        rounds = rounds.filter(status=status)
    if municipality_id is not None:
        rounds = rounds.filter(municipality_id=municipality_id)
    return rounds.order_by("-date", "id")


def version_ids_for(rounds) -> dict[int, int]:
    """checklist id → published version id, for a page of rounds (one query)."""
    return published_version_ids(checklist_ids=sorted({round.checklist_id for round in rounds}))


def sync_overlap() -> timedelta:
    return timedelta(seconds=getattr(settings, "ROUNDS_SYNC_OVERLAP_SECONDS", DEFAULT_SYNC_OVERLAP_SECONDS))


def _clamped(updated_since: datetime, *, now: datetime) -> datetime:
    """The cursor in UTC, within [OLDEST_CURSOR, now]: a cursor from the future (another server's clock,
    or a forged one) is read as "now", which can only return more, never less."""
    try:
        since = updated_since.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59+16:04 does not fit once converted
        since = OLDEST_CURSOR if updated_since.year < 2000 else now
    return min(max(since, OLDEST_CURSOR), now)


def my_rounds_delta(*, user, updated_since: datetime | None) -> tuple[datetime, list[Round], list[int]]:
    """The inspector's delta sync: (new cursor, rounds changed since the cursor, ids reassigned away).

    Without a cursor: the full current set, i.e. the inspector's rounds dated from a week ago on,
    except cancelled ones (the phone has nothing to delete yet).
    """
    cursor = timezone.now()  # read BEFORE the queries: see the module docstring
    mine = visible_to(Round.objects.filter(inspector=user, is_draft=False), user=user)
    if updated_since is None:
        today = riyadh_today()
        rounds = mine.filter(date__gte=today - timedelta(days=FIRST_SYNC_DAYS_BACK)).exclude(
            status=Round.Status.CANCELLED
        )
        removed: list[int] = []
    else:
        since = _clamped(updated_since, now=cursor) - sync_overlap()
        rounds = mine.filter(updated_at__gt=since)
        reassigned_away = AuditEvent.objects.filter(
            action="round.reassigned",
            object_type=Round._meta.label_lower,
            at__gt=since,
            details__from_inspector_id=user.pk,
        ).values_list("object_id", flat=True)
        away = {int(pk) for pk in reassigned_away}
        if away:
            away -= set(Round.objects.filter(pk__in=away, inspector=user).values_list("pk", flat=True))
        removed = sorted(away)
    return cursor, list(_with_stops(rounds).order_by("date", "id")), removed
