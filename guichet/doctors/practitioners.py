"""GPs: registration by a coordinator, invitation, and what the GP portal reads and changes.

A coordinator registers a GP of their own territory (checked RPPS number, practice address
and commune, whose position places the practice) and sends an invitation link; the GP
sets a password from it. Everything a GP then sees is filtered by their own doctor id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from guichet.accounts import audit, users
from guichet.assignment import proposals
from guichet.assignment.priority import FLAG_LABELS, is_reason, weights_for
from guichet.doctors import capacity
from guichet.identifiers import InvalidIdentifier, normalise_email, normalise_phone, normalise_rpps
from guichet.models import (
    CapacityDeclaration,
    Doctor,
    Notification,
    PatientRequest,
    Proposal,
    Slot,
    Territory,
    User,
)
from guichet.requests.identity import fold_name, place_matches
from guichet.territories import geo
from guichet.timeutil import as_utc, paris_today
from guichet.vocabulary import LANGUAGES

DUPLICATE_RPPS_MESSAGE = "Un médecin avec ce numéro RPPS est déjà inscrit."
#: reason recorded on proposals a GP sends back when lowering their capacity
CAPACITY_LOWERED_REASON = "capacité réduite par le médecin"
MAX_NEW_PATIENTS = 50
DISTANCE_CHOICES = (5, 10, 15, 20, 30)


def distance_choices(current_km: int | None) -> list[int]:
    """The distances a GP may pick: the usual ones, and the one in force (a form never silently changes it)."""
    return sorted({*DISTANCE_CHOICES, *([current_km] if current_km else [])})


class DoctorError(ValueError):
    """A French message about one field of a form (``field`` names it, or is None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PendingChoiceNeeded(DoctorError):
    """The new figure is below the proposals awaiting the GP's answer: keep or return them."""

    def __init__(self, pending: int) -> None:
        super().__init__(
            f"Vous avez {pending} proposition{'s' if pending > 1 else ''} en attente de réponse, "
            "plus que le nombre que vous indiquez : dites-nous si vous les gardez ou si vous "
            "les rendez à la coordination.",
            field="pending_action",
        )
        self.pending = pending


# --- registration by a coordinator -------------------------------------------------


def territory_communes(db: Session, territory: Territory, postal_code: str) -> list[geo.CommuneChoice]:
    """The communes of this territory served by a postal code.

    Raises DoctorError when the code is unknown or serves none of the territory's communes.
    """
    try:
        choices = geo.communes_for_postal_code(db, postal_code)
    except geo.UnknownCommune as exc:
        raise DoctorError(str(exc), field="postal_code") from exc
    ours = set(geo.territory_insee_codes(territory))
    inside = [c for c in choices if c.insee in ours]
    if not inside:
        raise DoctorError(
            f"Le code postal {postal_code.strip()} ne correspond à aucune commune du territoire "
            f"de la {territory.name}.",
            field="postal_code",
        )
    return inside


def register_doctor(
    db: Session,
    territory: Territory,
    *,
    now: datetime,
    rpps: str,
    first_name: str,
    last_name: str,
    email: str,
    practice_address: str,
    commune_insee: str,
    phone: str | None = None,
    has_step_free_access: bool = False,
    user_id: int | None = None,
) -> Doctor:
    """Register a GP of the territory and create their account (no password: to invite).

    The practice takes its commune's position. Raises DoctorError (field named) for an
    invalid or already registered RPPS, a bad e-mail or phone, an e-mail that already has
    an account, or a commune outside the territory; the caller then rolls back.
    """
    try:
        rpps = normalise_rpps(rpps)
    except InvalidIdentifier as exc:
        raise DoctorError(str(exc), field="rpps") from exc
    try:
        email = normalise_email(email)
    except InvalidIdentifier as exc:
        raise DoctorError(str(exc), field="email") from exc
    if phone and phone.strip():
        try:
            phone = normalise_phone(phone)
        except InvalidIdentifier as exc:
            raise DoctorError(str(exc), field="phone") from exc
    else:
        phone = None
    if db.scalar(select(Doctor.id).where(Doctor.rpps == rpps)) is not None:
        raise DoctorError(DUPLICATE_RPPS_MESSAGE, field="rpps")
    if users.find_user_by_email(db, email) is not None:
        raise DoctorError(f"Un compte existe déjà pour l'adresse {email}.", field="email")
    try:
        commune = geo.get_commune(db, commune_insee)
    except geo.UnknownCommune as exc:
        raise DoctorError(str(exc), field="commune_insee") from exc
    if commune.insee not in set(geo.territory_insee_codes(territory)):
        raise DoctorError(
            f"La commune {commune.name} n'appartient pas au territoire de la {territory.name}.",
            field="commune_insee",
        )
    doctor = Doctor(
        rpps=rpps, first_name=first_name.strip(), last_name=last_name.strip(), email=email, phone=phone,
        practice_address=practice_address.strip(), commune_insee=commune.insee, lat=commune.lat, lon=commune.lon,
        territory_id=territory.id, has_step_free_access=has_step_free_access, created_dt=now,
    )
    db.add(doctor)
    try:
        db.flush()
    except IntegrityError as exc:
        # a concurrent registration of the same RPPS won the race; no savepoint here
        # (pysqlite's SAVEPOINT handling is unreliable): the caller rolls everything back
        raise DoctorError(DUPLICATE_RPPS_MESSAGE, field="rpps") from exc
    try:
        users.create_user(
            db, email=email, full_name=f"{doctor.first_name} {doctor.last_name}", role="doctor",
            now=now, password=None, doctor_id=doctor.id,
        )
    except users.AccountError as exc:
        raise DoctorError(str(exc), field="email") from exc
    audit.record(db, "doctor.create", now=now, user_id=user_id, object_type="doctor", object_id=doctor.id,
                 territory_id=territory.id)
    db.flush()
    return doctor


def send_invitation(
    db: Session, doctor: Doctor, *, now: datetime, link_for: Callable[[str], str], user_id: int | None = None
) -> Notification:
    """(Re)send the invitation e-mail; earlier invitation links stop working.

    `link_for(token)` builds the absolute link. Raises DoctorError when the GP has no
    account or has already chosen a password.
    """
    account = doctor.user
    if account is None:
        raise DoctorError("Ce médecin n'a pas de compte : impossible de l'inviter.")
    if account.password_hash:
        raise DoctorError("Ce médecin a déjà activé son compte : il n'a plus besoin d'invitation.")
    notification = users.send_invitation(db, account, territory=doctor.territory, now=now,
                                            link_for=link_for, greeting_name=doctor.display_name)
    audit.record(db, "doctor.invite", now=now, user_id=user_id, object_type="doctor", object_id=doctor.id,
                 territory_id=doctor.territory_id)
    db.flush()
    return notification


@dataclass(kw_only=True)
class PracticeDetails:
    """What patients are told about a GP's practice once the GP accepts them or books them."""

    practice_address: str
    phone: str | None = None
    booking_url: str | None = None


def clean_booking_url(value: str | None) -> str | None:
    """An online booking link patients may follow: http(s) with a host, or None when blank.

    Raises DoctorError otherwise (a "javascript:" or mistyped link must never reach a patient).
    """
    text = (value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in text or len(text) > 300:
        raise DoctorError(
            "Indiquez l'adresse complète de la page de prise de rendez-vous, qui commence par "
            "https://, par exemple https://www.doctolib.fr/medecin-generaliste/ville/nom.",
            field="booking_url",
        )
    return text


class PracticeInvalid(DoctorError):
    """Some practice details are wrong: ``errors`` maps each field to its French message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors


def update_practice(db: Session, doctor: Doctor, details: PracticeDetails, *, now: datetime,
                    user_id: int | None = None) -> list[str]:
    """Change the practice address, phone and booking link; return the changed field names.

    The GP edits them from the portal, a coordinator from the GP's page. Raises
    PracticeInvalid, naming every wrong field at once (empty address, malformed phone
    or booking link); nothing is changed then.
    """
    errors: dict[str, str] = {}
    new: dict[str, str | None] = {"practice_address": " ".join(details.practice_address.split()) or None}
    if new["practice_address"] is None:
        errors["practice_address"] = "Indiquez l'adresse du cabinet."
    new["phone"] = None
    if details.phone and details.phone.strip():
        try:
            new["phone"] = normalise_phone(details.phone)
        except InvalidIdentifier as exc:
            errors["phone"] = str(exc)
    try:
        new["booking_url"] = clean_booking_url(details.booking_url)
    except DoctorError as exc:
        errors["booking_url"] = str(exc)
    if errors:
        raise PracticeInvalid(errors)
    changed = [name for name, value in new.items() if getattr(doctor, name) != value]
    for name in changed:
        setattr(doctor, name, new[name])
    if changed:
        audit.record(db, "doctor.practice", now=now, user_id=user_id, object_type="doctor",
                     object_id=doctor.id, territory_id=doctor.territory_id)
    db.flush()
    return changed


def territory_doctors(db: Session, territory_id: int) -> list[Doctor]:
    return list(
        db.scalars(
            select(Doctor).where(Doctor.territory_id == territory_id)
            .options(selectinload(Doctor.user), selectinload(Doctor.commune))
            .order_by(Doctor.last_name, Doctor.first_name, Doctor.id)
        )
    )


def matches_search(doctor: Doctor, text: str) -> bool:
    """Whether a GP's name or practice commune contains `text`, whatever the accents and case."""
    wanted = fold_name(text)
    commune = doctor.commune.name if doctor.commune else ""
    haystack = " ".join(fold_name(v) for v in (doctor.first_name, doctor.last_name, commune))
    # "st-jean" finds Saint-Jean-en-Royans, as in the request list
    return wanted in haystack or (bool(commune) and place_matches(text, commune))


def account_state(doctor: Doctor) -> str:
    """What the coordinator needs to know about the GP's account, in French."""
    if doctor.user is None:
        return "sans compte"
    if not doctor.user.is_active:
        return "compte désactivé"
    if doctor.user.password_hash:
        return "compte activé"
    return "invitation envoyée, compte pas encore activé"


def last_invitation(db: Session, doctor: Doctor) -> Notification | None:
    if doctor.user is None:
        return None
    return db.scalar(
        select(Notification)
        .where(Notification.recipient_user_id == doctor.user.id, Notification.template == "invitation")
        .order_by(Notification.id.desc())
    )


# --- capacity, as the GP declares it ---------------------------------------------


def territory_flags(territory: Territory) -> dict[str, str]:
    """The priority situations a GP may restrict to: the territory's weighted flags."""
    weights = weights_for(territory.settings)
    return {k: label for k, label in FLAG_LABELS.items() if is_reason(k) and weights.get(k, 0) > 0}


def pending_count(db: Session, doctor: Doctor) -> int:
    current = capacity.current_declaration(db, doctor.id)
    return capacity.summary(db, current).pending if current is not None else 0


def declare_capacity(
    db: Session,
    doctor: Doctor,
    *,
    now: datetime,
    new_patients: int,
    valid_until: date,
    max_km: int,
    is_priority_only: bool = False,
    priority_flags: list[str] | None = None,
    accepts_children: bool = True,
    does_home_visits: bool = False,
    languages: list[str] | None = None,
    pending_action: str | None = None,
    user_id: int | None = None,
) -> CapacityDeclaration:
    """Record a new declaration that replaces the current one (which stays in the history).

    `new_patients` counts from now: patients already accepted are not part of it. When it
    is below the proposals awaiting the GP's answer, `pending_action` says what to do
    with them: "keep" (they stay, the GP answers them) or "return" (they are cancelled
    and the requests go back to the waiting list). Raises DoctorError for a value out of
    range and PendingChoiceNeeded when the choice is needed and missing.
    """
    if not 0 <= new_patients <= MAX_NEW_PATIENTS:
        raise DoctorError(f"Indiquez un nombre entre 0 et {MAX_NEW_PATIENTS}.", field="new_patients")
    if valid_until <= paris_today(now):
        raise DoctorError("Choisissez une date à venir.", field="valid_until")
    in_force = capacity.current_declaration(db, doctor.id)
    if max_km not in distance_choices(in_force.max_km if in_force else None):
        raise DoctorError("Choisissez une des distances proposées.", field="max_km")
    flags = list(dict.fromkeys(priority_flags or []))
    allowed = territory_flags(doctor.territory)
    if any(f not in allowed for f in flags):
        raise DoctorError("Choisissez parmi les situations proposées.", field="priority_flags")
    if is_priority_only and not flags:
        raise DoctorError("Cochez au moins une situation prioritaire, ou décochez « seulement des patients "
                          "prioritaires ».", field="priority_flags")
    langs = list(dict.fromkeys(languages or []))
    if any(code not in LANGUAGES for code in langs):
        raise DoctorError("Choisissez parmi les langues proposées.", field="languages")
    pending = pending_count(db, doctor)
    if new_patients < pending and pending_action not in ("keep", "return"):
        raise PendingChoiceNeeded(pending)
    current = capacity.current_declaration(db, doctor.id)
    declaration, to_return = capacity.declare(
        db, doctor, now=now, new_patients=new_patients,
        pending_action=pending_action if new_patients < pending and pending_action else "keep",
        valid_until=valid_until, max_km=max_km, is_priority_only=is_priority_only,
        priority_flags=flags if is_priority_only else [], accepts_children=accepts_children,
        does_home_visits=does_home_visits, languages=langs,
        # a new figure does not lift a pause: resuming is its own, explicit action
        is_paused=bool(current and current.is_paused),
    )
    for proposal in to_return:
        proposals.cancel(db, proposal, now=now, reason=CAPACITY_LOWERED_REASON, user_id=user_id)
    audit.record(db, "capacity.declare", now=now, user_id=user_id, object_type="capacity_declaration",
                 object_id=declaration.id, territory_id=doctor.territory_id, returned=len(to_return))
    db.flush()
    return declaration


def set_paused(db: Session, doctor: Doctor, paused: bool, *, now: datetime, user_id: int | None = None) -> None:
    """Pause or resume taking new patients; raises DoctorError without a declaration."""
    current = capacity.current_declaration(db, doctor.id)
    if current is None:
        raise DoctorError("Vous n'avez pas encore déclaré de disponibilité.")
    capacity.set_paused(db, current, paused)
    audit.record(db, "capacity.pause" if paused else "capacity.resume", now=now, user_id=user_id,
                 object_type="capacity_declaration", object_id=current.id, territory_id=doctor.territory_id)
    db.flush()


def declaration_history(db: Session, doctor_id: int) -> list[tuple[CapacityDeclaration, capacity.CapacitySummary]]:
    rows = db.scalars(
        select(CapacityDeclaration).where(CapacityDeclaration.doctor_id == doctor_id)
        .order_by(CapacityDeclaration.declared_dt.desc(), CapacityDeclaration.id.desc())
    )
    return [(d, capacity.summary(db, d)) for d in rows]


# --- proposals, as the GP sees them ------------------------------------------------


@dataclass(frozen=True)
class ProposalView:
    """What a GP sees of a proposal before accepting: enough to decide, nothing identifying."""

    proposal: Proposal
    age_group: str
    commune: str
    distance_km: float | None
    flags: list[str]
    waiting_days: int
    #: needs the practice must meet (children and their ages, home visits, access, languages)
    needs: list[str]
    #: the patient's own limit, in km
    patient_max_km: int | None


def proposal_view(proposal: Proposal, *, now: datetime) -> ProposalView:
    request = proposal.request
    patient = request.patient
    name = patient.commune.name if patient.commune else "commune non renseignée"
    flags = [FLAG_LABELS.get(k, k) for k in (request.priority_breakdown or {}) if is_reason(k)]
    waited = max(0, (paris_today(now) - paris_today(as_utc(request.waiting_since_dt))).days)
    return ProposalView(proposal=proposal, age_group=proposals.age_group(request, now), commune=name,
                        distance_km=proposal.distance_km, flags=flags, waiting_days=waited,
                        needs=proposals.needs_of(request, now), patient_max_km=patient.max_km)


def inbox(db: Session, doctor_id: int) -> tuple[list[Proposal], list[Proposal]]:
    """(proposals awaiting the GP's answer, soonest deadline first; accepted ones awaiting follow-up)."""
    opts = (selectinload(Proposal.request).selectinload(PatientRequest.patient),)
    to_answer = list(db.scalars(
        select(Proposal).where(Proposal.doctor_id == doctor_id, Proposal.status == "sent")
        .options(*opts).order_by(Proposal.answer_due_date, Proposal.id)
    ))
    follow_up = list(db.scalars(
        select(Proposal).where(
            Proposal.doctor_id == doctor_id, Proposal.status == "accepted",
            (Proposal.first_consultation_dt.is_(None)) | (Proposal.mt_declared_dt.is_(None)),
        ).options(*opts).order_by(Proposal.answered_dt, Proposal.id)
    ))
    return to_answer, follow_up


def answer_history_count(db: Session, doctor_id: int) -> dict[str, int]:
    rows = db.execute(
        select(Proposal.status, func.count()).where(Proposal.doctor_id == doctor_id, Proposal.sent_dt.is_not(None))
        .group_by(Proposal.status)
    ).all()
    return {status: int(n) for status, n in rows}


def next_slots(db: Session, doctor_id: int, *, now: datetime, limit: int = 3) -> list[Slot]:
    return list(db.scalars(
        select(Slot).where(Slot.doctor_id == doctor_id, Slot.status.in_(("free", "held", "booked")),
                           Slot.start_dt > now).order_by(Slot.start_dt).limit(limit)
    ))


def doctor_of_user(user: User) -> Doctor | None:
    return user.doctor if user.role == "doctor" else None


def summary_of(db: Session, doctor: Doctor) -> tuple[CapacityDeclaration | None, capacity.CapacitySummary | None]:
    current = capacity.current_declaration(db, doctor.id)
    return current, (capacity.summary(db, current) if current is not None else None)


def flags_labels(keys: list[Any]) -> list[str]:
    return [FLAG_LABELS.get(str(k), str(k)) for k in keys]
