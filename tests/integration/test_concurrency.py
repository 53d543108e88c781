"""Concurrent transactions on PostgreSQL: a GP's capacity and an SNP slot are never taken twice.

These tests need real concurrent transactions, so they use their own fresh database
with committed data and two independent sessions released at the same instant by a
barrier. SQLite has a single writer: there is nothing to race there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guichet.assignment import arbitration, proposals
from guichet.db import make_engine
from guichet.doctors import slots
from guichet.models import CapacityDeclaration, Proposal, Slot, Territory, User
from tests.conftest import NOW
from tests.factories import Factory

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_sessions(clone_database, is_postgres):
    if not is_postgres:
        pytest.skip("concurrent transactions need PostgreSQL (GUICHET_TEST_DATABASE_URL): SQLite has one writer")
    engine = make_engine(clone_database("concurrency"))
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def race(maker: sessionmaker[Session], *actions: Callable[[Session], object]) -> list[object]:
    """Run each action in its own session and thread, all released together; commit each."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def worker(index: int, action: Callable[[Session], object]) -> None:
        with maker() as db:
            barrier.wait()
            try:
                results[index] = action(db)
                time.sleep(0.2)  # hold the transaction open: the other one must wait on the row lock
                db.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.rollback()
                results[index] = exc

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_coordinators_approving_the_last_place_at_once_take_it_once(pg_sessions):
    with pg_sessions.begin() as db:
        f = Factory(db, now=NOW)
        territory = f.territory()
        staff_a, staff_b = f.user("staff", territory=territory), f.user("staff", territory=territory)
        doctor = f.doctor(territory=territory)
        decl = f.declaration(doctor, new_patients=2, committed=1)
        drafts = [proposals.create_draft(db, f.request(patient=f.patient(territory=territory)), doctor,
                                         now=NOW, declaration_id=decl.id) for _ in range(2)]
        ids = [p.id for p in drafts]
        territory_id, decl_id, users = territory.id, decl.id, (staff_a.id, staff_b.id)

    def approve(proposal_id: int, user_id: int) -> Callable[[Session], object]:
        def action(db: Session) -> object:
            return arbitration.approve(db, db.get(Territory, territory_id), [proposal_id],
                                       user=db.get(User, user_id), now=NOW)
        return action

    reports = race(pg_sessions, approve(ids[0], users[0]), approve(ids[1], users[1]))
    assert sorted(len(r.approved) for r in reports) == [0, 1], reports
    failed = next(r for r in reports if r.failed)
    assert "plus de place" in failed.failed[0][1]
    with pg_sessions() as db:
        decl = db.get(CapacityDeclaration, decl_id)
        assert decl.committed == decl.new_patients == 2
        statuses = sorted(db.scalars(select(Proposal.status).where(Proposal.id.in_(ids))))
        assert statuses == ["proposed", "sent"]


def test_the_same_draft_approved_twice_at_once_takes_one_place(pg_sessions):
    with pg_sessions.begin() as db:
        f = Factory(db, now=NOW)
        territory = f.territory()
        users = (f.user("staff", territory=territory).id, f.user("staff", territory=territory).id)
        doctor = f.doctor(territory=territory)
        decl = f.declaration(doctor, new_patients=5)
        draft = proposals.create_draft(db, f.request(patient=f.patient(territory=territory)), doctor,
                                       now=NOW, declaration_id=decl.id)
        territory_id, decl_id, draft_id = territory.id, decl.id, draft.id

    def approve(user_id: int) -> Callable[[Session], object]:
        def action(db: Session) -> object:
            return arbitration.approve(db, db.get(Territory, territory_id), [draft_id],
                                       user=db.get(User, user_id), now=NOW)
        return action

    reports = race(pg_sessions, approve(users[0]), approve(users[1]))
    assert sorted(len(r.approved) for r in reports) == [0, 1], reports
    with pg_sessions() as db:
        assert db.get(CapacityDeclaration, decl_id).committed == 1


def test_a_gp_lowering_capacity_during_an_approval_is_never_overcommitted(pg_sessions):
    with pg_sessions.begin() as db:
        f = Factory(db, now=NOW)
        territory = f.territory()
        user_id = f.user("staff", territory=territory).id
        doctor = f.doctor(territory=territory)
        decl = f.declaration(doctor, new_patients=1)
        draft = proposals.create_draft(db, f.request(patient=f.patient(territory=territory)), doctor,
                                       now=NOW, declaration_id=decl.id)
        territory_id, doctor_id, draft_id = territory.id, doctor.id, draft.id

    def approve(db: Session) -> object:
        return arbitration.approve(db, db.get(Territory, territory_id), [draft_id], user=db.get(User, user_id), now=NOW)

    def close_list(db: Session) -> object:
        from guichet.doctors import capacity
        from guichet.models import Doctor

        # the GP closes their list and sends pending proposals back to the coordinators
        new, to_return = capacity.declare(db, db.get(Doctor, doctor_id), now=NOW, new_patients=0,
                                          pending_action="return", max_km=20)
        for proposal in to_return:
            proposals.cancel(db, proposal, now=NOW, reason="capacité réduite par le médecin")
        return new.id

    report, new_id = race(pg_sessions, approve, close_list)
    assert not isinstance(report, Exception) and not isinstance(new_id, Exception), (report, new_id)
    with pg_sessions() as db:
        current = db.get(CapacityDeclaration, new_id)
        live = db.scalar(select(func.count()).select_from(Proposal).where(
            Proposal.doctor_id == doctor_id, Proposal.status.in_(("approved", "sent", "accepted"))))
        # whichever came first, the GP who now declares 0 places holds no live proposal
        assert current.new_patients == 0 and current.committed == 0 and live == 0


def test_two_coordinators_booking_one_slot_at_once_book_it_once(pg_sessions):
    with pg_sessions.begin() as db:
        f = Factory(db, now=NOW)
        territory = f.territory()
        doctor = f.doctor(territory=territory)
        slot = f.slot(doctor)
        requests = [f.request(kind="snp", patient=f.patient(territory=territory)) for _ in range(2)]
        slot_id, request_ids = slot.id, [r.id for r in requests]

    def book(request_id: int) -> Callable[[Session], object]:
        def action(db: Session) -> object:
            from guichet.models import PatientRequest

            return slots.book(db, slot_id, db.get(PatientRequest, request_id), now=NOW)
        return action

    results = race(pg_sessions, book(request_ids[0]), book(request_ids[1]))
    assert sum(isinstance(r, Slot) for r in results) == 1, results
    assert sum(isinstance(r, slots.SlotUnavailable) for r in results) == 1, results
    with pg_sessions() as db:
        slot = db.get(Slot, slot_id)
        assert slot.status == "booked" and slot.request_id in request_ids
        from guichet.models import PatientRequest

        statuses = sorted(db.scalars(select(PatientRequest.status).where(PatientRequest.id.in_(request_ids))))
        assert statuses == ["booked", "waiting"]


def test_ten_patients_submitting_at_once_are_all_stored_with_distinct_numbers(pg_sessions):
    from datetime import date

    from guichet.models import PatientRequest
    from guichet.requests import intake
    from guichet.territories import geo

    with pg_sessions.begin() as db:
        geo.create_territory(db, "CPTS Numéros", ["26059"], now=NOW)

    def submit(index: int) -> Callable[[Session], object]:
        data = intake.MtRequestData(
            birth_name=f"Patient{chr(65 + index)}", first_names="Jeanne", birth_date=date(1950, 1, 1 + index),
            phone="06 12 34 56 78", postal_code="26190", commune_insee="26059", is_consented=True)

        def action(db: Session) -> object:
            return intake.submit_mt_request(db, data, channel="web", now=NOW, base_url="http://x").reference
        return action

    references = race(pg_sessions, *(submit(i) for i in range(10)))
    assert all(isinstance(r, str) for r in references), references
    with pg_sessions() as db:
        stored = sorted(db.scalars(select(PatientRequest.reference).where(
            PatientRequest.reference.in_(references))))
    assert stored == sorted(references) and len(set(stored)) == 10
