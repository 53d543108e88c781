"""Geometry of the matching engine (reach pairs) and the benchmark command."""

from __future__ import annotations

import numpy as np
import pytest

from guichet.matching import haversine_km
from guichet.matching.bench import main
from guichet.matching.geo import haversine_np, reach_pairs


def brute_pairs(d_lat, d_lon, d_max, o_lat, o_lon, o_max):
    out = []
    for i in range(len(d_lat)):
        for j in range(len(o_lat)):
            dist = haversine_km(d_lat[i], d_lon[i], o_lat[j], o_lon[j])
            if dist <= d_max[i] and dist <= o_max[j]:
                out.append((i, j, dist))
    return out


@pytest.mark.parametrize(
    ("lat", "lon", "spread"),
    [(45.0, 5.0, 0.5), (89.9, 0.0, 0.3), (0.0, 179.9, 0.4), (-33.0, -70.0, 3.0)],
)
def test_reach_pairs_match_brute_force(lat: float, lon: float, spread: float) -> None:
    rng = np.random.default_rng(7)
    n, k = 300, 40
    d_lat = np.clip(lat + rng.uniform(-spread, spread, n), -90, 90)
    d_lon = (lon + rng.uniform(-spread, spread, n) + 180) % 360 - 180
    o_lat = np.clip(lat + rng.uniform(-spread, spread, k), -90, 90)
    o_lon = (lon + rng.uniform(-spread, spread, k) + 180) % 360 - 180
    d_max = rng.choice([0.0, 5.0, 10.0, 30.0, np.inf], n)
    o_max = rng.choice([5.0, 20.0, 40.0], k)
    pi, pj, dist = reach_pairs(d_lat, d_lon, d_max, o_lat, o_lon, o_max)
    got = list(zip(pi.tolist(), pj.tolist(), dist.tolist(), strict=True))
    assert got == brute_pairs(d_lat, d_lon, d_max, o_lat, o_lon, o_max)  # same order too


def test_vectorised_and_scalar_haversine_agree_bitwise() -> None:
    rng = np.random.default_rng(3)
    a = rng.uniform(-90, 90, (4, 500))
    a[1] *= 2
    a[3] *= 2
    vec = haversine_np(a[0], a[1], a[2], a[3])
    scalar = [haversine_km(*a[:, m]) for m in range(a.shape[1])]
    assert vec.tolist() == scalar


def test_bench_runs_on_S(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sizes", "S", "--repeat", "1"]) == 0
    text = capsys.readouterr().out
    assert "median s" in text and "greedy gap %" in text
    row = next(line for line in text.splitlines() if line.startswith("S "))
    assert len(row.split()) >= 15


def test_bench_rejects_unknown_size() -> None:
    with pytest.raises(SystemExit):
        main(["--sizes", "XL"])


def test_no_pair_when_every_candidate_fails_the_exact_test() -> None:
    # The offer is ~0.1 km from the first demand, whose radius is 0: the cosine prefilter
    # (with its slack) keeps the pair, the exact haversine test drops it, and no other
    # pair survives.  This used to raise IndexError instead of returning no pair.
    d_lat, d_lon = np.array([45.0, 45.01]), np.array([5.0, 5.0])
    d_max = np.array([0.0, 10.0])
    o_lat, o_lon, o_max = np.array([45.0009]), np.array([5.0]), np.array([0.5])
    pi, pj, dist = reach_pairs(d_lat, d_lon, d_max, o_lat, o_lon, o_max)
    assert pi.size == pj.size == dist.size == 0
    assert brute_pairs(d_lat, d_lon, d_max, o_lat, o_lon, o_max) == []
