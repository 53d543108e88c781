"""Serve the application on a throw-away SQLite database with the demo, for bin/api-contract.

Prints one line, "<base url> <write key>", once the server listens; serves until killed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from guichet import migrate
from guichet.clock import system_clock
from guichet.db import make_engine
from guichet.demo import PARTNER_EMAIL, load_demo
from guichet.jobs import registry
from guichet.messaging import publication
from guichet.models import JobRun, Territory, User
from guichet.partners import api_keys
from guichet.territories import geo
from guichet.web import create_app


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="guichet-contract-"))
    url = f"sqlite:///{folder / 'guichet.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    now = system_clock()
    with Session(engine) as db, db.begin():
        geo.load_communes(db)
        load_demo(db, now=now)
        partner = db.scalar(select(User).where(User.email == PARTNER_EMAIL)).partner  # type: ignore[union-attr]
        secret = api_keys.create_key(db, partner, label="Schemathesis", scope="write", now=now, by_id=None).secret
        for territory in db.scalars(select(Territory)):
            publication.publish(db, territory, now=now)
        # a service whose scheduler runs: /api/v1/health answers 200, not its "scheduler stopped" 503
        for job_id in registry.JOBS:
            db.add(JobRun(job_id=job_id, started_dt=now, finished_dt=now, outcome="success", summary={}))
    engine.dispose()
    # a contract run sends thousands of calls: the per-key limit is not what it tests
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "contract-run", "RATE_LIMIT_API_PER_MINUTE": 1_000_000})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"http://127.0.0.1:{server.server_port} {secret}", flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
