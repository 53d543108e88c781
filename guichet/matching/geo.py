"""Great-circle distances and the (demand, offer) pairs within reach of each other."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

#: mean Earth radius (IUGG), in km
EARTH_RADIUS_KM = 6371.0088

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Slack on the cosine prefilter only; the decision itself is the exact haversine test.
_COS_SLACK = 1e-9


def haversine_np(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Vectorised haversine distance in km (degrees in)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    s_phi = np.sin((p2 - p1) * 0.5)
    s_lam = np.sin(np.radians(np.subtract(lon2, lon1)) * 0.5)
    a = s_phi * s_phi + np.cos(p1) * np.cos(p2) * (s_lam * s_lam)
    out: FloatArray = (2.0 * EARTH_RADIUS_KM) * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return out


def _haversine_parts(
    rad_lat1: FloatArray,
    cos_lat1: FloatArray,
    lon1: FloatArray,
    rad_lat2: FloatArray,
    cos_lat2: FloatArray,
    lon2: FloatArray,
) -> FloatArray:
    """:func:`haversine_np` with the per-point terms precomputed; bit-identical results."""
    s_phi = np.sin((rad_lat2 - rad_lat1) * 0.5)
    s_lam = np.sin(np.radians(lon2 - lon1) * 0.5)
    a = s_phi * s_phi + cos_lat1 * cos_lat2 * (s_lam * s_lam)
    out: FloatArray = (2.0 * EARTH_RADIUS_KM) * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return out


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km between two points given in degrees.

    It runs the very numpy code the solver uses on whole arrays, so a distance computed
    here and the solver's reach test agree to the last bit.
    """
    return float(
        haversine_np(np.float64(lat1), np.float64(lon1), np.float64(lat2), np.float64(lon2))
    )


def unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Points on the unit sphere, shape (n, 3)."""
    phi = np.radians(lat)
    lam = np.radians(lon)
    c = np.cos(phi)
    return np.column_stack((c * np.cos(lam), c * np.sin(lam), np.sin(phi)))


def chord_of_km(km: FloatArray) -> FloatArray:
    """Straight-line distance through the unit sphere for a great-circle distance in km."""
    angle = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, math.pi)
    out: FloatArray = 2.0 * np.sin(angle * 0.5)
    return out


def reach_pairs(
    d_lat: FloatArray,
    d_lon: FloatArray,
    d_max: FloatArray,
    o_lat: FloatArray,
    o_lon: FloatArray,
    o_max: FloatArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """All (demand, offer) pairs whose distance is ≤ both maxima, sorted by (demand, offer).

    Demands are processed in spatial tiles: each tile asks a KD-tree of offers (3-D unit
    vectors, so no trouble at the poles or the antimeridian) for the offers that can reach
    any of its demands, then tests the tile × candidates block densely with one matrix
    product.  The cosine test is only a superset filter; the kept pairs are those whose
    haversine distance passes, the same computation as :func:`haversine_km`.
    """
    n, k = len(d_lat), len(o_lat)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    if n == 0 or k == 0:
        return empty
    xyz_d = unit_vectors(d_lat, d_lon)
    xyz_o = unit_vectors(o_lat, o_lon)
    chord_d = chord_of_km(d_max)
    chord_o = chord_of_km(o_max)
    max_chord_o = float(chord_o.max())
    # cos(angle) threshold per side; a pair needs cos ≥ the larger (stricter) of the two.
    thr_d = 1.0 - 0.5 * np.minimum(chord_d, max_chord_o) ** 2 - _COS_SLACK
    thr_o = 1.0 - 0.5 * chord_o**2 - _COS_SLACK
    tree = cKDTree(xyz_o)
    rad_d = np.radians(d_lat)
    cos_d = np.cos(rad_d)
    rad_o = np.radians(o_lat)
    cos_o = np.cos(rad_o)

    finite = d_max[np.isfinite(d_max)]
    typical_km = float(np.percentile(finite, 90)) if finite.size else 100.0
    step = min(max(typical_km / 111.0, 0.05), 5.0)  # tile side in degrees
    cell_lat = np.floor(d_lat / step).astype(np.int64)
    cell_lon = np.floor(d_lon / step).astype(np.int64)
    order = np.lexsort((cell_lon, cell_lat))  # stable: demands keep input order in a tile
    key = cell_lat[order] * 1_000_003 + cell_lon[order]
    bounds = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [n]))

    def block(s: int, e: int) -> tuple[IntArray, IntArray, FloatArray] | None:
        members = order[s:e]
        pts = xyz_d[members]
        centre = pts.mean(axis=0)
        norm = float(np.linalg.norm(centre))
        centre = centre / norm if norm > 1e-12 else pts[0]
        spread = float(np.sqrt(((pts - centre) ** 2).sum(axis=1).max()))
        reach = min(float(chord_d[members].max()), max_chord_o)
        cand = np.sort(
            np.asarray(tree.query_ball_point(centre, spread + reach + 1e-9), dtype=np.int64)
        )
        if cand.size == 0:
            return None
        cos = pts @ xyz_o[cand].T
        ok = cos >= np.maximum(thr_d[members][:, None], thr_o[cand][None, :])
        rows, cols = np.nonzero(ok)
        if rows.size == 0:
            return None
        pi = members[rows]
        pj = cand[cols]
        dist = _haversine_parts(rad_d[pi], cos_d[pi], d_lon[pi], rad_o[pj], cos_o[pj], o_lon[pj])
        keep = (dist <= d_max[pi]) & (dist <= o_max[pj])
        if not keep.any():
            # Every candidate passed the slack-widened cosine test but failed the exact one.
            return None
        return pi[keep], pj[keep], dist[keep]

    # Measured: a thread pool over tiles gains nothing on 2 cores (memory-bound kernels).
    blocks = [block(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    out_i = [b[0] for b in blocks if b is not None]
    out_j = [b[1] for b in blocks if b is not None]
    out_d = [b[2] for b in blocks if b is not None]
    if not out_i:
        return empty
    pi_all = np.concatenate(out_i)
    pj_all = np.concatenate(out_j)
    dist_all = np.concatenate(out_d)
    # Pairs come grouped by demand (row-major blocks) in tile order; put the demand groups
    # back in input order without a full sort so the output is canonical.
    counts = np.bincount(pi_all, minlength=n)
    first = np.zeros(n, np.int64)
    seg_start = np.flatnonzero(np.r_[True, pi_all[1:] != pi_all[:-1]])
    first[pi_all[seg_start]] = seg_start
    new_start = np.cumsum(counts) - counts
    gather = np.arange(pi_all.size, dtype=np.int64) + np.repeat(first - new_start, counts)
    return pi_all[gather], pj_all[gather], dist_all[gather]
