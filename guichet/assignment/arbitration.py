"""Arbitration of a run's drafts by the coordinators: approve, reject, reassign, exclude.

Everything goes through guichet/assignment/proposals.py (statuses, capacity, outbox). A batch
approval approves each draft in its own SAVEPOINT: a draft whose GP has no place left
(another coordinator took it, or the GP lowered the figure) is rolled back on its own
and reported with its French reason, while the others are approved — the batch never
leaves a half-approved proposal behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import audit
from guichet.assignment import proposals
from guichet.assignment.explanations import explanation_summary
from guichet.assignment.priority import FLAG_LABELS
from guichet.assignment.problems import distance_to
from guichet.doctors import capacity
from guichet.models import CapacityDeclaration, Doctor, PairExclusion, PatientRequest, Proposal, Territory, User
from guichet.vocabulary import LANGUAGES
from guichet.workflow import IllegalTransition

REJECTED_REASON = "refusée par la coordination"
REASSIGNED_REASON = "réattribuée à un autre médecin par la coordination"
EXCLUDED_REASON = "médecin exclu pour ce patient par la coordination"


class ArbitrationError(ValueError):
    """A decision the rules do not allow; the message is in French, for the coordinator."""


@dataclass
class ApprovalReport:
    approved: list[int] = field(default_factory=list)
    #: (proposal id, French reason)
    failed: list[tuple[int, str]] = field(default_factory=list)


def _uid(user: User | None) -> int | None:
    return user.id if user else None


def territory_proposal(db: Session, territory: Territory, proposal_id: int) -> Proposal | None:
    """The proposal if it belongs to the territory, else None (the caller denies access)."""
    proposal = db.get(Proposal, proposal_id)
    if proposal is None or proposal.request.territory_id != territory.id:
        return None
    return proposal


def lock(db: Session, proposal_id: int) -> Proposal | None:
    """Re-read a proposal under a row lock (SELECT … FOR UPDATE on PostgreSQL).

    Two coordinators acting on the same draft at once: the second waits for the first
    to commit, then sees the new status and is told the draft was already handled, so
    one draft can never take two places. SQLite has a single writer and ignores the lock.
    """
    return db.scalars(
        select(Proposal).where(Proposal.id == proposal_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _retarget(db: Session, proposal: Proposal) -> None:
    # A GP who re-declared during the run has a new current declaration: the draft
    # counts against that one (whose figure may be lower), never the superseded one.
    if proposal.declaration_id is None or proposal.slot_id is not None:
        return
    current = capacity.current_declaration(db, proposal.doctor_id)
    if current is not None and current.id != proposal.declaration_id:
        proposal.declaration_id = current.id


def approve(db: Session, territory: Territory, proposal_ids: Iterable[int], *, user: User | None,
            now: datetime) -> ApprovalReport:
    """Approve and send the given drafts of the territory, each on its own.

    Returns which were approved and which failed with why (no place left, no current
    declaration, already handled, unknown). Never raises for one draft's failure.
    """
    report = ApprovalReport()
    ids = sorted({int(i) for i in proposal_ids})
    # The audit row is written first: on SQLite (pysqlite) the first SAVEPOINT must come
    # after a write, or RELEASE would commit the outer transaction.
    audit.record(db, "proposal.approve_batch", now=now, user_id=_uid(user), object_type="territory",
                 object_id=territory.id, territory_id=territory.id, proposals=ids)
    db.flush()
    for proposal_id in ids:
        proposal = territory_proposal(db, territory, proposal_id)
        if proposal is not None:
            proposal = lock(db, proposal_id)
        if proposal is None:
            report.failed.append((proposal_id, "Proposition introuvable dans votre territoire."))
            continue
        if proposal.status != "proposed":
            report.failed.append((proposal_id, "Cette proposition a déjà été traitée."))
            continue
        try:
            with db.begin_nested():
                _retarget(db, proposal)
                proposals.approve_and_send(db, proposal, now=now, user_id=_uid(user))
        except (capacity.CapacityExhausted, capacity.NoCurrentDeclaration, IllegalTransition) as exc:
            db.refresh(proposal)
            report.failed.append((proposal_id, f"{proposal.doctor.display_name} : {exc}"))
            continue
        audit.record(db, "proposal.approve", now=now, user_id=_uid(user), object_type="patient_request",
                     object_id=proposal.request_id, territory_id=territory.id, proposal=proposal.id)
        report.approved.append(proposal_id)
    db.flush()
    return report


def pending_drafts(db: Session, territory: Territory, run_id: int | None = None) -> list[int]:
    """Ids of the territory's drafts waiting for review (of one run, or all)."""
    query = (
        select(Proposal.id)
        .join(PatientRequest, PatientRequest.id == Proposal.request_id)
        .where(PatientRequest.territory_id == territory.id, Proposal.status == "proposed",
               Proposal.slot_id.is_(None))
    )
    if run_id is not None:
        query = query.where((Proposal.run_id == run_id) | Proposal.is_pinned.is_(True))
    return list(db.scalars(query.order_by(Proposal.id)))


def _draft(db: Session, proposal: Proposal) -> None:
    lock(db, proposal.id)
    if proposal.status != "proposed":
        raise ArbitrationError("Cette proposition a déjà été validée ou annulée : elle ne peut plus être modifiée ici.")


def reject(db: Session, proposal: Proposal, *, user: User | None, now: datetime) -> None:
    """Refuse a draft: it is cancelled and the patient stays on the waiting list.

    Raises ArbitrationError when the proposal is no longer a draft.
    """
    _draft(db, proposal)
    proposals.cancel(db, proposal, now=now, reason=REJECTED_REASON, user_id=_uid(user))
    audit.record(db, "proposal.reject", now=now, user_id=_uid(user), object_type="patient_request",
                 object_id=proposal.request_id, territory_id=proposal.request.territory_id, proposal=proposal.id)
    db.flush()


@dataclass(frozen=True)
class ReassignChoice:
    """A GP a coordinator may give the patient to, with what to weigh."""

    doctor: Doctor
    distance_km: float | None
    #: places left now (drafts of other patients counted)
    places_left: int
    declaration: CapacityDeclaration
    #: the GP's conditions in French (radius, priority only, children, visits, access, languages)
    constraints: list[str]
    #: within the GP's radius and the patient's maximum distance
    within_reach: bool


def _constraints(doctor: Doctor, declaration: CapacityDeclaration) -> list[str]:
    out = [f"jusqu'à {declaration.max_km} km"]
    if declaration.is_priority_only:
        flags = [FLAG_LABELS.get(f, f).lower() for f in declaration.priority_flags or []]
        out.append("patients prioritaires seulement" + (f" ({', '.join(flags)})" if flags else ""))
    if not declaration.accepts_children:
        out.append("pas d'enfants")
    if declaration.does_home_visits:
        out.append("visites à domicile")
    out.append("cabinet de plain-pied" if doctor.has_step_free_access else "cabinet sans accès de plain-pied")
    if declaration.languages:
        out.append("parle " + ", ".join(LANGUAGES.get(c, c).lower() for c in declaration.languages))
    return out


def reassignable_doctors(db: Session, request: PatientRequest, *, now: datetime) -> list[ReassignChoice]:
    """GPs of the territory a coordinator may choose: a place left now, not excluded.

    Nearest first. Drafts of other patients hold their place here: the choice can always
    be approved afterwards.
    """
    doctors = list(db.scalars(select(Doctor).where(Doctor.territory_id == request.territory_id,
                                                    Doctor.is_active.is_(True)).order_by(Doctor.last_name)))
    remaining = capacity.remaining_by_doctor(db, [d.id for d in doctors], now=now, count_drafts=True,
                                             except_request_id=request.id)
    declarations = {d.id: d for d in db.scalars(select(CapacityDeclaration).where(
        CapacityDeclaration.id.in_([decl_id for decl_id, _ in remaining.values()])))} if remaining else {}
    excluded = set(db.scalars(select(PairExclusion.doctor_id).where(PairExclusion.patient_id == request.patient_id)))
    rows = []
    for doctor in doctors:
        if doctor.id not in remaining or doctor.id in excluded or remaining[doctor.id][1] <= 0:
            continue
        declaration = declarations[remaining[doctor.id][0]]
        km = distance_to(request, doctor)
        reach = km is not None and km <= declaration.max_km and km <= request.patient.max_km
        rows.append(ReassignChoice(doctor, km, remaining[doctor.id][1], declaration,
                                   _constraints(doctor, declaration), reach))
    rows.sort(key=lambda row: (row.distance_km is None, row.distance_km or 0.0, row.doctor.id))
    return rows


def reassign(db: Session, request: PatientRequest, doctor_id: int, *, user: User | None, now: datetime) -> Proposal:
    """Assign the patient to a GP chosen by hand: a pinned draft that re-runs keep.

    Cancels the request's current draft, if any. Raises ArbitrationError when the GP is
    not of the territory, is excluded for this patient, has no open declaration or no
    place left, or when the request is not waiting.
    """
    if request.kind != "mt" or request.status != "waiting":
        raise ArbitrationError("Seule une demande de médecin traitant en attente peut être attribuée.")
    doctor = db.get(Doctor, doctor_id)
    if doctor is None or doctor.territory_id != request.territory_id or not doctor.is_active:
        raise ArbitrationError("Choisissez un médecin de votre territoire.")
    if db.scalar(select(PairExclusion.id).where(PairExclusion.patient_id == request.patient_id,
                                                PairExclusion.doctor_id == doctor.id)):
        raise ArbitrationError("Ce médecin a déjà refusé ce patient ou a été exclu pour lui : choisissez-en un autre.")
    open_decl = capacity.remaining_by_doctor(db, [doctor.id], now=now, count_drafts=True,
                                             except_request_id=request.id).get(doctor.id)
    if open_decl is None:
        raise ArbitrationError("Ce médecin n'a pas de disponibilité déclarée en cours.")
    declaration_id, remaining = open_decl
    if remaining <= 0:
        raise ArbitrationError("Ce médecin n'a plus de place disponible : ses places sont prises ou déjà "
                               "proposées à d'autres patients.")
    current = db.scalar(select(Proposal).where(Proposal.request_id == request.id, Proposal.status == "proposed"))
    if current is not None:
        _draft(db, current)
        if current.doctor_id == doctor.id and current.is_pinned:
            return current
        proposals.cancel(db, current, now=now, reason=REASSIGNED_REASON, user_id=_uid(user))
    distance = distance_to(request, doctor)
    explanation = {"pinned": True, "priority": dict(request.priority_breakdown or {}),
                   "score": request.priority_score,
                   "distance_km": round(distance, 2) if distance is not None else None}
    explanation["summary"] = explanation_summary({**explanation, "distance_km": explanation["distance_km"] or 0})
    proposal = proposals.create_draft(
        db, request, doctor, now=now, declaration_id=declaration_id,
        distance_km=round(distance, 3) if distance is not None else None,
        explanation=explanation, is_pinned=True, run_id=current.run_id if current else None,
    )
    audit.record(db, "proposal.reassign", now=now, user_id=_uid(user), object_type="patient_request",
                 object_id=request.id, territory_id=request.territory_id, proposal=proposal.id, doctor=doctor.id)
    db.flush()
    return proposal


def exclude(db: Session, proposal: Proposal, *, user: User | None, now: datetime) -> None:
    """Never propose this GP to this patient again, and cancel the draft.

    Raises ArbitrationError when the proposal is no longer a draft.
    """
    _draft(db, proposal)
    proposals.exclude_pair(db, proposal, proposal.doctor_id, reason="excluded", now=now, user_id=_uid(user))
    proposals.cancel(db, proposal, now=now, reason=EXCLUDED_REASON, user_id=_uid(user))
    audit.record(db, "proposal.exclude", now=now, user_id=_uid(user), object_type="patient_request",
                 object_id=proposal.request_id, territory_id=proposal.request.territory_id,
                 proposal=proposal.id, doctor=proposal.doctor_id)
    db.flush()
