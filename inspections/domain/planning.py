"""Planning a week, pure: which due establishments fit, split into compact groups of balanced size
(one per inspector and day), and which day each group goes on. No ORM; unit-tested without a database.

Groups come from recursive coordinate bisection: the candidates are sorted along the longer axis
of their bounding box (longitude scaled by cos(latitude), so in metres) and cut where the slots'
capacities say, then each half again. Every group is therefore a compact patch of the map, and
each slot receives a share proportional to its capacity (loads within one stop of each other when
capacities are equal). Groups are then put on days by their most urgent deadline (a follow-up due
on Monday goes on Sunday or Monday when a slot is left).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Candidate:
    """An establishment the week could visit. Higher `priority` is planned first; `deadline` is the
    last day a follow-up may happen (None: any day of the week)."""

    id: int
    lat: float
    lon: float
    priority: float
    deadline: date | None = None
    follow_up: bool = False


@dataclass(frozen=True)
class Slot:
    inspector_id: int
    day: date
    capacity: int


@dataclass
class Allocation:
    groups: dict[tuple[int, date], list[Candidate]]  # (inspector id, day) -> stops, unordered
    unplanned: list[Candidate]  # due, but beyond the week's capacity


def select(candidates: Sequence[Candidate], capacity: int) -> tuple[list[Candidate], list[Candidate]]:
    """The `capacity` most urgent candidates: follow-ups first (earliest deadline), then by priority."""
    ranked = sorted(
        candidates,
        key=lambda c: (not c.follow_up, c.deadline or date.max, -c.priority, c.id),
    )
    return ranked[:capacity], ranked[capacity:]


def _metres_xy(candidate: Candidate, cos_lat: float) -> tuple[float, float]:
    return candidate.lon * cos_lat, candidate.lat


def _split_sizes(total: int, capacities: Sequence[int]) -> list[int]:
    """`total` spread over the capacities in proportion (largest remainder), never above a capacity."""
    room = sum(capacities)
    if room == 0:
        return [0] * len(capacities)
    exact = [total * c / room for c in capacities]
    sizes = [min(int(math.floor(x)), c) for x, c in zip(exact, capacities, strict=True)]
    order = sorted(range(len(capacities)), key=lambda i: (-(exact[i] - sizes[i]), i))
    left = total - sum(sizes)
    while left > 0:
        progressed = False
        for i in order:
            if left and sizes[i] < capacities[i]:
                sizes[i] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    return sizes


def bisect(points: list[Candidate], sizes: list[int], cos_lat: float) -> list[list[Candidate]]:
    """Cut `points` into len(sizes) compact groups of exactly those sizes (sum(sizes) == len(points))."""
    if len(sizes) == 1:
        return [points]
    half = len(sizes) // 2
    left_size = sum(sizes[:half])
    xs = [_metres_xy(p, cos_lat) for p in points]
    if points:
        spread_x = max(x for x, _ in xs) - min(x for x, _ in xs)
        spread_y = max(y for _, y in xs) - min(y for _, y in xs)
        axis = 0 if spread_x >= spread_y else 1
        order = sorted(range(len(points)), key=lambda i: (xs[i][axis], xs[i][1 - axis], points[i].id))
        points = [points[i] for i in order]
    return bisect(points[:left_size], sizes[:half], cos_lat) + bisect(points[left_size:], sizes[half:], cos_lat)


def allocate(candidates: Sequence[Candidate], slots: Sequence[Slot]) -> Allocation:
    """Select what fits, cut it into one compact group per slot, and put urgent groups on early days."""
    slots = [slot for slot in slots if slot.capacity > 0]
    chosen, unplanned = select(candidates, sum(slot.capacity for slot in slots))
    if not chosen:
        return Allocation(groups={}, unplanned=unplanned)
    cos_lat = math.cos(math.radians(sum(c.lat for c in chosen) / len(chosen)))
    # Slots in day order, so that equal-capacity slots of a day sit together when cut.
    slots = sorted(slots, key=lambda s: (s.day, s.inspector_id))
    sizes = _split_sizes(len(chosen), [slot.capacity for slot in slots])
    groups = [group for group in bisect(chosen, sizes, cos_lat) if group]
    # Most urgent group first; each takes the earliest free slot that can hold it.
    groups.sort(key=lambda g: (min((c.deadline or date.max) for c in g), -max(c.priority for c in g)))
    free = list(slots)
    result: dict[tuple[int, date], list[Candidate]] = {}
    for group in groups:
        slot = next((s for s in free if s.capacity >= len(group)), None)
        if slot is None:  # cannot happen: every group fits the slot it was cut for
            unplanned.extend(group)
            continue
        free.remove(slot)
        result[(slot.inspector_id, slot.day)] = group
    _repair_deadlines(result, cos_lat)
    return Allocation(groups=result, unplanned=unplanned)


def _late(candidate: Candidate, day: date) -> bool:
    return candidate.deadline is not None and day > candidate.deadline


def _repair_deadlines(groups: dict[tuple[int, date], list[Candidate]], cos_lat: float) -> None:
    """A follow-up placed after its deadline swaps places with the nearest stop of an earlier-enough
    group that has no such constraint (loads unchanged; the shapes of the groups barely move)."""
    for (_inspector, day), group in sorted(groups.items(), key=lambda kv: kv[0][1], reverse=True):
        for index, late in enumerate(group):
            if not _late(late, day):
                continue
            here = _metres_xy(late, cos_lat)
            best = None
            for (_other_inspector, other_day), other_group in groups.items():
                if other_day > late.deadline:
                    continue
                for other_index, candidate in enumerate(other_group):
                    if candidate.deadline is not None and candidate.deadline < day:
                        continue  # it would become late in turn
                    x, y = _metres_xy(candidate, cos_lat)
                    distance = (x - here[0]) ** 2 + (y - here[1]) ** 2
                    if best is None or distance < best[0]:
                        best = (distance, other_group, other_index)
            if best is not None:
                _distance, other_group, other_index = best
                group[index], other_group[other_index] = other_group[other_index], late
