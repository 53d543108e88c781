"""Insurer-list import at scale: 5,000 rows, and nothing twice (speed: python -m guichet.benchmarks.insurer_import)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from guichet.benchmarks.insurer_import import insurer_file as big_file
from guichet.models import PatientRequest, RequestEvent
from guichet.requests import insurer_import

pytestmark = pytest.mark.slow


def test_five_thousand_rows_import_only_once(db, factory, now):
    # Speed is measured by `python -m guichet.benchmarks.insurer_import`, not asserted here.
    territory = factory.territory()
    factory.request(factory.patient(territory))  # references continue after existing ones
    data = big_file(5000)
    report = insurer_import.preview(db, territory, data, now=now)
    assert report.n_ok == 5000 and report.n_errors == 0
    batch = insurer_import.confirm(db, territory, data, "cpam.csv", now=now)
    assert batch.n_imported == 5000
    assert db.scalar(select(func.count()).select_from(PatientRequest).where(
        PatientRequest.import_batch_id == batch.id, PatientRequest.identity_key.is_(None))) == 0
    refs = db.scalars(select(PatientRequest.reference).where(
        PatientRequest.import_batch_id == batch.id)).all()
    assert len(set(refs)) == 5000 and "MT-2026-000001" not in refs and "MT-2026-000002" in refs
    assert db.scalar(select(func.count()).select_from(RequestEvent).join(PatientRequest).where(
        PatientRequest.import_batch_id == batch.id)) == 5000
    # a second list with the same 5,000 people and 10 new ones adds only the 10
    again = insurer_import.confirm(db, territory, big_file(5010), "cpam-2.csv", now=now)
    assert (again.n_imported, again.n_skipped) == (10, 5000)

