"""A GP's unscheduled-care slots: one-off series, weekly patterns, listing and cancelling.

Slots are entered in Europe/Paris wall-clock time and stored in UTC: a weekly 09:00 slot
stays at 09:00 in Paris across the daylight-saving changes (so its UTC hour moves).
Booking and the cancellation rules themselves live in guichet/doctors/slots.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import audit
from guichet.doctors import slots
from guichet.models import Doctor, PatientRequest, Slot
from guichet.timeutil import PARIS, as_utc, paris_today, to_paris
from guichet.vocabulary import SNP_CATEGORIES

MIN_MINUTES = 10
MAX_MINUTES = 60
MAX_CONSECUTIVE = 12
#: a weekly pattern runs six months at most: GPs' weeks change, stale slots mislead staff
MAX_PATTERN_DAYS = 183
#: statuses in which a slot occupies the GP's time
LIVE = ("free", "held", "booked")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class SlotPatternError(ValueError):
    """A French message about the slots asked for; ``field`` names the form field if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _describe(moment: datetime) -> str:
    local = to_paris(moment)
    day = f"{WEEKDAYS[local.weekday()]} {local.day:02d}/{local.month:02d}/{local.year}"
    return f"{day} à {local.hour:02d} h {local.minute:02d}"


def paris_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a Paris wall-clock time; raises SlotPatternError if it does not exist.

    On the last Sunday of March the clocks jump from 02:00 to 03:00: 02:30 never happens.
    In October 02:30 happens twice; we take the first (summer time).
    """
    local = datetime.combine(day, at, tzinfo=PARIS)
    instant = local.astimezone(UTC)
    if instant.astimezone(PARIS).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise SlotPatternError(
            f"L'heure {at.hour:02d} h {at.minute:02d} n'existe pas le {day.day:02d}/{day.month:02d}/{day.year} "
            "(passage à l'heure d'été) : choisissez une autre heure.",
            field="start_time",
        )
    return instant


def _series(day: date, at: time, minutes: int, count: int) -> list[tuple[datetime, datetime]]:
    first = paris_to_utc(day, at)
    step = timedelta(minutes=minutes)
    return [(first + i * step, first + (i + 1) * step) for i in range(count)]


def _check_shape(minutes: int, count: int) -> None:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise SlotPatternError(f"La durée d'un créneau va de {MIN_MINUTES} à {MAX_MINUTES} minutes.", field="minutes")
    if not 1 <= count <= MAX_CONSECUTIVE:
        raise SlotPatternError(f"Indiquez de 1 à {MAX_CONSECUTIVE} créneaux à la suite.", field="count")


def _check_free_time(db: Session, doctor_id: int, intervals: list[tuple[datetime, datetime]]) -> None:
    """Refuse the whole request if one new slot overlaps a live slot of the same GP."""
    if not intervals:
        return
    lo = min(s for s, _ in intervals)
    hi = max(e for _, e in intervals)
    existing = [
        (as_utc(s.start_dt), as_utc(s.end_dt))
        for s in db.scalars(
            select(Slot).where(Slot.doctor_id == doctor_id, Slot.status.in_(LIVE), Slot.start_dt < hi,
                               Slot.end_dt > lo)
        )
    ]
    for start, end in sorted(intervals):
        for other_start, other_end in existing:
            if start < other_end and other_start < end:
                raise SlotPatternError(
                    f"Le créneau du {_describe(start)} chevauche un créneau que vous proposez déjà "
                    f"(le {_describe(other_start)}) : choisissez un autre horaire. Aucun créneau n'a été ajouté.",
                    field="start_time",
                )


def _create(db: Session, doctor: Doctor, intervals: list[tuple[datetime, datetime]], *, now: datetime,
            user_id: int | None, kind: str) -> list[Slot]:
    _check_free_time(db, doctor.id, intervals)
    created = [Slot(doctor_id=doctor.id, start_dt=s, end_dt=e, status="free", created_dt=now)
               for s, e in sorted(intervals)]
    db.add_all(created)
    db.flush()
    audit.record(db, f"slots.add_{kind}", now=now, user_id=user_id, object_type="doctor", object_id=doctor.id,
                 territory_id=doctor.territory_id, count=len(created))
    return created


def add_one_off(db: Session, doctor: Doctor, *, day: date, start: time, minutes: int, count: int = 1,
                now: datetime, user_id: int | None = None) -> list[Slot]:
    """Add `count` consecutive slots of `minutes` starting at `start` (Paris time) on `day`.

    Raises SlotPatternError for a duration or count out of range, a time in the past or
    that does not exist, or an overlap with one of the GP's slots (nothing is added).
    """
    _check_shape(minutes, count)
    intervals = _series(day, start, minutes, count)
    if intervals[0][0] <= now:
        raise SlotPatternError("Choisissez une date et une heure à venir.", field="day")
    return _create(db, doctor, intervals, now=now, user_id=user_id, kind="one_off")


def add_weekly(db: Session, doctor: Doctor, *, weekday: int, start: time, minutes: int, count: int, until: date,
               now: datetime, user_id: int | None = None) -> list[Slot]:
    """Add the same series every week on `weekday` (0 = Monday) from today until `until`.

    Occurrences already past today are skipped. Raises SlotPatternError like add_one_off,
    and when `until` is past or more than six months away.
    """
    _check_shape(minutes, count)
    if not 0 <= weekday <= 6:
        raise SlotPatternError("Choisissez un jour de la semaine.", field="weekday")
    today = paris_today(now)
    if until < today:
        raise SlotPatternError("Choisissez une date de fin à venir.", field="until")
    if until > today + timedelta(days=MAX_PATTERN_DAYS):
        raise SlotPatternError("Une série hebdomadaire dure au plus six mois : choisissez une date de fin plus proche.",
                               field="until")
    intervals: list[tuple[datetime, datetime]] = []
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    while day <= until:
        series = _series(day, start, minutes, count)
        if series[0][0] > now:
            intervals.extend(series)
        day += timedelta(days=7)
    if not intervals:
        raise SlotPatternError(f"Aucun {WEEKDAYS[weekday]} à venir avant la date de fin : reculez-la.", field="until")
    return _create(db, doctor, intervals, now=now, user_id=user_id, kind="weekly")


@dataclass(frozen=True)
class SlotRow:
    """A slot as the GP's list shows it; for a booked slot, what helps prepare the visit."""

    slot: Slot
    request: PatientRequest | None


def upcoming(db: Session, doctor_id: int, *, now: datetime) -> list[SlotRow]:
    """The GP's slots that have not ended yet, free or taken, in time order."""
    rows = db.scalars(
        select(Slot).where(Slot.doctor_id == doctor_id, Slot.status.in_(LIVE), Slot.end_dt > now)
        .order_by(Slot.start_dt, Slot.id)
    ).all()
    ids = [s.request_id for s in rows if s.request_id is not None]
    requests = {r.id: r for r in db.scalars(select(PatientRequest).where(PatientRequest.id.in_(ids)))} if ids else {}
    return [SlotRow(slot=s, request=requests.get(s.request_id) if s.request_id else None) for s in rows]


def category_label(request: PatientRequest | None) -> str:
    """The reason category of a booked request, in French, for the GP to prepare the visit."""
    if request is None or not request.snp_category:
        return ""
    return SNP_CATEGORIES.get(request.snp_category, request.snp_category)


def cancel(db: Session, slot: Slot, *, now: datetime, reason: str | None = None,
           user_id: int | None = None) -> PatientRequest | None:
    """The GP cancels one of their slots (see slots.cancel: a booked one needs a reason).

    Raises slots.SlotUnavailable for a past or already cancelled slot, or a booked slot
    without a reason.
    """
    if as_utc(slot.end_dt) <= now:
        raise slots.SlotUnavailable("Ce créneau est passé : il ne peut plus être annulé.")
    request = slots.cancel(db, slot, now=now, reason=reason, user_id=user_id)
    audit.record(db, "slot.cancel", now=now, user_id=user_id, object_type="slot", object_id=slot.id,
                 was_booked=request is not None)
    db.flush()
    return request
