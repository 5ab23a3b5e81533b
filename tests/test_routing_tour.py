"""Route optimisation: nearest neighbour + 2-opt on geodesic distances (pure functions)."""

import itertools
import math
import random

import pytest

from inspections.domain.routing import (
    cheapest_insertion,
    distance_matrix,
    nearest_neighbour,
    path_length,
    route_length,
    route_optimize,
    two_opt,
)

DAMMAM = (26.4207, 50.0888)


def line(count: int, step_deg: float = 0.01) -> list[tuple[float, float]]:
    return [(DAMMAM[0], DAMMAM[1] + i * step_deg) for i in range(count)]


def circle(count: int, radius_deg: float = 0.05) -> list[tuple[float, float]]:
    return [
        (
            DAMMAM[0] + radius_deg * math.sin(2 * math.pi * i / count),
            DAMMAM[1] + radius_deg * math.cos(2 * math.pi * i / count),
        )
        for i in range(count)
    ]


def test_points_on_a_line_given_shuffled_come_back_in_line_order():
    points = line(9)
    shuffled_order = [4, 0, 8, 2, 6, 1, 7, 3, 5]
    shuffled = [points[i] for i in shuffled_order]
    route = route_optimize(shuffled)
    visited = [shuffled_order[i] for i in route.order]
    assert visited in (list(range(9)), list(range(8, -1, -1)))
    assert route.length_m == pytest.approx(route_length(points), rel=1e-9)
    assert route.length_m < route_length(shuffled) / 3


def test_points_on_a_circle_walk_around_it():
    points = circle(12)
    rng = random.Random(7)
    order = list(range(12))
    rng.shuffle(order)
    shuffled = [points[i] for i in order]
    route = route_optimize(shuffled)
    visited = [order[i] for i in route.order]
    # consecutive stops are neighbours on the circle: the path is the circle minus one arc
    steps = [(b - a) % 12 for a, b in itertools.pairwise(visited)]
    assert set(steps) in ({1}, {11})
    # in metres the "circle" is an ellipse (a degree of longitude is shorter): the best open path is
    # the closed loop minus its longest arc
    arcs = [route_length([points[i], points[(i + 1) % 12]]) for i in range(12)]
    assert route.length_m == pytest.approx(sum(arcs) - max(arcs), rel=1e-9)
    assert route.length_m < route_length(shuffled)


@pytest.mark.parametrize("seed", range(6))
def test_never_loses_or_duplicates_a_stop_and_never_beats_brute_force(seed):
    rng = random.Random(seed)
    points = [(DAMMAM[0] + rng.uniform(-0.05, 0.05), DAMMAM[1] + rng.uniform(-0.05, 0.05)) for _ in range(7)]
    route = route_optimize(points)
    assert sorted(route.order) == list(range(7))
    matrix = distance_matrix(points)
    best = min(path_length(order, matrix) for order in itertools.permutations(range(7)))
    assert route.length_m >= best - 1e-6
    assert route.length_m <= best * 1.10  # a heuristic, but close to optimal on small rounds
    assert route.length_m <= path_length(list(range(7)), matrix) + 1e-6


def test_two_opt_uncrosses_a_hand_checked_square():
    # unit-ish square corners A(0,0) B(0,1) C(1,1) D(1,0); path A C B D crosses itself.
    matrix = [
        [0, 1, 1.4142, 1],
        [1, 0, 1, 1.4142],
        [1.4142, 1, 0, 1],
        [1, 1.4142, 1, 0],
    ]
    crossed = [0, 2, 1, 3]
    assert path_length(crossed, matrix) == pytest.approx(3.8284)
    improved = two_opt(crossed, matrix)
    assert path_length(improved, matrix) == pytest.approx(3.0)
    assert sorted(improved) == [0, 1, 2, 3]


def test_two_opt_can_reverse_a_prefix_of_an_open_path():
    # points on a line at 0, 1, 2, 3 visited 1 0 2 3 (length 1+2+1=4): reversing the prefix gives 0 1 2 3 (3).
    positions = [0, 1, 2, 3]
    matrix = [[abs(a - b) for b in positions] for a in positions]
    assert path_length(two_opt([1, 0, 2, 3], matrix), matrix) == 3


def test_nearest_neighbour_hand_checked():
    positions = [0, 10, 1, 11, 2]
    matrix = [[abs(a - b) for b in positions] for a in positions]
    assert nearest_neighbour(matrix, 0) == [0, 2, 4, 1, 3]


def test_trivial_inputs():
    assert route_optimize([]).order == [] and route_optimize([]).length_m == 0
    assert route_optimize([DAMMAM]).order == [0]
    assert route_optimize([DAMMAM, DAMMAM]).length_m == 0


def test_geodesic_distance_is_real_metres():
    # 0.01 degree of longitude at 26.42°N is about 997 m on the WGS-84 ellipsoid
    assert route_length(line(2)) == pytest.approx(997.5, abs=2)


def test_cheapest_insertion_puts_a_point_between_its_neighbours():
    points = line(5)
    middle = (DAMMAM[0], DAMMAM[1] + 0.025)
    assert cheapest_insertion(points, middle) == 3
    assert cheapest_insertion(points, (DAMMAM[0], DAMMAM[1] - 0.01)) == 0
    assert cheapest_insertion(points, (DAMMAM[0], DAMMAM[1] + 0.09)) == 5
    assert cheapest_insertion([], middle) == 0
