"""Referrals: a partner sends a patient who consented; the CPTS follows the target delay.

A partner sees only the referrals its own organisation made, and of each only what it
needs: where the search stands ("médecin trouvé"), never the GP's patients or another
organisation's. A fragile referral (after a stroke, a cardiac event…) carries a target
delay; it is *at risk* while no GP is found and the target is less than
:data:`AT_RISK_MARGIN` away, or already past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from guichet import vocabulary
from guichet.models import Partner, PatientRequest, Referral, RequestEvent, RequestStatus
from guichet.requests import intake
from guichet.requests.intake import MtRequestData, SnpRequestData
from guichet.timeutil import PARIS, as_utc, paris_today

#: a fragile referral counts as at risk this long before its target
AT_RISK_MARGIN = timedelta(days=2)
TARGET_DELAY_RANGE = (1, 90)
DEFAULT_TARGET_DELAY_DAYS = 7
#: statuses where the patient has found what they were referred for
FOUND_STATUSES = (RequestStatus.MATCHED, RequestStatus.BOOKED, RequestStatus.COMPLETED)
#: statuses where the CPTS is still searching
SEARCHING_STATUSES = (RequestStatus.TO_CONTACT, RequestStatus.SUBMITTED, RequestStatus.WAITING,
                      RequestStatus.PROPOSED)

#: what a partner reads about a referral (no internal step such as a draft proposal)
PARTNER_STATUS_LABELS = {
    **{s.value: "Recherche d'un médecin en cours" for s in SEARCHING_STATUSES},
    RequestStatus.MATCHED.value: "Médecin trouvé",
    RequestStatus.BOOKED.value: "Rendez-vous fixé",
    RequestStatus.COMPLETED.value: "Médecin trouvé",
    RequestStatus.NO_SHOW.value: "Rendez-vous manqué",
    RequestStatus.WITHDRAWN.value: "Retirée par le patient",
    RequestStatus.CANCELLED.value: "Close par la coordination",
    RequestStatus.EXPIRED.value: "Close sans réponse du patient",
}


@dataclass(kw_only=True)
class Urgency:
    """What the partner says about the discharge and the patient's fragility."""

    discharge_date: date | None = None
    fragility_reason: str | None = None
    target_delay_days: int | None = None


def check_urgency(urgency: Urgency, *, today: date) -> dict[str, str]:
    """Rules on the urgency answers; returns {field: French message}."""
    errors: dict[str, str] = {}
    low, high = TARGET_DELAY_RANGE
    if urgency.fragility_reason is None:
        if urgency.target_delay_days is not None:
            errors["fragility_reason"] = "Indiquez la fragilité qui justifie un délai cible."
    elif urgency.fragility_reason not in vocabulary.FRAGILITY_REASONS:
        errors["fragility_reason"] = "Choisissez la fragilité dans la liste."
    elif urgency.target_delay_days is None:
        errors["target_delay_days"] = "Indiquez le délai cible, en jours, pour ce patient fragile."
    if urgency.target_delay_days is not None and not low <= urgency.target_delay_days <= high:
        errors["target_delay_days"] = f"Le délai cible est un nombre de jours entre {low} et {high}."
    return errors


def submit_referral(db: Session, partner: Partner, person: MtRequestData | SnpRequestData, urgency: Urgency, *,
                    now: datetime, base_url: str, user_id: int | None = None,
                    api_key_id: int | None = None) -> Referral:
    """Record a partner's referral (médecin traitant or same-day care) and the request it creates.

    The patient lands in the coordinators' queue already checked (waiting), an MT request
    with the hospital discharge counted in the priority, an SNP request on the board.
    Raises intake.InvalidRequest (answers breaking a rule, urgency included),
    intake.OutOfTerritory, intake.WrongTerritory (a commune of another CPTS) and
    intake.DuplicateRequest.
    """
    errors = check_urgency(urgency, today=paris_today(now))
    person.filled_by = "professional"
    person.proxy_profession = partner.name[:80]  # the CPTS sees who referred the patient
    if isinstance(person, SnpRequestData):
        errors.update(intake.check_snp(person, now))
        submit = intake.submit_snp_request
    else:
        if urgency.discharge_date is not None:
            person.hospital_discharge_date = urgency.discharge_date
        errors.update(intake.check_mt(person, now))
        submit = intake.submit_mt_request  # type: ignore[assignment]
    if errors:
        raise intake.InvalidRequest(errors)
    request = submit(db, person, channel="partner", now=now, base_url=base_url,  # type: ignore[arg-type]
                     user_id=user_id, expected_territory_id=partner.territory_id)
    target = None if urgency.target_delay_days is None else now + timedelta(days=urgency.target_delay_days)
    referral = Referral(partner_id=partner.id, request=request, user_id=user_id, api_key_id=api_key_id,
                        discharge_date=urgency.discharge_date, fragility_reason=urgency.fragility_reason,
                        target_delay_days=urgency.target_delay_days, target_dt=target, created_dt=now)
    db.add(referral)
    db.flush()
    return referral


def partner_status(referral: Referral) -> str:
    return PARTNER_STATUS_LABELS.get(referral.request.status, "Close")


def for_partner(db: Session, partner_id: int, *, after: int | None = None, limit: int = 50) -> list[Referral]:
    """The organisation's referrals, newest first; `after` is the last id of the previous page."""
    query = select(Referral).where(Referral.partner_id == partner_id)
    if after is not None:
        query = query.where(Referral.id < after)
    return list(db.scalars(query.order_by(Referral.id.desc()).limit(limit)))


def get_for_partner(db: Session, partner_id: int, referral_id: int) -> Referral | None:
    """The referral if this organisation made it; None otherwise (nothing tells it exists)."""
    referral = db.get(Referral, referral_id)
    return referral if referral is not None and referral.partner_id == partner_id else None


def _at_risk_query(territory_id: int, now: datetime) -> Select[Any]:
    return (
        select(Referral)
        .join(PatientRequest, PatientRequest.id == Referral.request_id)
        .where(PatientRequest.territory_id == territory_id,
               PatientRequest.status.in_([s.value for s in SEARCHING_STATUSES]),
               Referral.target_dt.is_not(None), Referral.target_dt <= now + AT_RISK_MARGIN)
    )


def at_risk(db: Session, territory_id: int, *, now: datetime) -> list[Referral]:
    """Fragile referrals still without a GP whose target is near or past, most urgent first."""
    return list(db.scalars(_at_risk_query(territory_id, now).order_by(Referral.target_dt)))


def is_overdue(referral: Referral, now: datetime) -> bool:
    return referral.target_dt is not None and as_utc(referral.target_dt) < now


@dataclass(frozen=True)
class FragileFigures:
    """Fragile referrals made in a period and how many found a GP within their target."""

    referred: int
    found_in_time: int
    found_late: int
    still_searching: int


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first and next month's first instant, in Europe/Paris."""
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return (datetime.combine(month.replace(day=1), time(0), tzinfo=PARIS),
            datetime.combine(following, time(0), tzinfo=PARIS))


def fragile_figures(db: Session, territory_id: int, start: datetime, end: datetime) -> FragileFigures:
    """Indicator: fragile referrals made in [start, end) and whether their target was met."""
    found_at = (
        select(RequestEvent.request_id, func.min(RequestEvent.at_dt).label("at"))
        .where(RequestEvent.kind == "status", RequestEvent.to_status.in_([s.value for s in FOUND_STATUSES]))
        .group_by(RequestEvent.request_id).subquery()
    )
    rows = db.execute(
        select(Referral.target_dt, found_at.c.at, PatientRequest.status)
        .join(PatientRequest, PatientRequest.id == Referral.request_id)
        .outerjoin(found_at, found_at.c.request_id == Referral.request_id)
        .where(PatientRequest.territory_id == territory_id, Referral.target_dt.is_not(None),
               Referral.created_dt >= start, Referral.created_dt < end)
    ).all()
    in_time = sum(1 for target, at, _ in rows if at is not None and as_utc(at) <= as_utc(target))
    late = sum(1 for target, at, _ in rows if at is not None and as_utc(at) > as_utc(target))
    searching = sum(1 for _, at, status in rows if at is None and status in SEARCHING_STATUSES)
    return FragileFigures(referred=len(rows), found_in_time=in_time, found_late=late, still_searching=searching)
