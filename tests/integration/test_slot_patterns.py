"""A GP's unscheduled-care slots: one-off series, weekly patterns in Paris time, cancellation."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from guichet.doctors import slot_patterns, slots
from guichet.models import AuditEvent, Notification, Slot
from guichet.timeutil import to_paris


@pytest.fixture
def doctor(factory):
    return factory.doctor(territory=factory.territory())


def live_slots(db, doctor):
    return db.scalars(select(Slot).where(Slot.doctor_id == doctor.id, Slot.status == "free")
                      .order_by(Slot.start_dt)).all()


def test_one_off_series_is_consecutive_and_stored_in_utc(db, doctor, now):
    created = slot_patterns.add_one_off(db, doctor, day=date(2026, 11, 26), start=time(14, 0), minutes=15,
                                        count=3, now=now)
    # November: Paris is UTC+1
    assert [s.start_dt for s in created] == [datetime(2026, 11, 26, 13, m, tzinfo=UTC) for m in (0, 15, 30)]
    assert created[-1].end_dt == datetime(2026, 11, 26, 13, 45, tzinfo=UTC)
    assert all(s.status == "free" for s in created)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "slots.add_one_off")).detail == {"count": 3}


def test_weekly_pattern_stays_at_nine_in_paris_across_the_october_change(db, doctor):
    now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    created = slot_patterns.add_weekly(db, doctor, weekdays=[0], start=time(9, 0), minutes=20, count=1,
                                       until=date(2026, 11, 9), now=now)
    assert [to_paris(s.start_dt).date() for s in created] == [
        date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26), date(2026, 11, 2),
        date(2026, 11, 9)]
    assert {to_paris(s.start_dt).time() for s in created} == {time(9, 0)}
    # summer time (UTC+2) before 25 October 2026, winter time (UTC+1) after
    assert [s.start_dt.hour for s in created] == [7, 7, 7, 8, 8, 8]


def test_weekly_pattern_stays_at_nine_in_paris_across_the_march_change(db, doctor, now):
    created = slot_patterns.add_weekly(db, doctor, weekdays=[4], start=time(9, 0), minutes=30, count=2,
                                       until=date(2027, 4, 9), now=now)
    by_day = {}
    for s in created:
        by_day.setdefault(to_paris(s.start_dt).date(), []).append(s)
    assert min(by_day) == date(2026, 11, 27) and max(by_day) == date(2027, 4, 9)
    assert all(len(v) == 2 for v in by_day.values())
    assert {to_paris(s.start_dt).strftime("%H:%M") for s in created} == {"09:00", "09:30"}
    assert by_day[date(2027, 3, 26)][0].start_dt == datetime(2027, 3, 26, 8, 0, tzinfo=UTC)
    assert by_day[date(2027, 4, 2)][0].start_dt == datetime(2027, 4, 2, 7, 0, tzinfo=UTC)


def test_a_time_that_does_not_exist_in_paris_is_refused(db, doctor, now):
    with pytest.raises(slot_patterns.SlotPatternError, match="n'existe pas le 28/03/2027"):
        slot_patterns.add_one_off(db, doctor, day=date(2027, 3, 28), start=time(2, 30), minutes=20, now=now)
    assert live_slots(db, doctor) == []


def test_todays_occurrence_already_past_is_skipped(db, doctor, now):
    # now is Tuesday 24 November 2026, 10:00 in Paris
    created = slot_patterns.add_weekly(db, doctor, weekdays=[1], start=time(9, 0), minutes=20, count=1,
                                       until=date(2026, 12, 8), now=now)
    assert [to_paris(s.start_dt).date() for s in created] == [date(2026, 12, 1), date(2026, 12, 8)]


def test_overlapping_slots_are_refused_and_nothing_is_added(db, doctor, now):
    slot_patterns.add_one_off(db, doctor, day=date(2026, 12, 2), start=time(10, 0), minutes=20, count=2, now=now)
    with pytest.raises(slot_patterns.SlotPatternError, match="chevauche") as info:
        slot_patterns.add_weekly(db, doctor, weekdays=[2], start=time(10, 30), minutes=20, count=2,
                                 until=date(2026, 12, 31), now=now)
    assert info.value.field == "start_time"
    assert len(live_slots(db, doctor)) == 2
    # right after the series: allowed
    slot_patterns.add_one_off(db, doctor, day=date(2026, 12, 2), start=time(10, 40), minutes=20, now=now)
    assert len(live_slots(db, doctor)) == 3


def test_a_cancelled_slot_frees_its_time_and_another_gp_does_not_block(db, factory, doctor, now):
    other = factory.doctor(territory=doctor.territory)
    slot_patterns.add_one_off(db, other, day=date(2026, 12, 2), start=time(10, 0), minutes=20, now=now)
    [mine] = slot_patterns.add_one_off(db, doctor, day=date(2026, 12, 2), start=time(10, 0), minutes=20, now=now)
    slot_patterns.cancel(db, mine, now=now)
    again = slot_patterns.add_one_off(db, doctor, day=date(2026, 12, 2), start=time(10, 0), minutes=20, now=now)
    assert len(again) == 1


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"minutes": 5}, "minutes"),
    ({"minutes": 61}, "minutes"),
    ({"count": 0}, "count"),
    ({"count": 13}, "count"),
    ({"until": date(2027, 6, 1)}, "until"),
    ({"until": date(2026, 11, 23)}, "until"),
    ({"until": date(2026, 11, 25), "weekdays": [4]}, "until"),
])
def test_weekly_pattern_limits(db, doctor, now, kwargs, field):
    values = dict(weekdays=[2], start=time(9, 0), minutes=20, count=1, until=date(2027, 1, 31))
    values.update(kwargs)
    with pytest.raises(slot_patterns.SlotPatternError) as info:
        slot_patterns.add_weekly(db, doctor, now=now, **values)
    assert info.value.field == field
    assert live_slots(db, doctor) == []


def test_a_one_off_slot_in_the_past_is_refused(db, doctor, now):
    with pytest.raises(slot_patterns.SlotPatternError, match="à venir"):
        slot_patterns.add_one_off(db, doctor, day=date(2026, 11, 24), start=time(9, 0), minutes=20, now=now)


def test_the_week_shows_booked_slots_with_their_request(db, factory, doctor, now):
    [free, taken] = slot_patterns.add_one_off(db, doctor, day=date(2026, 11, 24), start=time(15, 0), minutes=20,
                                              count=2, now=now)
    request = factory.request(kind="snp", patient=factory.patient(territory=doctor.territory), snp_category="fever")
    slots.book(db, taken.id, request, now=now)
    tuesday = slot_patterns.week(db, doctor.id, date(2026, 11, 23))[1]
    assert [(r.slot, r.request) for r in tuesday.rows] == [(free, None), (taken, request)]
    assert [slot_patterns.slot_state(r.slot) for r in tuesday.rows] == ["free", "booked"]
    assert slot_patterns.category_label(request) != ""


def test_cancelling_a_booked_slot_needs_a_reason_and_alerts_the_coordinators(db, factory, doctor, now):
    staff = factory.user("staff", territory=doctor.territory)
    [slot] = slot_patterns.add_one_off(db, doctor, day=date(2026, 11, 25), start=time(9, 0), minutes=20, now=now)
    request = factory.request(kind="snp", patient=factory.patient(territory=doctor.territory))
    slots.book(db, slot.id, request, now=now)
    with pytest.raises(slots.SlotUnavailable, match="Indiquez pourquoi"):
        slot_patterns.cancel(db, slot, now=now, reason="")
    assert slot.status == "booked"
    assert slot_patterns.cancel(db, slot, now=now, reason="Absence imprévue") is request
    assert slot.status == "cancelled" and request.status == "waiting"
    alert = db.scalar(select(Notification).where(Notification.template == "slot_cancelled_alert"))
    assert alert.recipient_user_id == staff.id


def test_a_past_slot_cannot_be_cancelled(db, factory, doctor, now):
    slot = factory.slot(doctor, start=now - timedelta(hours=2))
    with pytest.raises(slots.SlotUnavailable, match="passé"):
        slot_patterns.cancel(db, slot, now=now)
    assert slot.status == "free"
