"""The SNP board: the same engine with one offer per slot, only inside the patient's availability."""

from datetime import timedelta

import pytest

from guichet.assignment import problems, runs, snp_board
from guichet.doctors import slots

TODAY, TOMORROW = "2026-11-24", "2026-11-25"  # NOW is 10:00 in Paris on the 24th


@pytest.fixture
def territory(factory):
    return factory.territory()


def snp(factory, territory, *periods, **patient):
    return factory.request(patient=factory.patient(territory=territory, **patient), kind="snp",
                           snp_availability=[{"day": d, "period": p} for d, p in periods])


def test_board_lists_todays_and_tomorrows_requests_and_free_future_slots(db, factory, now, territory):
    gp = factory.doctor(territory=territory)
    soon = factory.slot(gp, start=now + timedelta(hours=2))
    factory.slot(gp, start=now - timedelta(hours=1))  # past
    factory.slot(gp, start=now + timedelta(days=3))  # after tomorrow
    factory.slot(factory.doctor(territory=factory.territory()), start=now + timedelta(hours=2))  # elsewhere
    today = snp(factory, territory, (TODAY, "afternoon"))
    snp(factory, territory, ("2026-11-28", "morning"))  # later in the week
    data = snp_board.board(db, territory, now=now)
    assert data["requests"] == [today] and data["slots"] == [soon]
    assert data["fits"] == {today.id: [soon.id]}  # 12:00 Paris is the afternoon


def test_engine_pairs_only_inside_availability_and_prefers_the_earliest_slot(db, factory, now, territory):
    gp = factory.doctor(territory=territory)
    morning_late = factory.slot(gp, start=now + timedelta(hours=1, minutes=30))  # 11:30
    morning_early = factory.slot(gp, start=now + timedelta(minutes=30))  # 10:30
    evening = factory.slot(gp, start=now + timedelta(hours=9))  # 19:00
    wants_evening = snp(factory, territory, (TODAY, "evening"))
    wants_morning = snp(factory, territory, (TODAY, "morning"), is_ald=True)
    built = problems.build_snp_problem(db, territory, now=now)
    assert (wants_evening.id, morning_early.id) in built.problem.forbidden
    assert (wants_morning.id, evening.id) in built.problem.forbidden
    outcome = runs.solve_snp(db, territory, now=now)
    chosen = {p.request: p.slot for p in outcome.placements}
    assert chosen == {wants_morning: morning_early, wants_evening: evening}
    assert morning_late.status == "free"  # suggestions book nothing


def test_request_without_a_fitting_slot_is_reported(db, factory, now, territory):
    gp = factory.doctor(territory=territory)
    factory.slot(gp, start=now + timedelta(hours=1))  # 11:00 today
    request = snp(factory, territory, (TOMORROW, "evening"))
    outcome = runs.solve_snp(db, territory, now=now)
    assert [(u.request, u.text) for u in outcome.unplaced] == [
        (request, "aucun créneau libre pendant ses disponibilités")]


def test_booking_by_hand_checks_availability_and_territory(db, factory, now, territory):
    staff = factory.user("staff", territory=territory)
    gp = factory.doctor(territory=territory)
    slot = factory.slot(gp, start=now + timedelta(hours=1))  # morning
    request = snp(factory, territory, (TODAY, "afternoon"))
    with pytest.raises(snp_board.BoardError, match="disponibilités"):
        snp_board.book(db, territory, request.id, slot.id, user=staff, now=now)
    other = factory.territory()
    with pytest.raises(snp_board.BoardError, match="introuvable"):
        snp_board.book(db, other, request.id, slot.id, user=staff, now=now)
    fine = snp(factory, territory, (TODAY, "morning"))
    snp_board.book(db, territory, fine.id, slot.id, user=staff, now=now)
    assert slot.status == "booked" and fine.status == "booked"


def test_confirming_suggestions_books_each_and_reports_a_slot_taken_meanwhile(db, factory, now, territory):
    staff = factory.user("staff", territory=territory)
    gp = factory.doctor(territory=territory)
    s1 = factory.slot(gp, start=now + timedelta(hours=1))
    s2 = factory.slot(gp, start=now + timedelta(hours=2))
    a, b, c = (snp(factory, territory) for _ in range(3))
    slots.book(db, s2.id, c, now=now)  # another coordinator was faster
    report = snp_board.book_many(db, territory, [(a.id, s1.id), (b.id, s2.id)], user=staff, now=now)
    assert report.booked == [(a.id, s1.id)]
    assert [(r, s) for r, s, _ in report.failed] == [(b.id, s2.id)]
    assert "vient d'être réservé" in report.failed[0][2]
    assert a.status == "booked" and b.status == "waiting" and s2.request_id == c.id


def test_waiting_hours_move_each_practices_patients_to_its_earliest_fitting_slots(db, factory, now, territory):
    gp = factory.doctor(territory=territory)
    late = factory.slot(gp, start=now + timedelta(hours=1, minutes=30))  # 11:30
    early = factory.slot(gp, start=now + timedelta(minutes=30))  # 10:30
    urgent = snp(factory, territory, (TODAY, "morning"), is_ald=True)
    other = snp(factory, territory, (TODAY, "morning"))
    built = problems.build_snp_problem(db, territory, now=now)
    # whatever the engine's tie-break, the same practice's slots are re-ordered by urgency and time
    better = runs._earliest_slots(built, {urgent.id: late.id, other.id: early.id})
    assert better == {urgent.id: early.id, other.id: late.id}
