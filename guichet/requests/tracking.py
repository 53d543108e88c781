"""What a patient can do with their private tracking link: read the status, update contact, withdraw."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guichet.identifiers import normalise_email, normalise_phone, normalise_short_code
from guichet.messaging import notifications
from guichet.models import Doctor, PatientRequest, Proposal, RequestEvent
from guichet.models.patients import RequestStatus
from guichet.timeutil import as_utc
from guichet.workflow import change_request_status, is_final_request_status

S = RequestStatus

#: the web path of the tracking page; the public blueprint serves it
TRACKING_PATH = "/suivi/{token}"
#: a closed request's link keeps working this long, so that the patient sees the outcome
CLOSED_LINK_LIFETIME = timedelta(days=60)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: statuses that still wait in a queue, where a position means something
QUEUED = (S.SUBMITTED, S.WAITING)


class TrackingError(ValueError):
    """The patient asked for something the request's state does not allow (French message)."""


def tracking_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + TRACKING_PATH.format(token=token)


def find_by_token(db: Session, token: str, *, now: datetime) -> PatientRequest | None:
    """The request behind a tracking link, or None.

    None alike for an unknown token, a request closed long ago and an anonymised one,
    so that a wrong link teaches nothing.
    """
    if not _TOKEN_RE.match(token or ""):
        return None
    request = db.scalar(select(PatientRequest).where(PatientRequest.tracking_token == token))
    return request if _still_shown(request, now) else None


def _still_shown(request: PatientRequest | None, now: datetime) -> bool:
    if request is None or request.patient.anonymised_dt is not None:
        return False
    return request.closed_dt is None or as_utc(request.closed_dt) + CLOSED_LINK_LIFETIME >= now


def find_by_code(db: Session, reference: str, code: str, birth_date: date | None, *,
                 now: datetime) -> PatientRequest | None:
    """The request whose reference, short code and patient's birth date all match, or None.

    None alike whichever of the three is wrong (and for a request closed long ago or
    anonymised), so that a guess teaches nothing; callers rate-limit the attempts.
    """
    wanted = normalise_short_code(code)
    request = db.scalar(select(PatientRequest).where(
        PatientRequest.reference == "".join((reference or "").upper().split())))
    if request is None or not request.short_code or birth_date is None:
        return None
    matches = secrets.compare_digest(request.short_code, wanted) and request.patient.birth_date == birth_date
    return request if matches and _still_shown(request, now) else None


def queue_position(db: Session, request: PatientRequest) -> int | None:
    """How many waiting requests of the same territory and kind come before this one.

    None when the request is not waiting in a queue.
    """
    if request.status not in QUEUED:
        return None
    return db.scalar(
        select(func.count())
        .select_from(PatientRequest)
        .where(
            PatientRequest.territory_id == request.territory_id,
            PatientRequest.kind == request.kind,
            PatientRequest.status == S.WAITING,
            PatientRequest.priority_score > request.priority_score,
            PatientRequest.id != request.id,
        )
    ) or 0


def approximate(count: int) -> int:
    """Round a queue position so that it says the order of magnitude, not a rank."""
    if count < 10:
        return count
    if count < 100:
        return int(round(count / 5.0) * 5)
    return int(round(count / 10.0) * 10)


@dataclass(frozen=True)
class StatusText:
    """What the patient reads about their request's status."""

    title: str
    next_steps: str
    usual_delay: str | None = None
    #: numbered next steps, after next_steps
    steps: tuple[str, ...] = ()


_MT_TEXTS = {
    S.TO_CONTACT: StatusText(
        "Votre demande va être vérifiée",
        "Un coordinateur de la CPTS va vous contacter pour la compléter avec vous.",
    ),
    S.SUBMITTED: StatusText(
        "Votre demande est reçue",
        "Un coordinateur de la CPTS va la relire. Il vous appellera seulement s'il manque "
        "une information. Elle rejoindra ensuite la liste d'attente du territoire.",
        "La relecture prend en général 2 à 5 jours ouvrés.",
    ),
    S.WAITING: StatusText(
        "Votre demande est en attente d'un médecin",
        "Dès qu'un médecin du territoire peut accueillir un nouveau patient près de chez "
        "vous, la CPTS lui propose votre demande. Les personnes les plus fragiles passent "
        "en premier, puis l'ancienneté de la demande compte chaque jour.",
        "Cela prend le plus souvent de quelques semaines à quelques mois, selon les "
        "places que les médecins libèrent.",
    ),
    S.PROPOSED: StatusText(
        "Votre demande est proposée à un médecin",
        "Un médecin du territoire étudie votre demande. S'il l'accepte, vous recevrez son "
        "nom et ses coordonnées pour prendre un premier rendez-vous. S'il ne peut pas, "
        "votre demande reprend sa place dans la liste, sans rien perdre.",
        "Le médecin répond en général sous une semaine.",
    ),
    S.MATCHED: StatusText(
        "Un médecin accepte de devenir votre médecin traitant",
        "Prochaines étapes :",
        steps=(
            "Prenez rendez-vous pour une première consultation avec ce médecin, en disant que "
            "la CPTS vous a orienté vers lui.",
            "Lors de cette consultation, déclarez-le comme médecin traitant auprès de "
            "l'Assurance Maladie : il le fait en ligne avec votre carte Vitale.",
        ),
    ),
    S.COMPLETED: StatusText(
        "Vous avez un médecin traitant",
        "Votre demande est terminée. Nous vous souhaitons une bonne santé.",
    ),
}

_SNP_TEXTS = {
    S.SUBMITTED: StatusText(
        "Votre demande est reçue",
        "Un coordinateur de la CPTS cherche un créneau chez un médecin du territoire et "
        "vous rappelle au numéro indiqué. Si votre état s'aggrave, appelez le 15.",
        "Le rappel a lieu en général dans la journée (jours ouvrés).",
    ),
    S.WAITING: StatusText(
        "Nous cherchons un créneau",
        "Un coordinateur de la CPTS cherche un créneau chez un médecin du territoire et "
        "vous rappelle au numéro indiqué. Si votre état s'aggrave, appelez le 15.",
        "Le rappel a lieu en général dans la journée (jours ouvrés).",
    ),
    S.BOOKED: StatusText(
        "Votre rendez-vous est réservé",
        "Si vous ne pouvez pas y aller, annulez-le ci-dessous : le créneau servira à quelqu'un "
        "d'autre. Apportez votre carte Vitale et, si vous en avez, vos ordonnances en cours.",
    ),
    S.COMPLETED: StatusText("Votre demande est terminée", "Nous vous souhaitons un bon rétablissement."),
    S.NO_SHOW: StatusText(
        "Le rendez-vous n'a pas eu lieu",
        "Si vous avez encore besoin d'un rendez-vous, faites une nouvelle demande.",
    ),
}

_CLOSED_TEXTS = {
    S.WITHDRAWN: StatusText(
        "Vous avez retiré votre demande",
        "Elle ne sera proposée à aucun médecin. Vous pouvez faire une nouvelle demande "
        "à tout moment.",
    ),
    S.CANCELLED: StatusText(
        "Votre demande est close",
        "La CPTS a clos votre demande. Si vous avez encore besoin d'aide, faites une "
        "nouvelle demande ou appelez la CPTS.",
    ),
    S.EXPIRED: StatusText(
        "Votre demande est close faute de réponse",
        "Nous n'avons pas pu vous joindre. Si vous avez encore besoin d'aide, faites une "
        "nouvelle demande.",
    ),
}


def status_text(request: PatientRequest) -> StatusText:
    texts = _MT_TEXTS if request.kind == "mt" else _SNP_TEXTS
    status = S(request.status)
    return texts.get(status) or _CLOSED_TEXTS.get(status) or StatusText("Demande en cours", "")


def matched_doctor(request: PatientRequest) -> Doctor | None:
    """The GP who accepted this médecin traitant request, once they have."""
    if request.kind != "mt" or request.status not in (S.MATCHED, S.COMPLETED):
        return None
    accepted = [p for p in request.proposals if p.status == "accepted"]
    return accepted[-1].doctor if accepted else None


def can_withdraw(request: PatientRequest) -> bool:
    return not is_final_request_status(request.status)


def withdraw(db: Session, request: PatientRequest, *, now: datetime) -> None:
    """The patient withdraws; pending proposals are cancelled, a booked slot is freed.

    A freed slot can serve someone else, and its GP is told.

    Raises TrackingError when the request is already closed.
    """
    from guichet.assignment import proposals

    # Lock the open proposals, then the request, in the order a GP's answer takes them: a
    # withdrawal racing an acceptance waits for it (no deadlock), then sees where it left things.
    open_proposals = db.scalars(
        select(Proposal).where(
            Proposal.request_id == request.id,
            Proposal.status.in_(("proposed", "approved", "sent", "accepted")),
        ).with_for_update().execution_options(populate_existing=True)
    ).all()
    if request.id is not None:
        db.refresh(request, with_for_update=True)
    if not can_withdraw(request):
        raise TrackingError("Cette demande est déjà close.")
    if request.status == S.BOOKED:
        from guichet.doctors import slots

        slots.release_for_request(db, request, now=now)
    change_request_status(db, request, S.WITHDRAWN, now=now, actor="patient", reason="withdrawn")
    for proposal in open_proposals:
        # the GP's place comes back at once; the request, already withdrawn, is not requeued
        proposals.cancel(db, proposal, now=now, reason="patient_withdrew")
    db.flush()


@dataclass(kw_only=True)
class ContactUpdate:
    """New contact details; None leaves a value as it is."""

    phone: str | None = None
    email: str | None = None
    address: str | None = None


def update_contact(db: Session, request: PatientRequest, update: ContactUpdate, *, now: datetime) -> list[str]:
    """Change the follow-up contact (the helper's when someone filled the request for the patient).

    Returns the names of the changed fields. Raises TrackingError on a closed request
    and InvalidIdentifier on a malformed phone number or e-mail address.
    """
    if is_final_request_status(request.status):
        raise TrackingError("Cette demande est close : ses coordonnées ne peuvent plus changer.")
    patient = request.patient
    proxy = patient.filled_by != "self"
    changed: list[str] = []
    if update.phone and update.phone.strip():
        phone = normalise_phone(update.phone.strip())
        attr = "proxy_phone" if proxy else "phone"
        if getattr(patient, attr) != phone:
            setattr(patient, attr, phone)
            changed.append("phone")
    previous_email: str | None = None
    if update.email and update.email.strip():
        email = normalise_email(update.email)
        attr = "proxy_email" if proxy else "email"
        if getattr(patient, attr) != email:
            previous_email = getattr(patient, attr)
            setattr(patient, attr, email)
            changed.append("email")
            if patient.contact_preference == "phone":
                patient.contact_preference = "email"
    address = " ".join((update.address or "").split())
    if address and address != patient.address:
        patient.address = address
        changed.append("address")
    if changed:
        db.add(RequestEvent(request=request, at_dt=now, actor="patient", kind="edit",
                            reason="contact:" + ",".join(changed)))
    if previous_email:
        # whoever holds the link could otherwise move the follow-up away silently: the previous
        # address is told (without the new values) and can call the CPTS
        notifications.enqueue(
            db, template="contact_changed", subject="Les coordonnées de votre demande ont changé",
            dedup_key=f"contact-changed:{request.id}:{now:%Y%m%d%H%M%S}", now=now, email=previous_email,
            request_id=request.id, territory_id=request.territory_id,
            context={"reference": request.reference, "territory_name": request.territory.name},
        )
    db.flush()
    return changed


def mask_phone(e164: str | None) -> str:
    """Show only the last two digits of a number (06 •• •• •• 78)."""
    if not e164:
        return ""
    return "•• •• •• •• " + e164[-2:]


def mask_email(email: str | None) -> str:
    """Show only the first letter and the domain (m•••@exemple.fr)."""
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"

