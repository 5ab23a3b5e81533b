"""Route order for a round: a short open tour through the stops on geodesic distances.

Pure functions, no database. A round is an open path (the inspector does not come back to the
first shop), so every tour here is a Hamiltonian *path*:

1. nearest neighbour from every possible first stop (n starts, O(n^3) at worst: n is small),
2. then 2-opt on the best of those until no reversal shortens the path (first-improvement).

Points are (lat, lon) pairs. Distances are geodesic on the WGS-84 ellipsoid (`geo.distance_m`).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from inspections.domain.geo import distance_m

Point = tuple[float, float]
Matrix = list[list[float]]

# 2-opt must stop even on pathological inputs; a round never has enough stops to hit this.
MAX_TWO_OPT_PASSES = 200
EPSILON_M = 1e-6


@dataclass(frozen=True)
class Route:
    """`order` lists indexes into the input points, in visiting order; `length_m` is the path length."""

    order: list[int]
    length_m: float


def distance_matrix(points: Sequence[Point]) -> Matrix:
    """Symmetric matrix of geodesic distances in metres."""
    size = len(points)
    matrix = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            metres = distance_m(*points[i], *points[j])
            matrix[i][j] = metres
            matrix[j][i] = metres
    return matrix


def path_length(order: Sequence[int], matrix: Matrix) -> float:
    """Length of the open path visiting `order`."""
    return sum(matrix[a][b] for a, b in zip(order, order[1:], strict=False))


def nearest_neighbour(matrix: Matrix, start: int = 0) -> list[int]:
    """Greedy path: from `start`, always go to the closest stop not visited yet (ties: lowest index)."""
    size = len(matrix)
    if size == 0:
        return []
    order = [start]
    left = set(range(size)) - {start}
    while left:
        here = order[-1]
        nearest = min(left, key=lambda j: (matrix[here][j], j))
        order.append(nearest)
        left.remove(nearest)
    return order


def two_opt(order: Sequence[int], matrix: Matrix) -> list[int]:
    """Improve an open path by reversing segments while that shortens it.

    Reversing order[i..j] replaces edges (i-1, i) and (j, j+1) by (i-1, j) and (i, j+1); at either
    end of the path the missing edge costs nothing, so a prefix or a suffix may be reversed too.
    """
    path = list(order)
    size = len(path)
    if size < 3:
        return path

    def edge(a: int, b: int) -> float:
        if a < 0 or b >= size:
            return 0.0
        return matrix[path[a]][path[b]]

    for _ in range(MAX_TWO_OPT_PASSES):
        improved = False
        for i in range(size - 1):
            for j in range(i + 1, size):
                if i == 0 and j == size - 1:
                    continue  # reversing the whole path changes nothing
                before = edge(i - 1, i) + edge(j, j + 1)
                after = (matrix[path[i - 1]][path[j]] if i > 0 else 0.0) + (
                    matrix[path[i]][path[j + 1]] if j + 1 < size else 0.0
                )
                if after < before - EPSILON_M:
                    path[i : j + 1] = reversed(path[i : j + 1])
                    improved = True
        if not improved:
            break
    return path


def route_optimize(points: Sequence[Point]) -> Route:
    """A short open path through `points`: best nearest-neighbour start, then 2-opt.

    Never loses or duplicates a point: the result is a permutation of range(len(points)).
    """
    size = len(points)
    if size == 0:
        return Route(order=[], length_m=0.0)
    matrix = distance_matrix(points)
    best = min(
        (nearest_neighbour(matrix, start) for start in range(size)),
        key=lambda order: path_length(order, matrix),
    )
    improved = two_opt(best, matrix)
    if path_length(improved, matrix) > path_length(best, matrix):  # cannot happen; keep the better one anyway
        improved = best
    assert sorted(improved) == list(range(size))
    return Route(order=improved, length_m=path_length(improved, matrix))


def route_length(points: Sequence[Point]) -> float:
    """Length in metres of the open path through `points` in the given order."""
    return sum(distance_m(*a, *b) for a, b in zip(points, points[1:], strict=False))


def cheapest_insertion(points: Sequence[Point], new_point: Point) -> int:
    """The index at which inserting `new_point` into the path `points` lengthens it least."""
    if not points:
        return 0
    to_new = [distance_m(*point, *new_point) for point in points]
    best_index, best_cost = 0, to_new[0]  # before the first stop
    if to_new[-1] < best_cost:  # after the last stop
        best_index, best_cost = len(points), to_new[-1]
    for index in range(1, len(points)):
        cost = to_new[index - 1] + to_new[index] - distance_m(*points[index - 1], *points[index])
        if cost < best_cost - EPSILON_M:
            best_index, best_cost = index, cost
    return best_index
