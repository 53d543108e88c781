"""The MT problem builder and matching runs: each database rule reaches the engine."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from guichet.assignment import problems, proposals, review, runs
from guichet.models import MatchingRun, Notification, PairExclusion, Proposal
from guichet.territories.geo import get_commune


@pytest.fixture
def territory(factory):
    return factory.territory()


def _patient(factory, territory, commune="26223", **fields):
    return factory.patient(territory=territory, commune=commune, **fields)


def _request(factory, territory, commune="26223", waited_days=10, request_fields=None, **fields):
    return factory.request(patient=_patient(factory, territory, commune, **fields), waited_days=waited_days,
                           **(request_fields or {}))


def test_demands_are_waiting_mt_requests_weighted_by_their_refreshed_priority(db, factory, now, territory):
    waiting = _request(factory, territory, birth_date=date(1990, 1, 1), max_km=7)
    _request(factory, territory, request_fields={"kind": "snp"})
    factory.request(patient=_patient(factory, territory), status="submitted")
    waiting.priority_score = 0.0  # stale: the builder refreshes it with `now`
    built = problems.build_mt_problem(db, territory, now=now)
    assert [d.id for d in built.problem.demands] == [waiting.id]
    demand = built.problem.demands[0]
    assert waiting.priority_score == 11.0  # 1 + 10 days waited
    assert 11.0 + built.parameters["reach_bonus"] < demand.weight < 12.0 + built.parameters["reach_bonus"]
    assert demand.max_km == 7
    commune = get_commune(db, "26223")
    assert (demand.lat, demand.lon) == (commune.lat, commune.lon)


def test_offers_are_open_declarations_with_remaining_capacity_and_their_radius(db, factory, now, territory):
    open_gp = factory.doctor(territory=territory)
    factory.declaration(open_gp, new_patients=3, committed=1, max_km=12)
    paused = factory.doctor(territory=territory)
    factory.declaration(paused, new_patients=3, is_paused=True)
    past = factory.doctor(territory=territory)
    factory.declaration(past, new_patients=3, valid_until=now.date() - timedelta(days=1))
    factory.doctor(territory=territory)  # never declared
    other = factory.doctor(territory=factory.territory())
    factory.declaration(other, new_patients=3)
    built = problems.build_mt_problem(db, territory, now=now)
    assert [(o.id, o.capacity, o.max_km) for o in built.problem.offers] == [(open_gp.id, 2, 12.0)]


def test_needs_become_tags_the_gp_must_accept(db, factory, now, territory):
    request = _request(factory, territory, needs_home_visit=True, needs_step_free=True,
                       request_fields={"children_birth_dates": ["2020-05-01"]})
    gp = factory.doctor(territory=territory, has_step_free_access=True)
    factory.declaration(gp, accepts_children=True, does_home_visits=False)
    built = problems.build_mt_problem(db, territory, now=now)
    assert built.problem.demands[0].tags == {"children", "home_visit", "step_free"}
    assert built.problem.offers[0].accepts == {"children", "step_free"}
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert outcome.placements == []
    [unplaced] = outcome.unplaced
    assert unplaced.request is request
    assert unplaced.text == "aucun médecin proche n'accepte : visites à domicile"


def test_languages_are_a_preference_shown_in_the_explanation_not_a_constraint(db, factory, now, territory):
    _request(factory, territory, languages=["ar"])
    gp = factory.doctor(territory=territory)
    factory.declaration(gp, languages=["ar", "en"])
    built = problems.build_mt_problem(db, territory, now=now)
    assert built.problem.demands[0].tags == frozenset()
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert outcome.placements[0].explanation["languages"] == ["ar"]
    assert "langue partagée : ar" in outcome.placements[0].explanation["summary"]


def test_priority_only_gp_is_forbidden_for_patients_without_its_flags(db, factory, now, territory):
    ald = _request(factory, territory, is_ald=True, birth_date=date(1990, 1, 1))
    plain = _request(factory, territory, birth_date=date(1990, 1, 1), waited_days=400)
    css = _request(factory, territory, is_css=True, birth_date=date(1990, 1, 1))
    gp = factory.doctor(territory=territory)
    factory.declaration(gp, new_patients=5, is_priority_only=True, priority_flags=["ald"])
    built = problems.build_mt_problem(db, territory, now=now)
    assert set(built.problem.forbidden) == {(plain.id, gp.id), (css.id, gp.id)}
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert [p.request for p in outcome.placements] == [ald]
    texts = {u.request.id: u.text for u in outcome.unplaced}
    assert texts == {plain.id: "médecins proches réservés aux patients prioritaires",
                     css.id: "médecins proches réservés aux patients prioritaires"}


def test_priority_only_gp_without_listed_flags_takes_any_priority_patient(db, factory, now, territory):
    css = _request(factory, territory, is_css=True, birth_date=date(1990, 1, 1))
    plain = _request(factory, territory, birth_date=date(1990, 1, 1))
    gp = factory.doctor(territory=territory)
    factory.declaration(gp, is_priority_only=True, priority_flags=[])
    built = problems.build_mt_problem(db, territory, now=now)
    assert list(built.problem.forbidden) == [(plain.id, gp.id)]
    assert css.id not in {d for d, _ in built.problem.forbidden}


def test_declined_and_excluded_pairs_are_forbidden(db, factory, now, territory):
    request = _request(factory, territory)
    gp = factory.doctor(territory=territory)
    factory.declaration(gp)
    db.add(PairExclusion(patient_id=request.patient_id, doctor_id=gp.id, reason="declined", created_dt=now))
    db.flush()
    built = problems.build_mt_problem(db, territory, now=now)
    assert list(built.problem.forbidden) == [(request.id, gp.id)]
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert outcome.unplaced[0].text == "médecins proches déjà refusés ou exclus"


def test_unplaced_patients_get_their_reason_in_french(db, factory, now, territory):
    far = _request(factory, territory, commune="26117", max_km=5)  # 11 km from the GP
    urgent = _request(factory, territory, is_ald=True)
    late = _request(factory, territory, birth_date=date(1990, 1, 1))
    gp = factory.doctor(territory=territory, commune="26223")
    factory.declaration(gp, new_patients=1)
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert [p.request for p in outcome.placements] == [urgent]
    texts = {u.request.id: u.text for u in outcome.unplaced}
    assert texts[far.id] == "aucun médecin disponible à moins de 5 km"
    assert texts[late.id] == "places prises par des patients prioritaires ou plus proches"
    assert outcome.stats["unassigned_by_reason"] == {"no_offer_in_reach": 1, "capacity_taken": 1}


def test_patient_whose_commune_has_no_position_is_reported(db, factory, now, territory):
    request = _request(factory, territory, commune="26059")
    get_commune(db, "26059").lat = None
    db.flush()
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert [(u.request, u.text) for u in outcome.unplaced] == [(request, "commune sans coordonnées")]


def test_a_run_stores_the_run_and_its_drafts_in_the_session(db, factory, now, territory):
    staff = factory.user("staff", territory=territory)
    first = _request(factory, territory, is_ald=True)
    second = _request(factory, territory)
    gp = factory.doctor(territory=territory)
    decl = factory.declaration(gp, new_patients=5)
    outcome = runs.run_mt(db, territory, now=now, user=staff)
    run = outcome.run
    assert run.started_by_id == staff.id and run.kind == "mt"
    assert run.stats["n_demands"] == 2 and run.stats["n_assigned"] == 2 and run.stats["n_offers"] == 1
    assert run.solver_seconds > 0 and run.parameters["km_cost"] == 1.0
    drafts = db.scalars(select(Proposal).where(Proposal.run_id == run.id).order_by(Proposal.id)).all()
    assert {p.request for p in drafts} == {first, second}
    draft = drafts[0]
    assert draft.status == "proposed" and draft.declaration_id == decl.id and draft.distance_km == 0
    assert draft.explanation["priority"]["ald"] == 300 and draft.explanation["summary"]
    # drafts wait for review: nothing is sent and no place is taken
    assert first.status == "waiting" and decl.committed == 0
    assert db.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_dry_run_writes_nothing(db, factory, now, territory):
    _request(factory, territory)
    gp = factory.doctor(territory=territory)
    factory.declaration(gp)
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert len(outcome.placements) == 1 and outcome.run is None
    assert db.scalar(select(func.count()).select_from(MatchingRun)) == 0
    assert db.scalar(select(func.count()).select_from(Proposal)) == 0


def test_a_new_run_replaces_unreviewed_drafts_but_keeps_pinned_ones(db, factory, now, territory):
    pinned_req = _request(factory, territory)
    other = _request(factory, territory, is_ald=True)
    near = factory.doctor(territory=territory, commune="26223")
    factory.declaration(near, new_patients=1)
    far = factory.doctor(territory=territory, commune="26059")
    far_decl = factory.declaration(far, new_patients=1)
    pinned = proposals.create_draft(db, pinned_req, far, now=now, declaration_id=far_decl.id, is_pinned=True)
    first = runs.run_mt(db, territory, now=now)
    old_draft = next(p for p in first.drafts if p.request is other)
    assert old_draft.doctor is near
    second = runs.run_mt(db, territory, now=now)
    assert old_draft.status == "cancelled" and old_draft.cancel_reason == runs.REPLACED_REASON
    assert pinned.status == "proposed" and pinned in second.drafts
    # the pin used the far GP's only place: the other patient is proposed to the near GP again
    new_draft = next(p for p in second.drafts if p.request is other)
    assert new_draft.doctor is near and new_draft.id != old_draft.id
    assert second.run.stats["n_pinned"] == 1


def test_pinned_pairs_use_capacity_so_no_new_draft_exceeds_it(db, factory, now, territory):
    pinned_req = _request(factory, territory)
    urgent = _request(factory, territory, is_ald=True)
    gp = factory.doctor(territory=territory)
    decl = factory.declaration(gp, new_patients=1)
    proposals.create_draft(db, pinned_req, gp, now=now, declaration_id=decl.id, is_pinned=True)
    built = problems.build_mt_problem(db, territory, now=now)
    assert built.problem.pinned == {pinned_req.id: gp.id}
    outcome = runs.run_mt(db, territory, now=now)
    assert [u.request for u in outcome.unplaced] == [urgent]
    assert outcome.unplaced[0].reason == "capacity_taken"


def test_automatic_approval_sends_the_drafts_at_once(db, factory, now, territory):
    territory.is_auto_approval = True
    request = _request(factory, territory)
    gp = factory.doctor(territory=territory)
    decl = factory.declaration(gp)
    outcome = runs.run_mt(db, territory, now=now)
    assert outcome.drafts[0].status == "sent" and request.status == "proposed" and decl.committed == 1
    assert db.scalar(select(Notification).where(Notification.template == "proposal_to_gp"))
    assert outcome.run.stats["auto_approved"] == 1


def test_review_data_lists_drafts_and_unplaced_with_reasons(db, factory, now, territory):
    placed = _request(factory, territory)
    far = _request(factory, territory, commune="26117", max_km=5)
    gp = factory.doctor(territory=territory)
    factory.declaration(gp)
    outcome = runs.run_mt(db, territory, now=now)
    data = review.review_data(db, outcome.run)
    assert [p.request for p in data["proposals"]] == [placed]
    assert [(u["request"], u["text"]) for u in data["unplaced"]] == [(far, "aucun médecin disponible à moins de 5 km")]
    assert data["pending"] == 1
