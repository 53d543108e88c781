"""bin/backup-check: a pg_dump restored into a fresh database has every row (PostgreSQL only)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from guichet.db import make_engine
from tests.conftest import NOW
from tests.factories import Factory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_backup_restores_into_a_fresh_database_with_every_row(clone_database, is_postgres):
    if not is_postgres:
        pytest.skip("pg_dump backups are for PostgreSQL (GUICHET_TEST_DATABASE_URL)")
    url = clone_database("backup")
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        f = Factory(db, now=NOW)
        f.request(patient=f.patient(territory=f.territory()))
    engine.dispose()
    done = subprocess.run([str(ROOT / "bin" / "backup-check")], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Sauvegarde vérifiée" in done.stdout and "à l'identique" in done.stdout
