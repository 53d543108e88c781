"""The proposal lifecycle keeps proposal, request and GP capacity in step."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from guichet.assignment import proposals
from guichet.doctors import capacity, slots
from guichet.models import Notification, PairExclusion
from guichet.workflow import IllegalTransition


@pytest.fixture
def setup(factory):
    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    decl = factory.declaration(doctor, new_patients=2)
    return territory, doctor, decl


def draft(db, factory, territory, doctor, decl, now):
    request = factory.request(patient=factory.patient(territory=territory))
    return proposals.create_draft(db, request, doctor, now=now, declaration_id=decl.id, distance_km=3.2)


def test_approval_takes_a_place_and_tells_the_gp(db, factory, now, setup):
    territory, doctor, decl = setup
    p = draft(db, factory, territory, doctor, decl, now)
    assert p.request.status == "waiting"  # a draft does not change what the patient sees
    proposals.approve_and_send(db, p, now=now, user_id=None)
    assert p.status == "sent" and p.request.status == "proposed"
    assert decl.committed == 1
    assert capacity.summary(db, decl).remaining == 1
    assert p.answer_due_date == now.date() + timedelta(days=7)
    assert db.scalar(select(Notification).where(Notification.dedup_key == f"proposal:{p.id}:sent"))


def test_gp_at_capacity_gets_no_new_patient(db, factory, now, setup):
    territory, doctor, decl = setup
    for _ in range(2):
        proposals.approve_and_send(db, draft(db, factory, territory, doctor, decl, now), now=now)
    third = draft(db, factory, territory, doctor, decl, now)
    with pytest.raises(capacity.CapacityExhausted, match="plus de place"):
        proposals.approve_and_send(db, third, now=now)
    assert decl.committed == 2


def test_decline_gives_the_place_back_and_forbids_the_pair(db, factory, now, setup):
    territory, doctor, decl = setup
    p = draft(db, factory, territory, doctor, decl, now)
    proposals.approve_and_send(db, p, now=now)
    proposals.decline(db, p, now=now, reason="patientèle complète")
    assert decl.committed == 0 and p.request.status == "waiting"
    assert db.scalar(select(PairExclusion).where(PairExclusion.patient_id == p.request.patient_id,
                                                 PairExclusion.doctor_id == doctor.id)).reason == "declined"


def test_acceptance_then_both_follow_ups_complete_the_request(db, factory, now, setup):
    territory, doctor, decl = setup
    p = draft(db, factory, territory, doctor, decl, now)
    proposals.approve_and_send(db, p, now=now)
    proposals.accept(db, p, now=now)
    assert p.request.status == "matched" and capacity.summary(db, decl).accepted == 1
    proposals.record_follow_up(db, p, now=now, first_consultation=True)
    assert p.request.status == "matched"
    proposals.record_follow_up(db, p, now=now, mt_declared=True)
    assert p.request.status == "completed"
    with pytest.raises(IllegalTransition):
        proposals.decline(db, p, now=now)


def test_expiry_requeues_without_excluding(db, factory, now, setup):
    territory, doctor, decl = setup
    p = draft(db, factory, territory, doctor, decl, now)
    proposals.approve_and_send(db, p, now=now)
    proposals.expire(db, p, now=now)
    assert p.request.status == "waiting" and decl.committed == 0
    assert db.scalar(select(PairExclusion)) is None


def test_new_declaration_keeps_or_returns_pending_proposals(db, factory, now, setup):
    territory, doctor, decl = setup
    p = draft(db, factory, territory, doctor, decl, now)
    proposals.approve_and_send(db, p, now=now)
    new, to_return = capacity.declare(db, doctor, now=now, new_patients=1, pending_action="keep")
    assert to_return == [] and p.declaration_id == new.id and new.committed == 1
    newer, to_return = capacity.declare(db, doctor, now=now, new_patients=0, pending_action="return")
    assert to_return == [p]
    for proposal in to_return:
        proposals.cancel(db, proposal, now=now, reason="capacité réduite par le médecin")
    assert p.request.status == "waiting" and newer.committed == 0


def test_a_slot_is_booked_once(db, factory, now):
    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    slot = factory.slot(doctor)
    first = factory.request(kind="snp", patient=factory.patient(territory=territory))
    second = factory.request(kind="snp", patient=factory.patient(territory=territory))
    slots.book(db, slot.id, first, now=now)
    assert slot.status == "booked" and first.status == "booked"
    with pytest.raises(slots.SlotUnavailable):
        slots.book(db, slot.id, second, now=now)
    assert second.status == "waiting"


def test_cancelling_a_booked_slot_needs_a_reason_and_alerts_staff(db, factory, now):
    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    doctor = factory.doctor(territory=territory)
    slot = factory.slot(doctor)
    request = factory.request(kind="snp", patient=factory.patient(territory=territory))
    slots.book(db, slot.id, request, now=now)
    with pytest.raises(slots.SlotUnavailable, match="Indiquez pourquoi"):
        slots.cancel(db, slot, now=now, reason=" ")
    assert slots.cancel(db, slot, now=now, reason="urgence au cabinet") is request
    assert request.status == "waiting" and slot.status == "cancelled"
    assert db.scalar(select(Notification).where(Notification.recipient_user_id == staff.id,
                                                Notification.template == "slot_cancelled_alert"))


@pytest.mark.parametrize("age,label", [(5, "moins de 16 ans"), (16, "16–29 ans"), (29, "16–29 ans"),
                                       (30, "30–44 ans"), (69, "60–69 ans"), (70, "70–79 ans"),
                                       (89, "80–89 ans"), (90, "90 ans et plus")])
def test_gps_see_non_overlapping_age_bands(factory, now, age, label):
    from datetime import date

    birth = date(now.year - age, 1, 1)
    request = factory.request(patient=factory.patient(birth_date=birth))
    assert proposals.age_group(request, now) == label


def test_the_helper_who_filled_in_the_request_is_told_of_the_booking(db, factory, now):
    territory = factory.territory()
    slot = factory.slot(factory.doctor(territory=territory))
    patient = factory.patient(territory=territory, filled_by="relative", proxy_relation="fille",
                              proxy_email="fille@exemple.fr")
    request = factory.request(kind="snp", patient=patient)
    slots.book(db, slot.id, request, now=now)
    message = db.scalar(select(Notification).where(Notification.template == "snp_booked"))
    assert message.recipient_email == "fille@exemple.fr"
    assert message.context["reference"] == request.reference
