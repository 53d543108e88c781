"""Benchmark: import an insurer list of N patients (preview, then confirm) on a fresh database.

python -m guichet.benchmarks.insurer_import                 # 5,000 rows, fresh SQLite file
python -m guichet.benchmarks.insurer_import --rows 20000 --pg postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from guichet import migrate
from guichet.clock import system_clock
from guichet.db import make_engine
from guichet.requests import insurer_import
from guichet.settings import check_database_url
from guichet.territories import geo

COMMUNES = ["Bouvante", "Échevis", "La Motte-Fanjas", "Oriol-en-Royans"]


def insurer_file(n: int) -> bytes:
    """A semicolon-separated list as the Assurance Maladie sends it, n distinct people."""
    lines = ["nom;prénom;date de naissance;code postal;commune;téléphone;ald"]
    for i in range(n):
        lines.append(f"Nom{i};Prénom{i};{1 + i % 28:02d}/{1 + i % 12:02d}/{1930 + i % 80};26190;"
                     f"{COMMUNES[i % 4]};06{i:08d};{'oui' if i % 5 == 0 else 'non'}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def run(url: str, rows: int) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    now = system_clock()
    with Session(engine) as db, db.begin():
        geo.load_communes(db)
        geo.create_reference_territory(db, "CPTS Royans-Vercors", now=now)
    data = insurer_file(rows)
    with Session(engine) as db, db.begin():
        territory = geo.find_territory(db, "cpts-royans-vercors")
        started = time.perf_counter()
        report = insurer_import.preview(db, territory, data, now=now)
        preview_s = time.perf_counter() - started
        started = time.perf_counter()
        batch = insurer_import.confirm(db, territory, data, "bench.csv", now=now)
        confirm_s = time.perf_counter() - started
        imported = batch.n_imported
    engine.dispose()
    backend = make_url(url).get_backend_name()
    print(f"{backend:10} rows={rows:6d} ({len(data) / 1e6:.1f} MB)  valid={report.n_ok}  "
          f"preview {preview_s:.2f} s  confirm {confirm_s:.2f} s  imported={imported}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--pg", help="a PostgreSQL server URL; a temporary database is created and dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.rows)
    if args.pg:
        with migrate.temporary_postgres_database(check_database_url(args.pg), "guichet_bench_import") as url:
            run(url, args.rows)


if __name__ == "__main__":
    main()
