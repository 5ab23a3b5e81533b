"""Route optimisation figures: tour length and time of nearest neighbour + 2-opt against the input
order, the best plain nearest-neighbour path and (for small rounds) the brute-force optimum.

    .venv/bin/python bench/routing.py

Pure Python, no database. Points are uniform in a 12 km x 12 km square around central Dammam.
"""

import itertools
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inspections.domain.routing import distance_matrix, nearest_neighbour, path_length, route_optimize, two_opt

DAMMAM = (26.4207, 50.0888)
HALF_DEG = 0.055  # about 6 km either way
TRIALS = 20


def points(count: int, rng: random.Random) -> list[tuple[float, float]]:
    return [
        (DAMMAM[0] + rng.uniform(-HALF_DEG, HALF_DEG), DAMMAM[1] + rng.uniform(-HALF_DEG, HALF_DEG))
        for _ in range(count)
    ]


def mean_km(rows: list[tuple], index: int) -> float:
    return statistics.mean(row[index] for row in rows) / 1000


def main() -> None:
    print(f"{'stops':>5} {'input km':>9} {'NN km':>7} {'NN+2opt km':>10} {'optimum km':>10} {'gap %':>6} {'ms':>7}")
    for count in (6, 8, 10, 20, 40, 60):
        rng = random.Random(count)
        rows = []
        for _ in range(TRIALS):
            layout = points(count, rng)
            matrix = distance_matrix(layout)
            started = time.perf_counter()
            route = route_optimize(layout)
            elapsed_ms = (time.perf_counter() - started) * 1000
            nn_only = min(path_length(nearest_neighbour(matrix, start), matrix) for start in range(count))
            optimum = None
            if count <= 8:
                optimum = min(path_length(order, matrix) for order in itertools.permutations(range(count)))
            assert path_length(two_opt(list(range(count)), matrix), matrix) >= (optimum or 0) - 1e-6
            rows.append((path_length(list(range(count)), matrix), nn_only, route.length_m, optimum, elapsed_ms))
        gap = (
            f"{statistics.mean((row[2] / row[3] - 1) * 100 for row in rows):6.2f}"
            if rows[0][3] is not None
            else "     -"
        )
        optimum = f"{mean_km(rows, 3):10.2f}" if rows[0][3] is not None else "         -"
        print(
            f"{count:>5} {mean_km(rows, 0):9.2f} {mean_km(rows, 1):7.2f} {mean_km(rows, 2):10.2f} {optimum} {gap} "
            f"{statistics.median(row[4] for row in rows):7.1f}"
        )


if __name__ == "__main__":
    main()
