"""Follow-ups, expiries, capacity reminders and SNP housekeeping: tested by moving the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from guichet.assignment import proposals
from guichet.doctors import slots
from guichet.jobs.runner import run_job
from guichet.messaging import follow_up
from guichet.models import FollowUp, Notification, PairExclusion, Proposal, Slot

SETTINGS = {"BASE_URL": "https://guichet.test"}


def messages(db, template):
    return db.scalars(select(Notification).where(Notification.template == template)).all()


def n_notifications(db):
    return db.scalar(select(func.count()).select_from(Notification))


@pytest.fixture
def sent(db, factory, now):
    """A proposal sent to a GP at `now`, answer due in 7 days."""
    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    declaration = factory.declaration(doctor, 3)
    request = factory.request(factory.patient(territory=territory))
    proposal = proposals.create_draft(db, request, doctor, now=now, declaration_id=declaration.id, distance_km=2)
    proposals.approve_and_send(db, proposal, now=now)
    return proposal


def run_twice(db, now, fn=follow_up.run_follow_ups):
    first = fn(db, now=now, settings=SETTINGS)
    before = n_notifications(db)
    second = fn(db, now=now, settings=SETTINGS)
    assert n_notifications(db) == before
    return first, second


def test_a_gp_without_answer_gets_one_reminder_after_three_days(db, sent, now):
    assert follow_up.remind_gps(db, now=now + timedelta(days=2, hours=23), settings=SETTINGS) == 0
    first, second = run_twice(db, now + timedelta(days=3))
    assert first["gp_reminders"] == 1 and second["gp_reminders"] == 0
    [reminder] = messages(db, "followup_gp_reminder")
    assert reminder.recipient_email == sent.doctor.email
    assert reminder.dedup_key == f"followup:gp_reminder:{sent.id}"
    assert "Dupont" not in str(reminder.context)  # the GP sees no name before accepting
    assert sent.status == "sent"


def test_a_proposal_unanswered_past_its_date_expires_without_excluding_the_gp(db, sent, now):
    request = sent.request
    assert follow_up.expire_proposals(db, now=now + timedelta(days=7)) == 0  # due date is still today
    first, second = run_twice(db, now + timedelta(days=8))
    assert first["expired_proposals"] == 1 and second["expired_proposals"] == 0
    assert sent.status == "expired" and request.status == "waiting"
    assert sent.declaration.committed == 0
    assert db.scalar(select(PairExclusion).where(PairExclusion.patient_id == request.patient_id)) is None


def test_a_declined_proposal_excludes_the_gp_for_this_patient_only(db, sent, now):
    proposals.decline(db, sent, now=now + timedelta(days=1), reason="Patientèle complète")
    follow_up.run_follow_ups(db, now=now + timedelta(days=8), settings=SETTINGS)
    exclusion = db.scalar(select(PairExclusion).where(PairExclusion.doctor_id == sent.doctor_id))
    assert exclusion.patient_id == sent.request.patient_id and exclusion.reason == "declined"
    assert messages(db, "followup_gp_reminder") == []


def accepted(db, sent, now):
    proposals.accept(db, sent, now=now)
    return sent


def test_patient_is_asked_about_the_first_consultation_at_d14_and_yes_records_it(db, sent, now):
    accepted(db, sent, now)
    assert follow_up.ask_first_consultation(db, now=now + timedelta(days=13), settings=SETTINGS) == 0
    first, second = run_twice(db, now + timedelta(days=14))
    assert first["first_consultation_questions"] == 1 and second["first_consultation_questions"] == 0
    [mail] = messages(db, "followup_patient_first_consultation")
    question = db.scalar(select(FollowUp).where(FollowUp.kind == "patient_first_consultation"))
    assert mail.context["yes_url"] == f"https://guichet.test/reponse/{question.answer_token}/oui"
    assert len(question.answer_token) >= 40
    follow_up.record_answer(db, question.answer_token, "oui", now=now + timedelta(days=15))
    assert sent.first_consultation_dt == now + timedelta(days=15)
    assert question.answer == "yes" and question.done_dt is not None
    with pytest.raises(follow_up.AnswerError, match="déjà été enregistrée"):
        follow_up.record_answer(db, question.answer_token, "non", now=now + timedelta(days=16))


def test_gp_is_asked_at_d30_and_both_answers_complete_the_request(db, sent, now):
    accepted(db, sent, now)
    follow_up.run_follow_ups(db, now=now + timedelta(days=14), settings=SETTINGS)
    patient_q = db.scalar(select(FollowUp).where(FollowUp.kind == "patient_first_consultation"))
    follow_up.record_answer(db, patient_q.answer_token, "oui", now=now + timedelta(days=15))
    assert follow_up.ask_gp_mt_declared(db, now=now + timedelta(days=29), settings=SETTINGS) == 0
    first, _ = run_twice(db, now + timedelta(days=30))
    assert first["mt_declared_questions"] == 1
    [mail] = messages(db, "followup_gp_mt_declared")
    assert mail.recipient_email == sent.doctor.email
    gp_q = db.scalar(select(FollowUp).where(FollowUp.kind == "gp_mt_declared"))
    follow_up.record_answer(db, gp_q.answer_token, "oui", now=now + timedelta(days=31))
    assert sent.mt_declared_dt is not None and sent.request.status == "completed"


def snp_booking(db, factory, now):
    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    slot = factory.slot(doctor, start=now + timedelta(hours=3))
    request = factory.request(factory.patient(territory=territory), kind="snp")
    slots.book(db, slot.id, request, now=now)
    return slot, request


@pytest.mark.parametrize(("answer", "status"), [("oui", "completed"), ("non", "no_show")])
def test_snp_patient_is_asked_the_day_after_and_a_no_is_recorded_as_no_show(db, factory, now, answer, status):
    slot, request = snp_booking(db, factory, now)
    assert follow_up.ask_after_snp_visit(db, now=slot.end_dt + timedelta(hours=23), settings=SETTINGS) == 0
    first, second = run_twice(db, slot.end_dt + timedelta(days=1))
    assert first["snp_questions"] == 1 and second["snp_questions"] == 0
    question = db.scalar(select(FollowUp).where(FollowUp.kind == "snp_after_visit", FollowUp.request_id == request.id))
    follow_up.record_answer(db, question.answer_token, answer, now=slot.end_dt + timedelta(days=1, hours=2))
    assert request.status == status


def test_waiting_patient_confirms_every_90_days_and_silence_expires_the_request_with_a_last_message(db, factory, now):
    request = factory.request(factory.patient(), waited_days=10)
    ask_at = request.waiting_since_dt + timedelta(days=90)
    assert follow_up.ask_still_waiting(db, now=ask_at - timedelta(minutes=1), settings=SETTINGS) == 0
    first, second = run_twice(db, ask_at)
    assert first["still_waiting_questions"] == 1 and second["still_waiting_questions"] == 0
    # no answer: 30 days later the request expires, once, with one last message
    assert follow_up.expire_unanswered(db, now=ask_at + timedelta(days=29)) == 0
    first, second = run_twice(db, ask_at + timedelta(days=30))
    assert first["expired_requests"] == 1 and second["expired_requests"] == 0
    assert request.status == "expired" and request.close_reason == "no_answer"
    [last] = messages(db, "request_expired_no_answer")
    assert last.request_id == request.id


def test_a_patient_who_still_waits_is_asked_again_90_days_after_answering_yes(db, factory, now):
    request = factory.request(factory.patient(), waited_days=100)
    follow_up.ask_still_waiting(db, now=now, settings=SETTINGS)
    question = db.scalar(select(FollowUp).where(FollowUp.request_id == request.id))
    follow_up.record_answer(db, question.answer_token, "oui", now=now + timedelta(days=2))
    assert request.status == "waiting"
    assert follow_up.expire_unanswered(db, now=now + timedelta(days=40)) == 0
    assert follow_up.ask_still_waiting(db, now=now + timedelta(days=91), settings=SETTINGS) == 0
    assert follow_up.ask_still_waiting(db, now=now + timedelta(days=92), settings=SETTINGS) == 1


def test_a_patient_who_no_longer_needs_a_gp_answers_no_and_the_request_is_withdrawn(db, factory, now):
    request = factory.request(factory.patient(), waited_days=100)
    follow_up.ask_still_waiting(db, now=now, settings=SETTINGS)
    question = db.scalar(select(FollowUp).where(FollowUp.request_id == request.id))
    follow_up.record_answer(db, question.answer_token, "non", now=now)
    assert request.status == "withdrawn"


def test_answer_links_are_refused_when_unknown_or_the_request_is_closed(db, factory, now):
    with pytest.raises(follow_up.AnswerError, match="pas valide"):
        follow_up.find_answerable(db, "inconnu")
    request = factory.request(factory.patient(), waited_days=100)
    follow_up.ask_still_waiting(db, now=now, settings=SETTINGS)
    question = db.scalar(select(FollowUp).where(FollowUp.request_id == request.id))
    from guichet.workflow import change_request_status

    change_request_status(db, request, "cancelled", now=now, actor="staff", reason="duplicate")
    with pytest.raises(follow_up.AnswerError, match="close"):
        follow_up.record_answer(db, question.answer_token, "oui", now=now)


def test_monthly_capacity_reminder_goes_once_to_gps_with_a_stale_or_missing_declaration(db, factory, now):
    territory = factory.territory()
    fresh = factory.doctor(territory=territory)
    factory.declaration(fresh, 3, declared_dt=now - timedelta(days=5))
    stale = factory.doctor(territory=territory)
    factory.declaration(stale, 3, declared_dt=now - timedelta(days=45))
    never = factory.doctor(territory=territory)
    first = follow_up.capacity_reminders(db, now=now, settings=SETTINGS)
    again = follow_up.capacity_reminders(db, now=now + timedelta(days=1), settings=SETTINGS)
    recipients = {m.recipient_email for m in messages(db, "capacity_reminder")}
    assert {stale.email, never.email} <= recipients and fresh.email not in recipients
    assert first["capacity_reminders"] >= 2 and again["capacity_reminders"] == 0
    # next month, a new reminder
    follow_up.capacity_reminders(db, now=now + timedelta(days=31), settings=SETTINGS)
    assert len([m for m in messages(db, "capacity_reminder") if m.recipient_email == stale.email]) == 2


def test_snp_housekeeping_releases_past_free_slots_and_closes_past_appointments(db, factory, now):
    doctor = factory.doctor()
    past_free = factory.slot(doctor, start=now - timedelta(hours=2))
    future_free = factory.slot(doctor, start=now + timedelta(hours=5))
    slot, request = snp_booking(db, factory, now)
    result = follow_up.snp_housekeeping(db, now=now)
    assert result["released_slots"] >= 1
    db.refresh(past_free)
    db.refresh(future_free)
    assert past_free.status == "released" and future_free.status == "free"
    assert follow_up.snp_housekeeping(db, now=slot.end_dt + timedelta(days=2))["closed_requests"] == 0
    assert follow_up.snp_housekeeping(db, now=slot.end_dt + timedelta(days=3))["closed_requests"] == 1
    assert request.status == "completed"
    assert follow_up.snp_housekeeping(db, now=slot.end_dt + timedelta(days=3))["closed_requests"] == 0
    assert db.get(Slot, slot.id).status == "booked"


def test_the_follow_up_job_run_twice_gives_the_same_state_and_a_single_message(sessions, db, sent, now):
    later = now + timedelta(days=3)
    assert run_job("follow_ups", sessions, later, settings=SETTINGS).outcome == "success"
    assert run_job("follow_ups", sessions, later, settings=SETTINGS).outcome == "success"
    assert len(messages(db, "followup_gp_reminder")) == 1
    assert db.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.kind == "gp_reminder")) == 1
    assert db.get(Proposal, sent.id).status == "sent"
