"""Intake of patient requests: web form, staff phone intake and, later, insurer-list imports.

One entry point per kind of request (`submit_mt_request`, `submit_snp_request`): each
checks the answers against the rules, finds the territory from the commune, refuses
duplicates, creates the patient and the request (reference, token, priority, history)
and queues the acknowledgement. Nothing is written when a rule fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guichet import vocabulary
from guichet.messaging import notifications
from guichet.models import Patient, PatientRequest, Territory
from guichet.models.patients import RequestKind, RequestStatus
from guichet.requests import validation
from guichet.requests.identity import Named, same_person
from guichet.requests.records import create_request
from guichet.requests.tracking import tracking_url
from guichet.territories import geo
from guichet.territories import settings as territory_settings
from guichet.timeutil import age_on, paris_today
from guichet.workflow import FINAL_REQUEST_STATUSES

CHILD_MAX_AGE = 16


class IntakeError(Exception):
    """Base of the intake's domain exceptions."""


class InvalidRequest(IntakeError):
    """Some answers break a rule; `errors` maps each field name to a French message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k} : {v}" for k, v in errors.items()))


class OutOfTerritory(IntakeError):
    """No CPTS served here covers the patient's commune: nothing is stored."""

    def __init__(self, commune_name: str | None = None) -> None:
        self.commune_name = commune_name
        super().__init__("Cette commune n'est couverte par aucune CPTS de ce service.")


class WrongTerritory(IntakeError):
    """A coordinator entered a patient living in another CPTS's territory."""

    def __init__(self, territory_name: str) -> None:
        self.territory_name = territory_name
        super().__init__(
            f"Cette commune relève de « {territory_name} », pas de votre CPTS : "
            "orientez le patient vers cette CPTS."
        )


class DuplicateRequest(IntakeError):
    """The same person already has an open request of this kind in this territory.

    Nothing new is stored except, for a patient, the reminder of the existing link queued
    in the outbox: the caller commits so that the reminder leaves.
    """

    def __init__(self, existing: PatientRequest) -> None:
        self.existing = existing
        super().__init__(f"Une demande est déjà en cours ({existing.reference}).")


@dataclass(kw_only=True)
class PersonData:
    """Who the request is for and how to reach them (or the person helping them)."""

    birth_name: str
    first_names: str
    birth_date: date
    usage_name: str | None = None
    sex: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    postal_code: str | None = None
    commune_insee: str
    filled_by: str = "self"
    proxy_relation: str | None = None
    proxy_name: str | None = None
    proxy_profession: str | None = None
    proxy_phone: str | None = None
    proxy_email: str | None = None
    #: email, phone or letter; None lets the service pick (email when there is one)
    contact_preference: str | None = None
    is_consented: bool = False


@dataclass(kw_only=True)
class MtRequestData(PersonData):
    """The answers of a médecin traitant request."""

    is_ald: bool = False
    is_css: bool = False
    is_pregnant: bool = False
    is_disabled: bool = False
    hospital_discharge_date: date | None = None
    previous_mt_left_date: date | None = None
    children_birth_dates: list[date] = field(default_factory=list)
    max_km: int = 10
    needs_home_visit: bool = False
    needs_step_free: bool = False
    languages: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class SnpRequestData(PersonData):
    """The answers of an unscheduled-care request (the triage was passed before)."""

    snp_category: str
    snp_reason: str
    snp_since: str
    #: ("today" | "tomorrow", "morning" | "afternoon" | "evening") pairs
    availability: list[tuple[str, str]] = field(default_factory=list)


# --- duplicates ---------------------------------------------------------------------


def find_open_duplicate(
    db: Session, territory: Territory, kind: str, data: Named, *, other_than: Patient | None = None
) -> PatientRequest | None:
    """The open request of this kind of the same person (identity.same_person) in this territory, if any.

    `other_than` leaves out that patient's own requests (a correction of their identity).
    """
    query = (
        select(PatientRequest)
        .join(Patient, Patient.id == PatientRequest.patient_id)
        .where(
            PatientRequest.territory_id == territory.id,
            PatientRequest.kind == kind,
            PatientRequest.status.not_in([str(s) for s in FINAL_REQUEST_STATUSES]),
            Patient.birth_date == data.birth_date,
            Patient.anonymised_dt.is_(None),
        )
        .order_by(PatientRequest.id)
    )
    if other_than is not None:
        query = query.where(Patient.id != other_than.id)
    candidates = db.scalars(query)
    for request in candidates:
        if same_person(request.patient, data):
            return request
    return None


# --- place --------------------------------------------------------------------------


def commune_choices(db: Session, postal_code: str) -> list[geo.CommuneChoice]:
    """The communes a postal code may mean, for the patient to pick.

    Raises geo.UnknownCommune (malformed or unknown code) and OutOfTerritory when no
    commune of that code is served by any territory.
    """
    choices = geo.communes_for_postal_code(db, postal_code)
    if all(geo.territory_for_commune(db, c.insee) is None for c in choices):
        raise OutOfTerritory(choices[0].label if len(choices) == 1 else None)
    return choices


def territory_of(db: Session, commune_insee: str) -> Territory:
    """The territory serving this commune.

    Raises InvalidRequest for an unknown commune and OutOfTerritory when none serves it.
    """
    try:
        commune = geo.get_commune(db, commune_insee)
    except geo.UnknownCommune:
        raise InvalidRequest({"commune_insee": "Choisissez votre commune dans la liste."}) from None
    territory = geo.territory_for_commune(db, commune.insee)
    if territory is None:
        raise OutOfTerritory(commune.name)
    return territory


# --- checks -------------------------------------------------------------------------


#: the answers checked by the one person validator (guichet/requests/validation.py)
_PERSON_FIELDS = ("birth_name", "usage_name", "first_names", "birth_date", "sex", "phone", "email",
                  "address", "proxy_phone", "proxy_email", "contact_preference", "max_km",
                  "hospital_discharge_date", "previous_mt_left_date")


def _check_person(data: PersonData, now: datetime, errors: dict[str, str]) -> None:
    person = {name: getattr(data, name) for name in _PERSON_FIELDS if hasattr(data, name)}
    clean, found = validation.check_person(person, today=paris_today(now), rules=validation.FORM)
    for name, value in clean.items():
        setattr(data, name, value)
    data.birth_name = data.birth_name or ""
    data.first_names = data.first_names or ""
    errors.update(found)
    if data.filled_by not in vocabulary.FILLED_BY:
        errors["filled_by"] = "Indiquez qui remplit la demande."
    for name in ("proxy_relation", "proxy_name", "proxy_profession"):
        setattr(data, name, validation.clean_text(getattr(data, name)))
    if data.filled_by == "self":
        data.proxy_relation = data.proxy_name = data.proxy_profession = None
        data.proxy_phone = data.proxy_email = None
    elif data.filled_by == "relative":
        data.proxy_profession = None
        if not data.proxy_relation:
            errors["proxy_relation"] = "Indiquez votre lien avec la personne (fille, voisin…)."
        if not data.proxy_name:
            errors["proxy_name"] = "Indiquez votre nom et votre prénom."
    elif data.filled_by == "professional":
        data.proxy_relation = None
        if not data.proxy_profession:
            errors["proxy_profession"] = "Indiquez votre profession (pharmacien, assistante sociale…)."
        if not data.proxy_name:
            errors["proxy_name"] = "Indiquez votre nom et votre prénom."
        if not data.proxy_phone and "proxy_phone" not in errors:
            errors["proxy_phone"] = "Indiquez un numéro de téléphone où la CPTS peut vous joindre."
    preference = data.contact_preference
    if preference == "letter":
        if not data.address:
            errors["address"] = "Indiquez l'adresse postale où envoyer les courriers."
    elif "contact_preference" not in errors and not _contact_email(data) and not _contact_phone(data):
        key = "phone" if data.filled_by == "self" else "proxy_phone"
        if key not in errors:
            errors[key] = "Indiquez au moins un numéro de téléphone ou une adresse e-mail."
    if preference is None:
        data.contact_preference = "email" if _contact_email(data) else "phone"
    if not data.is_consented:
        errors["is_consented"] = "Votre accord est nécessaire pour enregistrer la demande."


def _contact_email(data: PersonData) -> str | None:
    return data.email if data.filled_by == "self" else (data.proxy_email or data.email)


def _contact_phone(data: PersonData) -> str | None:
    return data.phone if data.filled_by == "self" else (data.proxy_phone or data.phone)


def check_mt(data: MtRequestData, now: datetime) -> dict[str, str]:
    """Every rule on an MT request's answers; returns {field: French message}."""
    errors: dict[str, str] = {}
    _check_person(data, now, errors)
    today = paris_today(now)
    for child in data.children_birth_dates:
        if child > today:
            errors["children_birth_dates"] = "Une date de naissance est dans le futur."
        elif age_on(child, today) >= CHILD_MAX_AGE:
            errors["children_birth_dates"] = (
                "Indiquez seulement les enfants de moins de 16 ans ; "
                "un jeune de 16 ans ou plus fait sa propre demande."
            )
    unknown = [code for code in data.languages if code not in vocabulary.LANGUAGES]
    if unknown:
        errors["languages"] = "Choisissez les langues dans la liste."
    data.languages = list(dict.fromkeys(data.languages))
    return errors


def availability_slots(
    availability: Sequence[tuple[str, str]], now: datetime
) -> list[dict[str, str]]:
    """Turn (today/tomorrow, period) pairs into stored {"day": ISO date, "period"} items."""
    today = paris_today(now)
    days = {"today": today, "tomorrow": today + timedelta(days=1)}
    return [
        {"day": days[day].isoformat(), "period": period}
        for day, period in availability
        if day in days and period in vocabulary.SNP_PERIODS
    ]


def check_snp(data: SnpRequestData, now: datetime) -> dict[str, str]:
    """Every rule on an SNP request's answers; returns {field: French message}."""
    errors: dict[str, str] = {}
    no_phone = not validation.clean_text(data.phone) and not validation.clean_text(data.proxy_phone)
    _check_person(data, now, errors)
    if no_phone:
        # the coordinators call back to give the appointment
        errors.pop("proxy_phone", None)
        errors["phone"] = "Indiquez un numéro de téléphone : la CPTS vous rappellera."
    if data.snp_category not in vocabulary.SNP_CATEGORIES:
        errors["snp_category"] = "Choisissez le motif dans la liste."
    data.snp_reason = validation.clean_text(data.snp_reason) or ""
    if not data.snp_reason:
        errors["snp_reason"] = "Décrivez le problème en quelques mots."
    elif len(data.snp_reason) > 500:
        errors["snp_reason"] = "Soyez bref : 500 caractères au plus."
    if data.snp_since not in vocabulary.SNP_SINCE:
        errors["snp_since"] = "Indiquez depuis quand."
    if not availability_slots(data.availability, now):
        errors["availability"] = "Cochez au moins un moment où vous êtes disponible."
    return errors


# --- submission ---------------------------------------------------------------------


def _locate(
    db: Session, data: PersonData, expected_territory_id: int | None
) -> Territory:
    territory = territory_of(db, data.commune_insee)
    if expected_territory_id is not None and territory.id != expected_territory_id:
        raise WrongTerritory(territory.name)
    return territory


def _new_patient(territory: Territory, data: PersonData, now: datetime, **extra: object) -> Patient:
    return Patient(
        territory=territory,
        birth_name=data.birth_name,
        usage_name=data.usage_name,
        first_names=data.first_names,
        birth_date=data.birth_date,
        sex=data.sex,
        phone=data.phone,
        email=data.email,
        address=data.address,
        postal_code=(data.postal_code or "").replace(" ", "") or None,
        commune_insee=data.commune_insee,
        contact_preference=data.contact_preference or "phone",
        filled_by=data.filled_by,
        proxy_relation=data.proxy_relation,
        proxy_name=data.proxy_name,
        proxy_profession=data.proxy_profession,
        proxy_phone=data.proxy_phone,
        proxy_email=data.proxy_email,
        created_dt=now,
        **extra,
    )


def _acknowledge(
    db: Session, request: PatientRequest, *, now: datetime, base_url: str, channel: str
) -> None:
    """Send the reference, the short code and the tracking link to the request's contact.

    Online, the page after the form says nothing of the request (see `submit_public`): an
    MT request without e-mail gets them by letter. A same-day request without e-mail
    gets nothing in writing (the CPTS calls back today); staff on the phone tell the caller,
    and send a letter only when they chose letters.
    """
    patient = request.patient
    if notifications.patient_email(patient) is None and patient.contact_preference != "letter":
        if channel != "web" or request.kind == RequestKind.SNP:
            return
    notifications.notify_patient(
        db, request,
        template="request_received",
        subject=f"Votre demande {request.reference} est enregistrée",
        dedup_key=f"request_received:{request.id}",
        now=now,
        context={
            "kind": request.kind,
            "channel": channel,
            "tracking_url": tracking_url(base_url, request.tracking_token),
        },
        with_name=False,
    )


def _remind_existing(
    db: Session, existing: PatientRequest, *, now: datetime, base_url: str
) -> None:
    """Send the existing link to the contact on file, at most once a day."""
    notifications.notify_patient(
        db, existing,
        template="request_exists",
        subject=f"Votre demande {existing.reference} est déjà en cours",
        dedup_key=f"request_exists:{existing.id}:{paris_today(now).isoformat()}",
        now=now,
        context={
            "kind": existing.kind,
            "tracking_url": tracking_url(base_url, existing.tracking_token),
        },
        with_name=False,
    )


def _refuse_duplicate(
    db: Session, territory: Territory, kind: str, data: PersonData, *, channel: str, now: datetime,
    base_url: str,
) -> None:
    """Raise DuplicateRequest when the same person has an open request of this kind here.

    A patient who asks again online gets the existing link by e-mail; staff see it on screen.
    """
    existing = find_open_duplicate(db, territory, kind, data)
    if existing is None:
        return
    if channel == "web":
        _remind_existing(db, existing, now=now, base_url=base_url)
    raise DuplicateRequest(existing)


def initial_status(kind: str, channel: str, territory: Territory, status: str | None = None) -> str:
    """Where a new request starts: the one place deciding it, whatever the channel and kind.

    Staff entering a request have already checked it: it waits at once. An online SNP
    request goes straight to the SNP board too: same-day care cannot wait for a review,
    and the board is where a coordinator reads it. An online MT request joins the waiting
    list at once too (the next run sees it), unless the territory asks a coordinator to
    review it first (setting mt_web_review).
    """
    if status is not None:
        return status
    if channel != "web" or kind == RequestKind.SNP:
        return RequestStatus.WAITING
    if not territory_settings.setting(territory, "mt_web_review"):
        return RequestStatus.WAITING
    return RequestStatus.SUBMITTED


def _insert(
    db: Session,
    territory: Territory,
    kind: str,
    data: PersonData,
    *,
    channel: str,
    now: datetime,
    base_url: str,
    build: Callable[[], PatientRequest],
) -> PatientRequest:
    """Create the rows in a savepoint; a twin submitted at the same instant is caught here.

    The duplicate check above reads, then we insert: two identical submissions (a double
    click) can both pass the read. The database's partial unique index stops the second
    one, which then becomes a DuplicateRequest like any other. References never collide
    (records.new_references), so any other integrity error is a real fault and goes up.
    """
    try:
        with db.begin_nested():
            return build()
    except IntegrityError:
        _refuse_duplicate(db, territory, kind, data, channel=channel, now=now, base_url=base_url)
        raise


def submit_mt_request(
    db: Session,
    data: MtRequestData,
    *,
    channel: str,
    now: datetime,
    base_url: str,
    user_id: int | None = None,
    status: str | None = None,
    expected_territory_id: int | None = None,
) -> PatientRequest:
    """Record a médecin traitant request with its priority score and acknowledgement.

    Raises InvalidRequest (answers breaking a rule), OutOfTerritory (nothing stored),
    WrongTerritory (staff entering another CPTS's patient) and DuplicateRequest (the same
    person has an open MT request here; the existing link is re-sent to the contact on
    file when the request came from the patient).
    """
    errors = check_mt(data, now)
    if errors:
        raise InvalidRequest(errors)
    territory = _locate(db, data, expected_territory_id)
    _refuse_duplicate(db, territory, RequestKind.MT, data, channel=channel, now=now, base_url=base_url)

    def build() -> PatientRequest:
        patient = _new_patient(
            territory, data, now,
            is_ald=data.is_ald,
            is_css=data.is_css,
            is_pregnant=data.is_pregnant,
            is_disabled=data.is_disabled,
            hospital_discharge_date=data.hospital_discharge_date,
            previous_mt_left_date=data.previous_mt_left_date,
            max_km=data.max_km,
            needs_home_visit=data.needs_home_visit,
            needs_step_free=data.needs_step_free,
            languages=data.languages,
        )
        db.add(patient)
        request = create_request(
            db, patient,
            kind=RequestKind.MT,
            channel=channel,
            status=initial_status(RequestKind.MT, channel, territory, status),
            now=now,
            actor="patient" if channel == "web" else "staff",
            user_id=user_id,
            children_birth_dates=sorted(d.isoformat() for d in data.children_birth_dates),
            is_consented=True,
            consent_dt=now,
        )
        _acknowledge(db, request, now=now, base_url=base_url, channel=channel)
        db.flush()
        return request

    return _insert(db, territory, RequestKind.MT, data, channel=channel, now=now, base_url=base_url,
                   build=build)


def submit_snp_request(
    db: Session,
    data: SnpRequestData,
    *,
    channel: str,
    now: datetime,
    base_url: str,
    user_id: int | None = None,
    status: str | None = None,
    expected_territory_id: int | None = None,
) -> PatientRequest:
    """Record an unscheduled-care request; the patient's commune is where they are now.

    The red-flag triage happens before (web page or coordinator on the phone): this
    service is never reached for a life-threatening situation. Raises the same
    exceptions as submit_mt_request.
    """
    errors = check_snp(data, now)
    if errors:
        raise InvalidRequest(errors)
    territory = _locate(db, data, expected_territory_id)
    _refuse_duplicate(db, territory, RequestKind.SNP, data, channel=channel, now=now, base_url=base_url)

    def build() -> PatientRequest:
        patient = _new_patient(territory, data, now)
        db.add(patient)
        request = create_request(
            db, patient,
            kind=RequestKind.SNP,
            channel=channel,
            status=initial_status(RequestKind.SNP, channel, territory, status),
            now=now,
            actor="patient" if channel == "web" else "staff",
            user_id=user_id,
            snp_category=data.snp_category,
            snp_reason=data.snp_reason,
            snp_since=data.snp_since,
            snp_availability=availability_slots(data.availability, now),
            snp_commune_insee=data.commune_insee,
            is_consented=True,
            consent_dt=now,
        )
        _acknowledge(db, request, now=now, base_url=base_url, channel=channel)
        db.flush()
        return request

    return _insert(db, territory, RequestKind.SNP, data, channel=channel, now=now, base_url=base_url,
                   build=build)


# --- the public forms ---------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """All that the person at the keyboard learns after a valid online request.

    It is built from their own answers only, so that a new request and one that already
    existed for the same person give the same answer: whoever types a name, a birth date
    and a postal code must not learn that this person asked for care.
    """

    kind: str
    territory_id: int
    #: how the reference and the tracking link travel: "email", "letter" or, for a
    #: same-day request without e-mail, "phone" (the CPTS calls back)
    sent_by: str


def check_public_contact(data: PersonData, kind: str) -> dict[str, str]:
    """Online, an MT request without e-mail needs a postal address: its reference goes by letter."""
    if kind == RequestKind.MT and not _contact_email(data) and not data.address:
        return {"address": "Indiquez l'adresse postale : sans adresse e-mail, c'est par courrier que nous "
                           "vous enverrons le numéro de la demande et le lien de suivi."}
    return {}


def submit_public(
    db: Session, data: MtRequestData | SnpRequestData, *, now: datetime, base_url: str
) -> Receipt:
    """Record a request made on the public site, or remind the existing one, and say the same.

    A new request gets its acknowledgement (reference, code, link) by e-mail or letter; when
    the same person already has an open request of this kind, nothing new is stored and
    the existing request's contact on file is told instead (never the address typed now).
    Either way the caller commits and shows the same page. Raises InvalidRequest (every
    message at once) and OutOfTerritory; nothing is stored then.
    """
    is_mt = isinstance(data, MtRequestData)
    kind = RequestKind.MT if is_mt else RequestKind.SNP
    errors = check_public_contact(data, kind)
    if errors:
        rules = check_mt(data, now) if isinstance(data, MtRequestData) else check_snp(data, now)
        raise InvalidRequest({**rules, **errors})
    try:
        if isinstance(data, MtRequestData):
            request = submit_mt_request(db, data, channel="web", now=now, base_url=base_url)
        else:
            request = submit_snp_request(db, data, channel="web", now=now, base_url=base_url)
    except DuplicateRequest as exc:
        request = exc.existing  # in the same territory: a duplicate is looked for there only
    sent_by = "email" if _contact_email(data) else ("letter" if is_mt else "phone")
    return Receipt(kind=kind, territory_id=request.territory_id, sent_by=sent_by)
