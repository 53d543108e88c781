"""Benchmark of "approve all" on the demo territory: how long the coordinator waits, batch after batch.

    python -m guichet.benchmarks.approve_all                      # fresh SQLite file in a temp directory
    python -m guichet.benchmarks.approve_all --pg postgresql://postgres@127.0.0.1:5432/postgres

Loads the demo territory (15 GPs, 200 waiting patients) in a fresh database, runs the
matching, then signs in as the demo administrator and approves every draft through the
real pages (the confirmation's POST, then each "continue"), as a browser without
JavaScript would. Prints the number of drafts, the time of each request (each one is a
batch the coordinator sees the progress of) and the total.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guichet import migrate
from guichet.assignment import runs
from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.demo import ADMIN_EMAIL, DEMO_PASSWORD, load_demo
from guichet.models import Proposal, User
from guichet.settings import check_database_url
from guichet.territories import geo

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STATE = re.compile(r'name="state" type="hidden" value="([^"]+)"')


def run(url: str) -> None:
    """Fill the database at `url`, approve every draft through the pages, print the times."""
    from guichet.web import create_app

    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        geo.load_communes(db)
        load_demo(db, now=NOW)
        admin = db.scalar(select(User).where(User.email == ADMIN_EMAIL))
        assert admin is not None and admin.territory is not None
        outcome = runs.run_mt(db, admin.territory, now=NOW, user=admin)
        assert outcome.run is not None
        run_id = outcome.run.id
    with Session(engine) as db:
        drafts = db.scalar(select(func.count()).select_from(Proposal).where(Proposal.status == "proposed"))
    app = create_app(clock=FrozenClock(NOW), overrides={"DATABASE_URL": url, "SECRET_KEY": "benchmark",
                                                          "WTF_CSRF_ENABLED": False, "TESTING": True})
    client = app.test_client()
    client.post("/connexion", data={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
    start = time.perf_counter()
    response = client.post(f"/coordination/attribution/{run_id}/valider", data={"approve_all": "1", "confirmed": "1"})
    times = [time.perf_counter() - start]
    while found := STATE.search(response.get_data(as_text=True)):
        began = time.perf_counter()
        response = client.post(f"/coordination/attribution/{run_id}/valider-tout/suite",
                               data={"state": found.group(1)})
        times.append(time.perf_counter() - began)
    total = time.perf_counter() - start
    with Session(engine) as db:
        sent = db.scalar(select(func.count()).select_from(Proposal).where(Proposal.status == "sent"))
    engine.dispose()
    print(f"{url.split(':')[0]}: {drafts} drafts, {sent} sent in {len(times)} request(s), total {total:.2f} s, "
          f"longest wait {max(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="a PostgreSQL server URL; a temporary database is created and dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
    if args.pg:
        with migrate.temporary_postgres_database(check_database_url(args.pg), "guichet_bench_approve") as url:
            run(url)


if __name__ == "__main__":
    main()
