"""Request numbers: one counter per year and kind, after the highest stored number."""

from __future__ import annotations

from datetime import UTC, datetime

from guichet.requests import records
from tests.conftest import NOW


def test_numbers_follow_each_other_per_kind_and_year(db):
    assert records.new_references(db, "mt", NOW, 2) == ["MT-2026-000001", "MT-2026-000002"]
    assert records.new_reference(db, "snp", NOW) == "SNP-2026-000001"
    assert records.new_reference(db, "mt", NOW) == "MT-2026-000003"
    assert records.new_reference(db, "mt", datetime(2027, 1, 2, tzinfo=UTC)) == "MT-2027-000001"


def test_a_new_counter_starts_after_the_highest_number_already_stored(db, factory):
    request = factory.request()
    db.execute(records.ReferenceCounter.__table__.delete())
    request.reference = "MT-2026-000041"
    db.flush()
    assert records.new_reference(db, "mt", NOW) == "MT-2026-000042"


def test_a_rolled_back_submission_gives_its_number_back(db):
    with db.begin_nested() as savepoint:
        records.new_reference(db, "mt", NOW)
        savepoint.rollback()
    assert records.new_reference(db, "mt", NOW) == "MT-2026-000001"
