"""The nightly matching job: territories with automatic matching, once a day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from guichet.jobs.matching import nightly_matching
from guichet.jobs.runner import run_job
from guichet.models import MatchingRun, Proposal

SETTINGS = {"BASE_URL": "https://guichet.test"}


def territory_with_a_match(factory, *, auto=True, approval=False):
    territory = factory.territory()
    territory.is_auto_matching = auto
    territory.is_auto_approval = approval
    doctor = factory.doctor(territory=territory, commune="26223")
    factory.declaration(doctor, 2, max_km=20)
    request = factory.request(factory.patient(territory=territory, commune="26223"))
    return territory, request


def test_territories_with_automatic_matching_get_drafts_for_review_once_a_night(db, factory, now):
    territory, request = territory_with_a_match(factory)
    manual, manual_request = territory_with_a_match(factory, auto=False)
    counts = nightly_matching(db, now=now, settings=SETTINGS)
    assert counts["territories"] >= 1 and counts["drafts"] >= 1
    [draft] = db.scalars(select(Proposal).where(Proposal.request_id == request.id)).all()
    assert draft.status == "proposed"  # waits for the coordinators' review
    assert db.scalar(select(Proposal).where(Proposal.request_id == manual_request.id)) is None
    again = nightly_matching(db, now=now + timedelta(hours=1), settings=SETTINGS)
    assert again["skipped"] >= 1
    assert db.scalar(select(func.count()).select_from(MatchingRun)
                     .where(MatchingRun.territory_id == territory.id)) == 1
    assert draft.status == "proposed"


def test_with_automatic_approval_the_proposal_goes_to_the_gp(sessions, db, factory, now):
    _, request = territory_with_a_match(factory, approval=True)
    db.commit()
    assert run_job("nightly_matching", sessions, now, settings=SETTINGS).outcome == "success"
    db.refresh(request)
    [proposal] = db.scalars(select(Proposal).where(Proposal.request_id == request.id)).all()
    assert proposal.status == "sent" and request.status == "proposed"
