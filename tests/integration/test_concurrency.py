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
from guichet.models import CapacityDeclaration, Proposal, Slot, SlotPattern, Territory, User
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


# --- a GP's answer racing another change of the same proposal ------------------------------


def sent_proposal(maker: sessionmaker[Session]) -> tuple[int, int, int]:
    """(proposal id, declaration id, request id) of a proposal sent to a GP with 5 places."""
    with maker.begin() as db:
        f = Factory(db, now=NOW)
        territory = f.territory()
        doctor = f.doctor(territory=territory)
        decl = f.declaration(doctor, new_patients=5)
        request = f.request(patient=f.patient(territory=territory))
        draft = proposals.create_draft(db, request, doctor, now=NOW, declaration_id=decl.id)
        proposals.approve_and_send(db, draft, now=NOW)
        return draft.id, decl.id, request.id


def on_proposal(proposal_id: int, change: Callable[[Session, Proposal], object]) -> Callable[[Session], object]:
    def action(db: Session) -> object:
        proposal = db.get(Proposal, proposal_id)
        assert proposal is not None
        return change(db, proposal)
    return action


def decline(db: Session, proposal: Proposal) -> object:
    return proposals.decline(db, proposal, now=NOW, reason="double clic")


def accept(db: Session, proposal: Proposal) -> object:
    return proposals.accept(db, proposal, now=NOW)


def committed(maker: sessionmaker[Session], decl_id: int) -> int:
    with maker() as db:
        return db.get(CapacityDeclaration, decl_id).committed


def test_a_double_click_on_decline_gives_the_place_back_once(pg_sessions):
    proposal_id, decl_id, _ = sent_proposal(pg_sessions)
    results = race(pg_sessions, on_proposal(proposal_id, decline), on_proposal(proposal_id, decline))
    assert sorted(type(r).__name__ for r in results) == ["IllegalTransition", "NoneType"], results
    assert committed(pg_sessions, decl_id) == 0


def test_decline_racing_accept_leaves_one_answer_and_the_right_capacity(pg_sessions):
    proposal_id, decl_id, request_id = sent_proposal(pg_sessions)
    results = race(pg_sessions, on_proposal(proposal_id, decline), on_proposal(proposal_id, accept))
    assert sorted(type(r).__name__ for r in results) == ["IllegalTransition", "NoneType"], results
    from guichet.models import PatientRequest

    with pg_sessions() as db:
        status = db.get(Proposal, proposal_id).status
        request_status = db.get(PatientRequest, request_id).status
    expected = {"accepted": (1, "matched"), "declined": (0, "waiting")}[status]
    assert (committed(pg_sessions, decl_id), request_status) == expected


def test_decline_racing_expiry_gives_the_place_back_once(pg_sessions):
    from datetime import timedelta

    from guichet.messaging import follow_up

    proposal_id, decl_id, _ = sent_proposal(pg_sessions)
    results = race(pg_sessions, on_proposal(proposal_id, decline),
                   lambda db: follow_up.expire_proposals(db, now=NOW + timedelta(days=30)))
    with pg_sessions() as db:
        status = db.get(Proposal, proposal_id).status
    # whoever came first wins; the other one changes nothing
    assert type(results[0]).__name__ == {"declined": "NoneType", "expired": "IllegalTransition"}[status]
    assert committed(pg_sessions, decl_id) == 0


def test_a_withdrawal_racing_an_acceptance_frees_the_place_without_deadlock(pg_sessions):
    from guichet.models import PatientRequest
    from guichet.requests import tracking

    proposal_id, decl_id, request_id = sent_proposal(pg_sessions)

    def withdraw(db: Session) -> object:
        return tracking.withdraw(db, db.get(PatientRequest, request_id), now=NOW)

    results = race(pg_sessions, withdraw, on_proposal(proposal_id, accept))
    assert results[0] is None, results  # the patient's withdrawal always goes through
    assert results[1] is None or type(results[1]).__name__ == "IllegalTransition", results
    with pg_sessions() as db:
        assert db.get(PatientRequest, request_id).status == "withdrawn"
        assert db.get(Proposal, proposal_id).status == "cancelled"
    assert committed(pg_sessions, decl_id) == 0


def test_two_coordinators_booking_one_request_into_two_slots_get_a_clear_refusal(pg_sessions):
    from datetime import timedelta

    from guichet.assignment import snp_board
    from guichet.requests.intake import availability_slots

    with pg_sessions.begin() as db:
        f = Factory(db, now=NOW)
        territory = f.territory()
        doctor = f.doctor(territory=territory)
        slot_ids = [f.slot(doctor, start=NOW + timedelta(hours=h)).id for h in (4, 5)]
        request = f.request(kind="snp", patient=f.patient(territory=territory),
                            snp_availability=availability_slots([("today", "afternoon")], NOW))
        territory_id, request_id = territory.id, request.id

    def book(slot_id: int) -> Callable[[Session], object]:
        def action(db: Session) -> object:
            return snp_board.book(db, db.get(Territory, territory_id), request_id, slot_id, user=None, now=NOW)
        return action

    results = race(pg_sessions, book(slot_ids[0]), book(slot_ids[1]))
    assert sum(isinstance(r, Slot) for r in results) == 1, results
    refused = next(r for r in results if not isinstance(r, Slot))
    assert isinstance(refused, snp_board.BoardError), refused


# --- a GP removing a weekly pattern while a coordinator books one of its slots -------------------


@pytest.mark.parametrize("first", ["booking", "removal"])
def test_a_slot_booked_while_its_pattern_is_removed_is_never_deleted(pg_sessions, first):
    from datetime import date
    from datetime import time as clock_time

    from guichet.doctors import slot_patterns
    from guichet.models import PatientRequest

    with pg_sessions.begin() as db:
        f = Factory(db, now=NOW)
        territory = f.territory()
        doctor = f.doctor(territory=territory)
        created = slot_patterns.add_weekly(db, doctor, weekdays=[2], start=clock_time(9, 0), minutes=20, count=2,
                                           until=date(2026, 12, 30), now=NOW)
        pattern_id, slot_id = created[0].pattern_id, created[3].id
        request_id = f.request(kind="snp", patient=f.patient(territory=territory)).id

    def book(db: Session) -> object:
        if first == "removal":
            time.sleep(0.05)  # the removal's DELETE holds the rows: the booking waits for its commit
        return slots.book(db, slot_id, db.get(PatientRequest, request_id), now=NOW)

    def remove(db: Session) -> object:
        if first == "booking":
            time.sleep(0.05)  # the booking's UPDATE holds the row: the DELETE waits, then skips it
        return slot_patterns.remove_pattern(db, db.get(SlotPattern, pattern_id), now=NOW)

    booked, removal = race(pg_sessions, book, remove)
    assert isinstance(removal, slot_patterns.PatternChange), removal
    with pg_sessions() as db:
        slot = db.get(Slot, slot_id)
        request = db.get(PatientRequest, request_id)
        left = db.scalars(select(Slot.status).where(Slot.pattern_id == pattern_id)).all()
        if first == "booking":
            assert isinstance(booked, Slot), booked
            # the booked slot outlived the removal of its pattern, with its patient
            assert slot is not None and slot.status == "booked" and request.status == "booked"
            assert removal.removed == 11 and [s.id for s in removal.kept] == [slot_id]
            assert left == ["booked"]
        else:
            assert isinstance(booked, slots.SlotUnavailable), booked
            assert slot is None and request.status == "waiting"
            assert removal.removed == 12 and left == []
