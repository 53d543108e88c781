"""What coordinators do to a request: qualify, edit, cancel, notes, contact log, merge duplicates.

Every status change goes through guichet/workflow.py; every action writes a history line
(RequestEvent) and an audit row holding ids and codes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guichet.accounts import audit
from guichet.assignment import proposals
from guichet.models import ACTIVE_PROPOSAL_STATUSES, Patient, Proposal, RequestEvent, User
from guichet.models.patients import PatientRequest
from guichet.requests import validation
from guichet.requests.identity import Identity, person_key
from guichet.requests.intake import find_open_duplicate
from guichet.requests.records import refresh_priority
from guichet.territories import geo
from guichet.timeutil import paris_today
from guichet.workflow import (
    CANCEL_REASONS,
    IllegalTransition,
    allowed_request_targets,
    change_request_status,
    is_final_request_status,
)

CONTACT_OUTCOMES = {
    "called": "Appel passé",
    "no_answer": "Pas de réponse",
    "message_left": "Message laissé",
    "reached": "Patient joint",
}

#: fields of the patient a coordinator may correct, with their French label (history shows labels only)
EDITABLE_FIELDS = {
    "birth_name": "Nom de naissance",
    "usage_name": "Nom d'usage",
    "first_names": "Prénom(s)",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "phone": "Téléphone",
    "email": "Adresse e-mail",
    "address": "Adresse",
    "postal_code": "Code postal",
    "commune_insee": "Commune",
    "contact_preference": "Moyen de contact préféré",
    "is_ald": "ALD",
    "is_css": "CSS ou AME",
    "is_pregnant": "Grossesse",
    "is_disabled": "Handicap",
    "hospital_discharge_date": "Date de sortie d'hospitalisation",
    "previous_mt_left_date": "Date de départ du précédent médecin traitant",
    "max_km": "Distance maximale",
    "needs_home_visit": "Visites à domicile",
    "needs_step_free": "Accès de plain-pied",
}


#: the fields that say who the patient is (guichet/requests/identity.py)
IDENTITY_FIELDS = ("birth_name", "usage_name", "first_names", "birth_date")


class StaffActionError(ValueError):
    """The action is not possible; the message says why, in French."""


class InvalidEdit(StaffActionError):
    """Edited values break a rule; `errors` maps each field to its French message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ; ".join(errors.values()))


def _audit(db: Session, action: str, request: PatientRequest, *, now: datetime, user_id: int | None,
           ip: str | None = None, **detail: Any) -> None:
    audit.record(db, action, now=now, user_id=user_id, object_type="patient_request",
                 object_id=request.id, territory_id=request.territory_id, ip=ip, **detail)


def record_view(db: Session, request: PatientRequest, *, user_id: int, now: datetime,
                ip: str | None = None) -> None:
    """Audit that a coordinator opened the request page (a read of health data)."""
    _audit(db, "request.view", request, now=now, user_id=user_id, ip=ip)
    db.flush()


def active_proposal(db: Session, request: PatientRequest) -> Proposal | None:
    return db.scalar(select(Proposal).where(Proposal.request_id == request.id,
                                            Proposal.status.in_(ACTIVE_PROPOSAL_STATUSES)))


def available_actions(request: PatientRequest) -> set[str]:
    """Actions the request page offers in the current status."""
    actions = {"note", "contact"}
    if is_final_request_status(request.status):
        return actions
    actions |= {"edit", "merge"}
    targets = allowed_request_targets(request.kind, request.status)
    if "waiting" in targets and request.status in ("submitted", "to_contact"):
        actions.add("qualify")
    if "cancelled" in targets and request.status != "booked":
        actions.add("cancel")
    return actions


def qualify(db: Session, request: PatientRequest, *, user_id: int, now: datetime,
            consent: bool = False, ip: str | None = None) -> None:
    """Put a received (or imported) request in the waiting queue.

    An imported patient has asked nothing: the coordinator must have recorded their
    consent on the phone. Raises StaffActionError or workflow.IllegalTransition.
    """
    if request.status not in ("submitted", "to_contact"):
        raise StaffActionError("Seule une demande reçue ou à contacter peut être qualifiée.")
    if request.status == "to_contact" or not request.is_consented:
        if not consent:
            raise StaffActionError(
                "Cochez la case confirmant que la personne a donné son accord pour être accompagnée."
            )
        request.is_consented = True
        request.consent_dt = now
    change_request_status(db, request, "waiting", now=now, actor="staff", user_id=user_id,
                          reason="qualified")
    refresh_priority(request, now=now)
    _audit(db, "request.qualify", request, now=now, user_id=user_id, ip=ip, consent=consent)
    db.flush()


def _clean_edit(db: Session, request: PatientRequest, values: Mapping[str, Any],
                today: date) -> dict[str, Any]:
    edited: dict[str, Any] = {}
    for key, value in values.items():
        if key not in EDITABLE_FIELDS:
            continue
        if isinstance(value, str):  # an empty answer (« Non précisé ») clears the field
            value = value.strip() or None
        edited[key] = value
    clean, errors = validation.check_person(edited, today=today, rules=validation.STAFF)
    postal = clean.get("postal_code", request.patient.postal_code)
    insee = clean.get("commune_insee", request.patient.commune_insee)
    if postal or insee:
        if not postal:
            errors["postal_code"] = "Indiquez le code postal de la commune."
        else:
            try:
                choices = geo.communes_for_postal_code(db, postal)
            except geo.UnknownCommune as exc:
                errors["postal_code"] = str(exc)
            else:
                codes = {c.insee for c in choices}
                if insee not in codes:
                    if len(codes) == 1:
                        clean["commune_insee"] = codes.pop()
                    else:
                        errors["commune_insee"] = (
                            "Choisissez une commune desservie par ce code postal."
                        )
    if errors:
        raise InvalidEdit(errors)
    return clean


def _twin_message(reference: str | None) -> str:
    which = f"la demande {reference}" if reference else "une autre demande"
    return (f"Cette personne a déjà {which} en cours (même personne : mêmes prénoms, date de naissance "
            "et un nom en commun) : fusionnez plutôt les deux demandes avec « Marquer comme doublon ».")


def _refuse_twin(db: Session, patient: Patient, corrected: dict[str, Any], field: str) -> None:
    """Raise InvalidEdit when the corrected identity is the same person as another open request's.

    The rule of the online form and of the import (identity.same_person), per kind of request.
    """
    person = Identity(**corrected)
    for own in patient.requests:
        if is_final_request_status(own.status):
            continue
        twin = find_open_duplicate(db, own.territory, own.kind, person, other_than=patient)
        if twin is not None:
            raise InvalidEdit({field: _twin_message(twin.reference)})


def edit(db: Session, request: PatientRequest, values: Mapping[str, Any], *, user_id: int,
         now: datetime, ip: str | None = None) -> list[str]:
    """Correct the patient's identity, contact or situation, then recompute the priority.

    Returns the names of the changed fields. Raises InvalidEdit (nothing is saved) or
    StaffActionError when the request is closed.
    """
    if is_final_request_status(request.status):
        raise StaffActionError("Cette demande est close : elle ne peut plus être modifiée.")
    clean = _clean_edit(db, request, values, paris_today(now))
    patient = request.patient
    changed = [k for k, v in clean.items() if getattr(patient, k) != v]
    if not changed:
        return []
    renamed = [k for k in changed if k in IDENTITY_FIELDS]
    if renamed:
        _refuse_twin(db, patient, {k: clean.get(k, getattr(patient, k)) for k in IDENTITY_FIELDS}, renamed[0])
    try:
        with db.begin_nested():
            for key in changed:
                setattr(patient, key, clean[key])
            for own in patient.requests:  # the identity key follows the corrected identity
                own.identity_key = person_key(patient)
            db.flush()
    except IntegrityError:  # a twin created since the check above
        raise InvalidEdit({(renamed or ["birth_name"])[0]: _twin_message(None)}) from None
    refresh_priority(request, now=now)
    db.add(RequestEvent(
        request=request, at_dt=now, actor="staff", user_id=user_id, kind="edit",
        text="Modifié : " + ", ".join(EDITABLE_FIELDS[k] for k in changed),
    ))
    _audit(db, "request.edit", request, now=now, user_id=user_id, ip=ip, fields=changed)
    db.flush()
    return changed


def cancel(db: Session, request: PatientRequest, *, reason: str, user_id: int, now: datetime,
           note: str | None = None, ip: str | None = None) -> None:
    """Close the request with a reason; a live proposal is cancelled first (the GP's place returns).

    Raises StaffActionError (unknown reason, booked SNP slot) or workflow.IllegalTransition.
    """
    if reason not in CANCEL_REASONS:
        raise StaffActionError("Choisissez le motif de l'annulation.")
    if request.status == "booked":
        raise StaffActionError(
            "Un rendez-vous est réservé : annulez d'abord le créneau depuis le tableau des soins "
            "non programmés."
        )
    if is_final_request_status(request.status):
        raise StaffActionError("Cette demande est déjà close.")
    live = active_proposal(db, request)
    if live is not None:
        proposals.cancel(db, live, now=now, reason=f"request_cancelled:{reason}", user_id=user_id)
    change_request_status(db, request, "cancelled", now=now, actor="staff", user_id=user_id,
                          reason=reason, note=note or None)
    _audit(db, "request.cancel", request, now=now, user_id=user_id, ip=ip, reason=reason)
    db.flush()


def add_note(db: Session, request: PatientRequest, text: str, *, user_id: int, now: datetime,
             ip: str | None = None) -> RequestEvent:
    """Add a coordinator's note to the history (raises StaffActionError when empty)."""
    text = text.strip()
    if not text:
        raise StaffActionError("Écrivez la note avant de l'enregistrer.")
    event = RequestEvent(request=request, at_dt=now, actor="staff", user_id=user_id, kind="note",
                         text=text[:4000])
    db.add(event)
    _audit(db, "request.note", request, now=now, user_id=user_id, ip=ip)
    db.flush()
    return event


def log_contact(db: Session, request: PatientRequest, outcome: str, *, user_id: int,
                now: datetime, note: str | None = None, ip: str | None = None) -> RequestEvent:
    """Record a call attempt: called, no answer, message left, reached (raises StaffActionError)."""
    if outcome not in CONTACT_OUTCOMES:
        raise StaffActionError("Choisissez le résultat de l'appel.")
    event = RequestEvent(request=request, at_dt=now, actor="staff", user_id=user_id,
                         kind="contact", contact_outcome=outcome,
                         text=(note or "").strip()[:4000] or None)
    db.add(event)
    _audit(db, "request.contact", request, now=now, user_id=user_id, ip=ip, outcome=outcome)
    db.flush()
    return event


def find_by_reference(db: Session, territory_id: int, reference: str) -> PatientRequest | None:
    """A request of this territory by its reference (case-insensitive), or None."""
    return db.scalar(select(PatientRequest).where(
        PatientRequest.territory_id == territory_id,
        PatientRequest.reference == reference.strip().upper(),
    ))


def merge_duplicate(db: Session, duplicate: PatientRequest, target: PatientRequest, *,
                    user_id: int, now: datetime, ip: str | None = None) -> None:
    """Close `duplicate` as a duplicate of `target`, keeping the longest wait on the target.

    The duplicate keeps its notes and history and points to the target (merged_into_id).
    Raises StaffActionError when the two cannot be merged.
    """
    if duplicate.id == target.id:
        raise StaffActionError("Une demande ne peut pas être fusionnée avec elle-même.")
    if duplicate.territory_id != target.territory_id:
        raise StaffActionError("Aucune demande de votre territoire ne porte cette référence.")
    if duplicate.kind != target.kind:
        raise StaffActionError("Les deux demandes ne sont pas du même type (médecin traitant / soins non programmés).")
    if is_final_request_status(target.status):
        raise StaffActionError(f"La demande {target.reference} est close : choisissez une demande en cours.")
    if is_final_request_status(duplicate.status):
        raise StaffActionError("Cette demande est déjà close.")
    if active_proposal(db, duplicate) is not None or duplicate.status == "booked":
        raise StaffActionError(
            "Cette demande est en cours de proposition à un médecin : fusionnez plutôt l'autre "
            "demande dans celle-ci."
        )
    # the longest wait counts: the patient asked first through the duplicate
    if duplicate.submitted_dt < target.submitted_dt:
        target.submitted_dt = duplicate.submitted_dt
    if duplicate.waiting_since_dt < target.waiting_since_dt:
        target.waiting_since_dt = duplicate.waiting_since_dt
    if duplicate.is_consented and not target.is_consented:
        target.is_consented, target.consent_dt = True, duplicate.consent_dt
    change_request_status(db, duplicate, "cancelled", now=now, actor="staff", user_id=user_id,
                          reason="duplicate")
    duplicate.merged_into_id = target.id
    db.add(RequestEvent(request=duplicate, at_dt=now, actor="staff", user_id=user_id, kind="merge",
                        text=f"Fusionnée dans la demande {target.reference}."))
    db.add(RequestEvent(request=target, at_dt=now, actor="staff", user_id=user_id, kind="merge",
                        text=f"La demande {duplicate.reference} (doublon) a été fusionnée ici."))
    refresh_priority(target, now=now)
    _audit(db, "request.merge", duplicate, now=now, user_id=user_id, ip=ip, into=target.id)
    db.flush()


def user_names(db: Session, events: list[RequestEvent]) -> dict[int, str]:
    """Names of the staff who wrote these history lines."""
    ids = {e.user_id for e in events if e.user_id}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


__all__ = [
    "CANCEL_REASONS", "CONTACT_OUTCOMES", "EDITABLE_FIELDS", "IllegalTransition", "InvalidEdit",
    "StaffActionError", "add_note", "available_actions", "cancel", "edit", "find_by_reference",
    "log_contact", "merge_duplicate", "qualify", "record_view",
]
