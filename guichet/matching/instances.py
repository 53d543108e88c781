"""Deterministic, realistic matching instances built from the real communes of France."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from guichet.matching.model import Demand, Offer, Problem

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
COMMUNES_CSV = DATA_DIR / "communes-fr-2024.csv"
CPTS_JSON = DATA_DIR / "cpts-territoires.json"

#: weight at or above which a demand counts as "high priority" in the benchmark report
HIGH_PRIORITY = 500.0

_KM_PER_DEG = 111.195


@dataclass(frozen=True, slots=True)
class Communes:
    """Column arrays of the real communes (type COM, with coordinates)."""

    insee: tuple[str, ...]
    departement: npt.NDArray[np.str_]
    region: npt.NDArray[np.str_]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    area_km2: npt.NDArray[np.float64]
    population: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SizeSpec:
    """How one benchmark size is drawn."""

    name: str
    n_demands: int
    n_offers: int
    seed: int
    description: str


SIZES: dict[str, SizeSpec] = {
    "S": SizeSpec("S", 2_000, 60, 26_001, "CPTS Royans-Vercors neighbourhood (≤ 20 km), Drôme"),
    "M": SizeSpec("M", 20_000, 400, 26_002, "département de la Drôme (26)"),
    "L": SizeSpec("L", 100_000, 2_000, 84_003, "région Auvergne-Rhône-Alpes (84)"),
}


def load_communes(path: Path = COMMUNES_CSV) -> Communes:
    """Read the communes file, one row per commune (``COM`` rows that have coordinates)."""
    seen: set[str] = set()
    insee: list[str] = []
    dep: list[str] = []
    reg: list[str] = []
    lat: list[float] = []
    lon: list[float] = []
    area: list[float] = []
    pop: list[float] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            # ARM rows double-count Paris/Lyon/Marseille and COMD rows their parent commune;
            # a commune with several postal codes appears once per code.
            if row["type"] != "COM" or row["insee"] in seen or not row["lat"]:
                continue
            seen.add(row["insee"])
            insee.append(row["insee"])
            dep.append(row["departement"])
            reg.append(row["region"])
            lat.append(float(row["lat"]))
            lon.append(float(row["lon"]))
            area.append(float(row["superficie_km2"] or 1.0))
            pop.append(float(row["population_2021"] or 0.0))
    return Communes(
        insee=tuple(insee),
        departement=np.array(dep),
        region=np.array(reg),
        lat=np.array(lat),
        lon=np.array(lon),
        area_km2=np.array(area),
        population=np.array(pop),
    )


def _select(communes: Communes, size: str) -> npt.NDArray[np.intp]:
    """Indices of the communes that make up the territory of one size."""
    if size == "S":
        territories = json.loads(CPTS_JSON.read_text(encoding="utf-8"))
        codes = set(territories[0]["communes"])  # CPTS Royans-Vercors
        members = np.array([c in codes for c in communes.insee])
        lat0 = float(np.mean(communes.lat[members]))
        lon0 = float(np.mean(communes.lon[members]))
        dy = (communes.lat - lat0) * _KM_PER_DEG
        dx = (communes.lon - lon0) * _KM_PER_DEG * math.cos(math.radians(lat0))
        return np.flatnonzero(np.hypot(dx, dy) <= 20.0)
    if size == "M":
        return np.flatnonzero(communes.departement == "26")
    if size == "L":
        return np.flatnonzero(communes.region == "84")
    raise ValueError(f"unknown size {size!r} (expected S, M or L)")


def _place(
    rng: np.random.Generator,
    communes: Communes,
    idx: npt.NDArray[np.intp],
    n: int,
    pop_exponent: float,
    jitter_scale: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Draw ``n`` points at communes (probability ∝ population**exponent) with jitter."""
    p = communes.population[idx] ** pop_exponent
    p = p / p.sum()
    pick = idx[rng.choice(len(idx), size=n, p=p)]
    lat = communes.lat[pick]
    # Jitter of the order of the commune's radius: people do not all live at the town hall.
    sigma_km = jitter_scale * np.sqrt(communes.area_km2[pick] / math.pi)
    lat_out = lat + rng.normal(0.0, 1.0, n) * sigma_km / _KM_PER_DEG
    lon_out = communes.lon[pick] + rng.normal(0.0, 1.0, n) * sigma_km / (
        _KM_PER_DEG * np.cos(np.radians(lat))
    )
    return np.round(lat_out, 5), np.round(lon_out, 5)


def generate(
    size: str, communes: Communes | None = None, km_cost: float = 2.0
) -> Problem[str, str]:
    """Build the S, M or L benchmark problem; same ``size``, same problem, every time."""
    spec = SIZES[size]
    communes = load_communes() if communes is None else communes
    idx = _select(communes, size)
    rng = np.random.default_rng(spec.seed)

    n = spec.n_demands
    d_lat, d_lon = _place(rng, communes, idx, n, 1.0, 0.5)
    ald = rng.random(n) < 0.22  # affection de longue durée
    age70 = rng.random(n) < 0.18
    css = rng.random(n) < 0.12  # complémentaire santé solidaire
    child = (~age70) & (rng.random(n) < 0.12)
    pregnant = (~age70) & (~child) & (rng.random(n) < 0.03)
    palliative = rng.random(n) < 0.01
    days = rng.integers(0, 240, n)  # days waited so far
    weight = (
        1.0
        + 300.0 * ald
        + 200.0 * age70
        + 150.0 * css
        + 100.0 * child
        + 120.0 * pregnant
        + 250.0 * palliative
        + 0.5 * days
    )
    max_km = rng.choice(np.array([5.0, 10.0, 20.0, 30.0]), size=n, p=[0.1, 0.25, 0.35, 0.3])
    needs_home = age70 & (rng.random(n) < 0.15)
    needs_pmr = rng.random(n) < 0.03
    demands = []
    for i in range(n):
        tags = frozenset(
            t for t, on in (("visite_domicile", needs_home[i]), ("pmr", needs_pmr[i])) if on
        )
        demands.append(
            Demand(
                id=f"D{i:06d}",
                lat=float(d_lat[i]),
                lon=float(d_lon[i]),
                weight=float(weight[i]),
                max_km=float(max_km[i]),
                tags=tags,
            )
        )

    k = spec.n_offers
    # GPs practise in towns more than the population share suggests.
    o_lat, o_lon = _place(rng, communes, idx, k, 1.2, 0.2)
    capacity = np.where(rng.random(k) < 0.25, 0, rng.integers(1, 31, k))
    o_max = rng.choice(np.array([10.0, 15.0, 20.0, 30.0]), size=k, p=[0.1, 0.2, 0.35, 0.35])
    home = rng.random(k) < 0.35
    pmr = rng.random(k) < 0.7
    priority_only = rng.random(k) < 0.1
    offers = []
    for j in range(k):
        accepts = frozenset(t for t, on in (("visite_domicile", home[j]), ("pmr", pmr[j])) if on)
        offers.append(
            Offer(
                id=f"G{j:05d}",
                lat=float(o_lat[j]),
                lon=float(o_lon[j]),
                capacity=int(capacity[j]),
                max_km=float(o_max[j]),
                accepts=accepts,
                min_weight=300.0 if priority_only[j] else 0.0,
            )
        )
    return Problem(demands=demands, offers=offers, km_cost=km_cost)
