"""Benchmark of the coordinators' request list with 20,000 requests.

    python -m guichet.benchmarks.queue                       # fresh SQLite file in a temp directory
    python -m guichet.benchmarks.queue --pg postgresql://postgres@127.0.0.1:5432/postgres
    python -m guichet.benchmarks.queue --n 50000 --repeat 10

Fills a fresh database (migrations, communes, the CPTS Royans-Vercors, N requests with a
realistic mix of kinds, statuses, flags and waiting times), then times each list query
(count + one page of 50) for several filters, the dashboard and the CSV export, and prints
the median and worst times with the input size. A PostgreSQL server URL gets a temporary
database, dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from guichet import migrate
from guichet.assignment.priority import Situation, compute_priority
from guichet.db import make_engine
from guichet.models import Patient, PatientRequest, Territory, territory_communes
from guichet.requests import queue
from guichet.settings import check_database_url
from guichet.territories import geo

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STATUSES = [("waiting", 55), ("submitted", 5), ("to_contact", 10), ("proposed", 5), ("matched", 5),
            ("completed", 8), ("cancelled", 10), ("withdrawn", 2)]
NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
         "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux"]
FIRST = ["Marie", "Jean", "Pierre", "Hélène", "Louise", "Paul", "Zoé", "Lucas", "Chloé", "Jules"]


def fill(db: Session, n: int, seed: int = 7) -> Territory:
    """Load communes and a territory, then insert n requests in bulk."""
    rng = random.Random(seed)
    geo.load_communes(db)
    territory = geo.create_reference_territory(db, "CPTS Royans-Vercors", now=NOW)
    communes = list(db.scalars(select(territory_communes.c.commune_insee)
                               .where(territory_communes.c.territory_id == territory.id)))
    statuses = [s for s, w in STATUSES for _ in range(w)]
    patients, situations = [], []
    for i in range(n):
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
        flags = {"is_ald": rng.random() < 0.2, "is_css": rng.random() < 0.08,
                 "is_pregnant": rng.random() < 0.02, "is_disabled": rng.random() < 0.05}
        patients.append({
            "territory_id": territory.id, "birth_name": f"{rng.choice(NAMES)}{i}",
            "first_names": rng.choice(FIRST), "birth_date": birth, "sex": rng.choice("FM"),
            "phone": f"+3361{i:07d}", "postal_code": "26190", "commune_insee": rng.choice(communes),
            "contact_preference": "phone", "filled_by": "self", "max_km": 10, "languages": [],
            "created_dt": NOW, "needs_home_visit": False, "needs_step_free": False, **flags,
        })
        situations.append(Situation(birth_date=birth, is_ald=flags["is_ald"], is_css=flags["is_css"],
                                    is_pregnant=flags["is_pregnant"], is_disabled=flags["is_disabled"]))
    ids: list[int] = []
    for start in range(0, n, 1000):
        result = db.execute(insert(Patient).returning(Patient.id, sort_by_parameter_order=True),
                            patients[start:start + 1000])
        ids += [pid for (pid,) in result]
    requests = []
    counters = {"mt": 0, "snp": 0}
    for pid, situation in zip(ids, situations, strict=True):
        kind = "snp" if rng.random() < 0.15 else "mt"
        counters[kind] += 1
        status = rng.choice(statuses)
        if kind == "snp" and status in ("to_contact", "proposed", "matched"):
            status = "waiting"
        since = NOW - timedelta(days=rng.randrange(0, 400), minutes=rng.randrange(0, 1440))
        score, breakdown = compute_priority(situation, since, now=NOW, settings={})
        requests.append({
            "reference": f"{kind.upper()}-2026-{counters[kind]:06d}", "tracking_token": uuid.uuid4().hex,
            "kind": kind, "channel": rng.choice(["web", "web", "phone", "import"]), "status": status,
            "territory_id": territory.id, "patient_id": pid, "priority_score": score,
            "priority_breakdown": breakdown, "children_birth_dates": [], "snp_availability": [],
            "is_consented": status != "to_contact", "submitted_dt": since, "waiting_since_dt": since,
            "status_changed_dt": since,
        })
    for start in range(0, n, 1000):
        db.execute(insert(PatientRequest), requests[start:start + 1000])
    db.flush()
    return territory


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def run(url: str, n: int, repeat: int) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        started = time.perf_counter()
        territory = fill(db, n)
        db.commit()
        print(f"{engine.dialect.name}: {n} requests inserted in {time.perf_counter() - started:.1f} s")
        if engine.dialect.name == "postgresql":
            db.commit()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        cases = {
            "open requests, by priority (default)": {},
            "all statuses, page 200 (keyset cursor)": {"status": "all", "after": "page 200"},
            "MT waiting, priority flag": {"kind": "mt", "status": "waiting", "priority": "any"},
            "one commune, longest wait first": {"commune": "26307", "sort": "oldest"},
            "waiting > 180 days, channel phone": {"waited": "180", "channel": "phone"},
            "text search on a name": {"q": "lefèvre12", "status": "all"},
            "text search on a reference": {"q": "MT-2026-0100", "status": "all"},
            "sorted by name": {"sort": "name"},
            "text search on a commune (st jean)": {"q": "st jean"},
        }
        print(f"{'query':45} {'rows':>7} {'median ms':>10} {'max ms':>8}")
        for label, args in cases.items():
            if args.get("after") == "page 200":  # the cursor of the 200th page: its previous page's last id
                first = queue.Filters.from_args({"status": "all"})
                args = {**args, "after": str(queue.list_requests(db, territory.id, first, now=NOW,
                                                                 per_page=199 * queue.PER_PAGE).rows[-1].id)}
            filters = queue.Filters.from_args(args)
            page = queue.list_requests(db, territory.id, filters, now=NOW)
            median, worst = _time(partial(queue.list_requests, db, territory.id, filters, now=NOW), repeat)
            print(f"{label:45} {page.total:>7} {median:>10.1f} {worst:>8.1f}")
        median, worst = _time(lambda: queue.dashboard(db, territory.id, now=NOW), repeat)
        print(f"{'dashboard counts':45} {'':>7} {median:>10.1f} {worst:>8.1f}")
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in queue.csv_rows(db, territory.id, queue.Filters(status="all"), now=NOW))
        print(f"{'CSV export, all requests':45} {n:>7} {(time.perf_counter() - started) * 1000:>10.1f}"
              f"          ({size / 1e6:.1f} MB)")
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="number of requests (default 20000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query (default 5)")
    parser.add_argument("--pg", help="PostgreSQL server URL: a temporary database is created there")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.n, args.repeat)
    if args.pg:
        with migrate.temporary_postgres_database(check_database_url(args.pg), "guichet_bench") as url:
            run(url, args.n, args.repeat)


if __name__ == "__main__":
    main()
