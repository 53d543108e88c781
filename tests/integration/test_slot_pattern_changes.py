"""Weekly patterns as a whole: edit or remove replaces only future free slots; the week view."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from guichet.doctors import slot_patterns, slots
from guichet.models import AuditEvent, Proposal, Slot, SlotPattern
from guichet.timeutil import to_paris

WEDNESDAY_9 = dict(weekdays=[2], start=time(9, 0), minutes=30, count=2, until=date(2026, 12, 30))


@pytest.fixture
def doctor(factory):
    return factory.doctor(territory=factory.territory())


def paris(slot):
    local = to_paris(slot.start_dt)
    return local.date(), local.strftime("%H:%M")


def pattern_slots(db, pattern, status=None):
    query = select(Slot).where(Slot.pattern_id == pattern.id).order_by(Slot.start_dt)
    if status:
        query = query.where(Slot.status == status)
    return list(db.scalars(query))


@pytest.fixture
def started(db, factory, doctor, now):
    """Every Wednesday 9:00–10:00 since 11 November, now 24 November: two Wednesdays past, one booked."""
    created = slot_patterns.add_weekly(db, doctor, now=now - timedelta(days=14), **WEDNESDAY_9)
    pattern = created[0].pattern
    by_time = {paris(s): s for s in created}
    past = [by_time[(date(2026, 11, 11), "09:00")], by_time[(date(2026, 11, 18), "09:30")]]
    request = factory.request(kind="snp", patient=factory.patient(territory=doctor.territory))
    booked = by_time[(date(2026, 12, 2), "09:00")]
    slots.book(db, booked.id, request, now=now)
    late = factory.request(kind="snp", patient=factory.patient(territory=doctor.territory))
    booked_late = by_time[(date(2026, 12, 23), "09:30")]
    slots.book(db, booked_late.id, late, now=now)
    return pattern, past, [booked, booked_late]


def test_slots_of_a_weekly_pattern_know_it_and_the_list_describes_it(db, doctor, now):
    created = slot_patterns.add_weekly(db, doctor, weekdays=[3, 1], start=time(9, 0), minutes=30, count=2,
                                       until=date(2026, 12, 31), now=now)
    [one_off] = slot_patterns.add_one_off(db, doctor, day=date(2026, 11, 28), start=time(9, 0), minutes=20, now=now)
    pattern = created[0].pattern
    assert pattern.weekdays == "13" and {s.pattern_id for s in created} == {pattern.id}
    assert one_off.pattern_id is None
    # Tuesday 24 November 9:00 is past (10:00 in Paris): 5 Tuesdays + 6 Thursdays remain
    assert len(created) == 2 * 11
    [row] = slot_patterns.patterns_of(db, doctor.id, now=now)
    assert row.description == ("tous les mardis et jeudis de 9 h à 10 h, 2 créneaux de 30 min, "
                               "jusqu'au 31/12/2026")
    assert (row.free, row.booked) == (22, 0)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "slots.add_weekly"))
    assert event.detail == {"count": 22, "pattern_id": pattern.id}


def test_a_pattern_with_no_day_is_refused(db, doctor, now):
    with pytest.raises(slot_patterns.SlotPatternError) as info:
        slot_patterns.add_weekly(db, doctor, now=now, **{**WEDNESDAY_9, "weekdays": []})
    assert info.value.field == "weekdays"
    assert db.scalars(select(SlotPattern)).all() == []


def test_editing_replaces_future_free_slots_only(db, doctor, now, started):
    pattern, past, booked = started
    past_before = [(s.id, s.start_dt, s.status) for s in past]
    change = slot_patterns.edit_pattern(
        db, pattern, slot_patterns.WeeklySpec((2,), time(14, 0), 20, 1, date(2026, 12, 16)), now=now)
    # 12 slots from 25 November to 30 December, less the two booked ones
    assert change.removed == 10
    assert [paris(s) for s in change.created] == [(date(2026, 11, d), "14:00") for d in (25,)] + [
        (date(2026, 12, d), "14:00") for d in (2, 9, 16)]
    assert change.kept == booked and all(s.status == "booked" for s in booked)
    # the booked slot after the new end date is kept too, and past slots are untouched
    assert [(s.id, s.start_dt, s.status) for s in past] == past_before
    assert len(pattern_slots(db, pattern)) == 4 + 2 + 4
    assert (pattern.weekdays, pattern.start_time, pattern.until) == ("2", time(14, 0), date(2026, 12, 16))
    [row] = slot_patterns.patterns_of(db, doctor.id, now=now)
    assert (row.free, row.booked) == (4, 2)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "slot_pattern.edit"))
    assert (event.object_type, event.object_id) == ("slot_pattern", pattern.id)
    assert event.detail == {"removed": 10, "created": 4, "kept": 2}


def test_editing_puts_no_new_slot_on_the_time_of_a_booked_one(db, doctor, now, started):
    pattern, _, _ = started
    change = slot_patterns.edit_pattern(
        db, pattern, slot_patterns.WeeklySpec((2,), time(9, 0), 20, 3, date(2026, 12, 9)), now=now)
    # on 2 December the booked 9:00–9:30 slot stays: 9:00 and 9:20 are skipped, 9:40 is added
    assert [paris(s) for s in change.created] == [
        (date(2026, 11, 25), "09:00"), (date(2026, 11, 25), "09:20"), (date(2026, 11, 25), "09:40"),
        (date(2026, 12, 2), "09:40"),
        (date(2026, 12, 9), "09:00"), (date(2026, 12, 9), "09:20"), (date(2026, 12, 9), "09:40")]


def test_editing_into_another_slot_is_refused(db, doctor, now, started):
    pattern, _, _ = started
    slot_patterns.add_one_off(db, doctor, day=date(2026, 12, 9), start=time(14, 0), minutes=20, now=now)
    with pytest.raises(slot_patterns.SlotPatternError, match="chevauche") as info:
        slot_patterns.edit_pattern(
            db, pattern, slot_patterns.WeeklySpec((2,), time(14, 0), 20, 1, date(2026, 12, 16)), now=now)
    assert info.value.field == "start_time"


def test_editing_keeps_nine_in_paris_across_the_march_change(db, doctor, now):
    created = slot_patterns.add_weekly(db, doctor, weekdays=[4], start=time(9, 0), minutes=30, count=1,
                                       until=date(2027, 4, 9), now=now + timedelta(days=60))
    change = slot_patterns.edit_pattern(
        db, created[0].pattern, slot_patterns.WeeklySpec((4,), time(10, 0), 30, 1, date(2027, 4, 9)),
        now=now + timedelta(days=60))
    by_day = {to_paris(s.start_dt).date(): s.start_dt for s in change.created}
    assert {paris(s)[1] for s in change.created} == {"10:00"}
    assert by_day[date(2027, 3, 26)] == datetime(2027, 3, 26, 9, 0, tzinfo=UTC)
    assert by_day[date(2027, 4, 2)] == datetime(2027, 4, 2, 8, 0, tzinfo=UTC)


def test_edit_limits_are_those_of_a_new_pattern(db, doctor, now, started):
    pattern, _, _ = started
    with pytest.raises(slot_patterns.SlotPatternError) as info:
        slot_patterns.edit_pattern(
            db, pattern, slot_patterns.WeeklySpec((2,), time(9, 0), 20, 1, date(2027, 7, 1)), now=now)
    assert info.value.field == "until"


def test_removing_a_pattern_keeps_booked_and_past_slots(db, doctor, now, started):
    pattern, _, booked = started
    assert slot_patterns.removal_preview(db, pattern, now=now) == (10, booked)
    change = slot_patterns.remove_pattern(db, pattern, now=now)
    assert (change.removed, change.kept) == (10, booked)
    assert pattern.removed_dt == now
    # past free slots are history: the four of 11 and 18 November stay
    assert [paris(s)[0] for s in pattern_slots(db, pattern, "free")] == [date(2026, 11, 11)] * 2 + [
        date(2026, 11, 18)] * 2
    assert pattern_slots(db, pattern, "booked") == booked
    assert slot_patterns.patterns_of(db, doctor.id, now=now) == []
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "slot_pattern.remove"))
    assert event.detail == {"removed": 10, "kept": 2}
    with pytest.raises(slot_patterns.SlotPatternError, match="déjà été supprimée"):
        slot_patterns.remove_pattern(db, pattern, now=now)


def test_a_free_slot_named_by_a_draft_proposal_is_cancelled_not_deleted(db, factory, doctor, now, started):
    pattern, _, _ = started
    [named] = [s for s in pattern_slots(db, pattern, "free") if s.start_dt > now][:1]
    request = factory.request(kind="snp", patient=factory.patient(territory=doctor.territory))
    db.add(Proposal(request=request, doctor=doctor, slot_id=named.id, status="proposed", created_dt=now))
    db.flush()
    assert slot_patterns.remove_pattern(db, pattern, now=now).removed == 10
    db.refresh(named)
    assert named.status == "cancelled"


def test_the_week_view_puts_each_slot_on_its_paris_day_around_the_march_change(db, factory, doctor):
    # Sunday 28 March 2027 (clocks go forward), 23:30 in Paris is 21:30 UTC: still that week
    sunday = factory.slot(doctor, start=datetime(2027, 3, 28, 21, 30, tzinfo=UTC))
    # Monday 29 March, 00:10 in Paris is 22:10 UTC on Sunday: next week
    monday = factory.slot(doctor, start=datetime(2027, 3, 28, 22, 10, tzinfo=UTC), status="cancelled")
    week = slot_patterns.week(db, doctor.id, date(2027, 3, 22))
    assert [d.day for d in week] == [date(2027, 3, 22) + timedelta(days=i) for i in range(7)]
    assert [r.slot for r in week[6].rows] == [sunday]
    assert sum(len(d.rows) for d in week) == 1
    next_week = slot_patterns.week(db, doctor.id, date(2027, 3, 29))
    assert [r.slot for r in next_week[0].rows] == [monday]


def test_weeks_are_named_like_iso_weeks():
    assert slot_patterns.iso_week(date(2026, 12, 3)) == "2026-W49"
    assert slot_patterns.parse_week("2026-W49") == date(2026, 11, 30)
    assert slot_patterns.parse_week("2027-w01") == date(2027, 1, 4)
    for wrong in ("2026-W54", "49", "semaine"):
        with pytest.raises(slot_patterns.SlotPatternError):
            slot_patterns.parse_week(wrong)
