"""Benchmark of the rules simulator on a CPTS of 25,000 inhabitants over a year.

    python -m guichet.benchmarks.simulator
    python -m guichet.benchmarks.simulator --territory "CPTS Royans-Vercors" --ratio 1.75 --repeat 3

No database: the reference territory's real communes (data/cpts-territoires.json and the
communes file), one GP per ~1,000 inhabitants at communes drawn by population, arrivals
at ``--per-100`` requests a year per 100 inhabitants with the national mix, and the GPs'
yearly places set so that demand is ``--ratio`` times the places (1.75 by default, the
stress of the issue). Prints the comparison and the time of each full replay (four
policies on the same arrivals).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
from datetime import UTC, datetime

from guichet.assignment import simulator
from guichet.territories.geo import COMMUNES_CSV, TERRITORIES_JSON

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def reference_communes(name: str) -> list[simulator.SimCommune]:
    with TERRITORIES_JSON.open(encoding="utf-8") as fh:
        entry = next(e for e in json.load(fh) if e["nom"] == name)
    codes = set(entry["communes"])
    with COMMUNES_CSV.open(encoding="utf-8", newline="") as fh:
        return [simulator.SimCommune(r["insee"], r["nom"], float(r["lat"]), float(r["lon"]),
                                     int(r["population_2021"] or 0))
                for r in csv.DictReader(fh) if r["insee"] in codes and r["type"] == "COM" and r["lat"]]


def scenario(name: str, *, per_100: float, ratio: float, seed: int) -> simulator.Scenario:
    communes = reference_communes(name)
    people = sum(c.population for c in communes)
    rng = random.Random(seed)
    arrivals = people * per_100 / 100
    n_gps = max(3, round(people / 1000))
    monthly = arrivals / ratio / 12 / n_gps
    doctors = []
    for i in range(n_gps):
        c = rng.choices(communes, weights=[c.population for c in communes])[0]
        doctors.append(simulator.SimDoctor(i + 1, c.lat, c.lon, monthly, float(rng.choice([15, 20, 25])),
                                           frozenset({"ald", "age_70"}) if i % 10 == 3 else None))
    return simulator.Scenario(
        territory=name, start=START, communes=tuple(communes), doctors=tuple(doctors),
        arrivals_per_year=arrivals, shares=dict(simulator.NATIONAL_SHARES),
        patient_km=(10.0, 15.0, 20.0, 20.0, 30.0), refusal_rate=simulator.DEFAULT_REFUSAL_RATE, settings={},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territory", default="CPTS Haute-Tarentaise")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-100", type=float, default=4.0, help="demandes par an pour 100 habitants")
    parser.add_argument("--ratio", type=float, default=1.75, help="demande ÷ places")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threshold", type=int, help="seuil « en attente depuis plus de » (jours)")
    parser.add_argument("--weights", default="", help="règles proposées, ex. waiting_guarantee_days=120")
    args = parser.parse_args()
    world = scenario(args.territory, per_100=args.per_100, ratio=args.ratio, seed=args.seed)
    changes = simulator.parse_changes(args.weights)
    people = sum(c.population for c in world.communes)
    print(f"{args.territory} : {people} habitants, {len(world.communes)} communes, "
          f"{len(world.doctors)} médecins, {args.days} jours, graine {args.seed}")
    times = []
    sim = None
    for _ in range(args.repeat):
        sim = simulator.simulate(world, days=args.days, seed=args.seed, proposed=changes, threshold_days=args.threshold)
        times.append(sim.seconds)
    assert sim is not None
    print(simulator.text_table(sim))
    print(f"Rejeu complet (4 politiques, {sim.metrics[0].arrivals} arrivées, {sim.solves} résolutions du "
          f"moteur) : médiane {statistics.median(times):.2f} s, pire {max(times):.2f} s sur {args.repeat}")


if __name__ == "__main__":
    main()
