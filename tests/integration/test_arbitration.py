"""Coordinators arbitrate a run's drafts: approve, reject, reassign by hand, exclude a GP."""

from datetime import date

import pytest
from sqlalchemy import select

from guichet.assignment import arbitration, runs
from guichet.doctors import capacity
from guichet.models import AuditEvent, Notification, PairExclusion


@pytest.fixture
def setup(factory):
    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    return territory, staff


def _req(factory, territory, commune="26223", **fields):
    return factory.request(patient=factory.patient(territory=territory, commune=commune, **fields))


def test_approving_selected_drafts_sends_them_and_takes_places(db, factory, now, setup):
    territory, staff = setup
    a, b = _req(factory, territory), _req(factory, territory)
    gp = factory.doctor(territory=territory)
    decl = factory.declaration(gp, new_patients=5)
    drafts = {p.request: p for p in runs.run_mt(db, territory, now=now, user=staff).drafts}
    report = arbitration.approve(db, territory, [drafts[a].id], user=staff, now=now)
    assert report.approved == [drafts[a].id] and report.failed == []
    assert drafts[a].status == "sent" and a.status == "proposed" and drafts[a].approved_by_id == staff.id
    assert drafts[b].status == "proposed" and b.status == "waiting"
    assert decl.committed == 1
    assert db.scalar(select(Notification).where(Notification.dedup_key == f"proposal:{drafts[a].id}:sent"))
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.approve",
                                              AuditEvent.object_id == a.id))


def test_a_full_gp_fails_alone_and_the_rest_of_the_batch_is_approved(db, factory, now, setup):
    territory, staff = setup
    a, b, c = (_req(factory, territory) for _ in range(3))
    gp = factory.doctor(territory=territory)
    other_gp = factory.doctor(territory=territory)
    decl = factory.declaration(gp, new_patients=2)
    factory.declaration(other_gp, new_patients=1, max_km=1)
    outcome = runs.run_mt(db, territory, now=now, user=staff)
    assert len(outcome.drafts) == 3
    # another coordinator used one of the GP's places meanwhile
    capacity.reserve(db, decl.id, today=now.date())
    report = arbitration.approve(db, territory, [p.id for p in outcome.drafts], user=staff, now=now)
    assert len(report.approved) == 2
    [(failed_id, message)] = report.failed
    assert "plus de place" in message
    failed = next(p for p in outcome.drafts if p.id == failed_id)
    assert failed.status == "proposed" and failed.request.status == "waiting"  # no half state
    assert decl.committed == decl.new_patients == 2


def test_gp_lowering_capacity_after_the_run_cannot_be_overcommitted(db, factory, now, setup):
    territory, staff = setup
    for _ in range(3):
        _req(factory, territory)
    gp = factory.doctor(territory=territory)
    factory.declaration(gp, new_patients=3)
    outcome = runs.run_mt(db, territory, now=now, user=staff)
    assert len(outcome.drafts) == 3
    new_decl, _ = capacity.declare(db, gp, now=now, new_patients=1, max_km=20)
    report = arbitration.approve(db, territory, [p.id for p in outcome.drafts], user=staff, now=now)
    assert len(report.approved) == 1 and len(report.failed) == 2
    assert new_decl.committed == 1
    assert {p.declaration_id for p in outcome.drafts if p.status == "sent"} == {new_decl.id}


def test_a_proposal_of_another_territory_is_not_approved(db, factory, now, setup):
    territory, staff = setup
    elsewhere = factory.territory()
    _req(factory, elsewhere)
    factory.declaration(factory.doctor(territory=elsewhere))
    draft = runs.run_mt(db, elsewhere, now=now).drafts[0]
    report = arbitration.approve(db, territory, [draft.id], user=staff, now=now)
    assert report.approved == [] and draft.status == "proposed"
    assert arbitration.territory_proposal(db, territory, draft.id) is None


def test_rejecting_a_draft_keeps_the_patient_waiting(db, factory, now, setup):
    territory, staff = setup
    request = _req(factory, territory)
    factory.declaration(factory.doctor(territory=territory))
    draft = runs.run_mt(db, territory, now=now).drafts[0]
    arbitration.reject(db, draft, user=staff, now=now)
    assert draft.status == "cancelled" and request.status == "waiting"
    with pytest.raises(arbitration.ArbitrationError):
        arbitration.reject(db, draft, user=staff, now=now)


def test_reassigning_by_hand_pins_the_pair_and_reruns_keep_it(db, factory, now, setup):
    territory, staff = setup
    request = _req(factory, territory, commune="26223")
    near = factory.doctor(territory=territory, commune="26223")
    factory.declaration(near)
    far = factory.doctor(territory=territory, commune="26059")
    factory.declaration(far)
    draft = runs.run_mt(db, territory, now=now).drafts[0]
    assert draft.doctor is near
    choices = arbitration.reassignable_doctors(db, request, now=now)
    assert [c.doctor for c in choices] == [near, far]
    pinned = arbitration.reassign(db, request, far.id, user=staff, now=now)
    assert draft.status == "cancelled" and pinned.is_pinned and pinned.doctor is far
    assert pinned.distance_km == pytest.approx(7.3, abs=0.1)
    again = runs.run_mt(db, territory, now=now)
    assert again.drafts == [pinned] and pinned.status == "proposed"


def test_reassigning_checks_territory_exclusion_and_capacity(db, factory, now, setup):
    territory, staff = setup
    request = _req(factory, territory)
    outsider = factory.doctor(territory=factory.territory())
    factory.declaration(outsider)
    with pytest.raises(arbitration.ArbitrationError, match="de votre territoire"):
        arbitration.reassign(db, request, outsider.id, user=staff, now=now)
    excluded = factory.doctor(territory=territory)
    factory.declaration(excluded)
    db.add(PairExclusion(patient_id=request.patient_id, doctor_id=excluded.id, reason="declined", created_dt=now))
    db.flush()
    with pytest.raises(arbitration.ArbitrationError, match="déjà refusé"):
        arbitration.reassign(db, request, excluded.id, user=staff, now=now)
    full = factory.doctor(territory=territory)
    factory.declaration(full, new_patients=1, committed=1)
    with pytest.raises(arbitration.ArbitrationError, match="plus de place"):
        arbitration.reassign(db, request, full.id, user=staff, now=now)
    undeclared = factory.doctor(territory=territory)
    with pytest.raises(arbitration.ArbitrationError, match="pas de disponibilité"):
        arbitration.reassign(db, request, undeclared.id, user=staff, now=now)


def test_excluding_a_gp_forbids_the_pair_for_every_later_run(db, factory, now, setup):
    territory, staff = setup
    request = _req(factory, territory, commune="26223", birth_date=date(1980, 1, 1))
    near = factory.doctor(territory=territory, commune="26223")
    factory.declaration(near)
    far = factory.doctor(territory=territory, commune="26059")
    factory.declaration(far)
    draft = runs.run_mt(db, territory, now=now).drafts[0]
    arbitration.exclude(db, draft, user=staff, now=now)
    assert draft.status == "cancelled" and request.status == "waiting"
    exclusion = db.scalar(select(PairExclusion).where(PairExclusion.patient_id == request.patient_id))
    assert (exclusion.doctor_id, exclusion.reason, exclusion.created_by_id) == (near.id, "excluded", staff.id)
    again = runs.run_mt(db, territory, now=now)
    assert [p.doctor for p in again.drafts] == [far]


def test_reassignment_offers_only_gps_with_a_place_left_now(db, factory, now, setup):
    territory, staff = setup
    first, second = _req(factory, territory), _req(factory, territory)
    busy = factory.doctor(territory=territory, last_name="Occupé")
    factory.declaration(busy, new_patients=2, max_km=25)
    runs.run_mt(db, territory, now=now)  # both drafts go to the only GP: no place left now
    assert arbitration.reassignable_doctors(db, first, now=now)[0].places_left == 1  # its own draft is replaced
    third = _req(factory, territory)
    assert arbitration.reassignable_doctors(db, third, now=now) == []
    with pytest.raises(arbitration.ArbitrationError, match="plus de place"):
        arbitration.reassign(db, third, busy.id, user=staff, now=now)
    free = factory.doctor(territory=territory)
    factory.declaration(free, new_patients=3, max_km=25, is_priority_only=True, priority_flags=["ald"])
    [choice] = arbitration.reassignable_doctors(db, third, now=now)
    assert choice.doctor is free and choice.places_left == 3 and choice.within_reach
    assert choice.constraints[0] == "jusqu'à 25 km"
    assert choice.constraints[1].startswith("patients prioritaires seulement (")
    # what is offered can always be approved afterwards
    pinned = arbitration.reassign(db, third, free.id, user=staff, now=now)
    report = arbitration.approve(db, territory, arbitration.pending_drafts(db, territory), user=staff, now=now)
    assert report.failed == [] and pinned.id in report.approved and second.status == "proposed"
