"""Rounds, one module per job:

- `commands`: planning commands (create, change, cancel a round);
- `status`: the status lifecycle that follows the visits, and the end-of-day close;
- `follow_ups`: the follow-up scheduler (a visit with open findings gets a follow-up stop);
- `common`: the limits and scope checks they share.

Callers import the public names from here.
"""

from inspections.domain.calendar import RIYADH, WEEKEND, next_working_day, riyadh_today
from inspections.services.rounds.commands import RoundChange, round_create, round_update
from inspections.services.rounds.common import ACTIVE_STOP_STATUSES, MAX_STOPS, OPEN_STATUSES, round_metres
from inspections.services.rounds.follow_ups import FOLLOW_UP_ROUND_MAX_STOPS, follow_up_schedule, follow_ups_schedule
from inspections.services.rounds.status import (
    round_refresh_status,
    rounds_close_day,
    rounds_day_close,
    status_from_stops,
)

__all__ = [
    "ACTIVE_STOP_STATUSES",
    "FOLLOW_UP_ROUND_MAX_STOPS",
    "MAX_STOPS",
    "OPEN_STATUSES",
    "RIYADH",
    "WEEKEND",
    "RoundChange",
    "follow_up_schedule",
    "follow_ups_schedule",
    "next_working_day",
    "riyadh_today",
    "round_create",
    "round_metres",
    "round_refresh_status",
    "round_update",
    "rounds_close_day",
    "rounds_day_close",
    "status_from_stops",
]
