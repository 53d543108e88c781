"""The review read-model of a run: what the coordinators see before they approve."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from guichet import paging
from guichet.assignment import proposals
from guichet.assignment.priority import FLAG_LABELS
from guichet.assignment.problems import request_flags
from guichet.models import (
    MatchingRun,
    PatientRequest,
    Proposal,
)

#: proposals per page of a run's review: short enough to act on without losing one's place
REVIEW_PER_PAGE = 25


def review_data(db: Session, run: MatchingRun) -> dict[str, Any]:
    """The review table of a stored run: its drafts, the pinned drafts, the unplaced patients."""
    drafts = list(
        db.scalars(
            select(Proposal)
            .where(Proposal.run_id == run.id)
            .options(selectinload(Proposal.request).selectinload(PatientRequest.patient),
                     selectinload(Proposal.doctor))
            .order_by(Proposal.id)
        )
    )
    pinned = list(
        db.scalars(
            select(Proposal)
            .join(PatientRequest, PatientRequest.id == Proposal.request_id)
            .where(PatientRequest.territory_id == run.territory_id, PatientRequest.kind == run.kind,
                   Proposal.is_pinned.is_(True), Proposal.status == "proposed",
                   (Proposal.run_id.is_(None)) | (Proposal.run_id != run.id))
            .order_by(Proposal.id)
        )
    )
    rows = sorted(drafts + pinned, key=lambda p: (p.status != "proposed", -p.request.priority_score, p.id))
    unassigned = (run.stats or {}).get("unassigned", [])
    ids = [u["request_id"] for u in unassigned]
    requests = {r.id: r for r in db.scalars(select(PatientRequest).where(PatientRequest.id.in_(ids)))} if ids else {}
    unplaced = [
        {"request": requests[u["request_id"]], "reason": u["reason"], "text": u["text"]}
        for u in unassigned if u["request_id"] in requests
    ]
    return {"run": run, "proposals": rows, "unplaced": unplaced,
            "pending": sum(1 for p in rows if p.status == "proposed")}


def paginate(rows: list[Any], page: int, per_page: int | None = None) -> paging.Paged:
    """The page of a run's `rows` (1-based, clamped to the existing pages)."""
    return paging.paginate(rows, page, per_page or REVIEW_PER_PAGE)


def patient_summary(request: PatientRequest, now: datetime) -> dict[str, Any]:
    """What the review table shows of a patient: age group, commune, situation flags."""
    patient = request.patient
    return {
        "age_group": proposals.age_group(request, now),
        "commune": patient.commune.name if patient.commune else "",
        "flags": [FLAG_LABELS.get(k, k) for k in request_flags(request)],
        "needs": proposals.needs_of(request, now),
    }
