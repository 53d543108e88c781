"""Every legal and illegal status transition, through the one place that changes them."""

import itertools

import pytest

from guichet.models import Proposal, RequestStatus
from guichet.workflow import (
    PROPOSAL_TRANSITIONS,
    REQUEST_TRANSITIONS,
    IllegalTransition,
    change_proposal_status,
    change_request_status,
)

ALL_STATUSES = [s.value for s in RequestStatus]
REQUEST_CASES = [
    (kind, current, target, target in {str(t) for t in REQUEST_TRANSITIONS[kind].get(current, set())})
    for kind in ("mt", "snp")
    for current, target in itertools.product(ALL_STATUSES, ALL_STATUSES)
]


@pytest.mark.parametrize("kind,current,target,legal", REQUEST_CASES)
def test_request_transition(factory, db, now, kind, current, target, legal):
    request = factory.request(kind=kind, status="waiting")
    request.status = current  # set the starting point directly, then go through the workflow
    db.flush()
    if legal:
        event = change_request_status(db, request, target, now=now, actor="staff", reason="other")
        assert request.status == target
        assert (event.from_status, event.to_status) == (current, target)
        assert request.events[-1] is event
    else:
        with pytest.raises(IllegalTransition) as exc:
            change_request_status(db, request, target, now=now)
        assert request.status == current
        assert f"« {current} » à « {target} » impossible" in str(exc.value)


def test_completed_request_cannot_go_back_to_waiting(factory, db, now):
    request = factory.request(status="waiting")
    for step in ("proposed", "matched", "completed"):
        change_request_status(db, request, step, now=now)
    assert request.closed_dt == now
    with pytest.raises(IllegalTransition, match="completed.*waiting"):
        change_request_status(db, request, "waiting", now=now)


def test_qualifying_counts_the_wait_from_submission(factory, db, now):
    request = factory.request(status="submitted", waited_days=7)
    change_request_status(db, request, "waiting", now=now)
    assert request.waiting_since_dt == request.submitted_dt


PROPOSAL_STATUSES = list(PROPOSAL_TRANSITIONS)


@pytest.mark.parametrize("current,target", list(itertools.product(PROPOSAL_STATUSES, PROPOSAL_STATUSES)))
def test_proposal_transition(now, current, target):
    proposal = Proposal(status=current)
    if target in PROPOSAL_TRANSITIONS[current]:
        change_proposal_status(proposal, target, now=now, reason="motif")
        assert proposal.status == target
    else:
        with pytest.raises(IllegalTransition):
            change_proposal_status(proposal, target, now=now)
        assert proposal.status == current
