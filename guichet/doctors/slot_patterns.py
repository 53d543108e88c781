"""A GP's unscheduled-care slots: one-off series, weekly patterns (edited or removed as a whole), week view.

Slots are entered in Europe/Paris wall-clock time and stored in UTC: a weekly 09:00 slot
stays at 09:00 in Paris across the daylight-saving changes (so its UTC hour moves).
Booking and the cancellation rules themselves live in guichet/doctors/slots.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session

from guichet.accounts import audit
from guichet.doctors import slots
from guichet.formatting import plural_fr, time_fr
from guichet.models import Doctor, PatientRequest, Proposal, Slot, SlotPattern
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


def describe_moment(moment: datetime) -> str:
    """« mercredi 02/12/2026 à 09 h 00 », in Paris time."""
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
                    f"Le créneau du {describe_moment(start)} chevauche un créneau que vous proposez déjà "
                    f"(le {describe_moment(other_start)}) : choisissez un autre horaire. Aucun créneau n'a été ajouté.",
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


@dataclass(frozen=True)
class WeeklySpec:
    """What a weekly pattern asks for: days (0 = Monday), Paris time of the first slot, shape, last day."""

    weekdays: tuple[int, ...]
    start: time
    minutes: int
    count: int
    until: date


@dataclass(frozen=True)
class PatternChange:
    """What editing or removing a pattern did: free slots removed, slots added, booked slots kept."""

    removed: int
    created: list[Slot]
    kept: list[Slot]


def _check_weekly(spec: WeeklySpec, now: datetime) -> None:
    _check_shape(spec.minutes, spec.count)
    if not spec.weekdays or any(not 0 <= d <= 6 for d in spec.weekdays):
        raise SlotPatternError("Choisissez au moins un jour de la semaine.", field="weekdays")
    today = paris_today(now)
    if spec.until < today:
        raise SlotPatternError("Choisissez une date de fin à venir.", field="until")
    if spec.until > today + timedelta(days=MAX_PATTERN_DAYS):
        raise SlotPatternError("Une série hebdomadaire dure au plus six mois : choisissez une date de fin plus proche.",
                               field="until")


def _occurrences(spec: WeeklySpec, now: datetime) -> list[tuple[datetime, datetime]]:
    """Every future series of the pattern from today to `until` (a day already begun keeps its future part)."""
    today = paris_today(now)
    intervals: list[tuple[datetime, datetime]] = []
    day = today
    while day <= spec.until:
        if day.weekday() in spec.weekdays:
            intervals.extend(i for i in _series(day, spec.start, spec.minutes, spec.count) if i[0] > now)
        day += timedelta(days=1)
    return intervals


def _days_text(weekdays: tuple[int, ...] | str) -> str:
    names = [f"{WEEKDAYS[int(d)]}s" for d in sorted(int(d) for d in weekdays)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} et {names[-1]}"


def _no_occurrence(spec: WeeklySpec) -> SlotPatternError:
    return SlotPatternError(f"Aucun créneau à venir les {_days_text(spec.weekdays)} avant la date de fin : "
                            "reculez-la.", field="until")


def _fill(db: Session, pattern: SlotPattern, intervals: list[tuple[datetime, datetime]], *,
          now: datetime) -> list[Slot]:
    _check_free_time(db, pattern.doctor_id, intervals)
    created = [Slot(doctor_id=pattern.doctor_id, start_dt=s, end_dt=e, status="free", created_dt=now,
                    pattern=pattern) for s, e in sorted(intervals)]
    db.add_all(created)
    db.flush()
    return created


def add_weekly(db: Session, doctor: Doctor, *, weekdays: tuple[int, ...] | list[int], start: time, minutes: int,
               count: int, until: date, now: datetime, user_id: int | None = None) -> list[Slot]:
    """Create a weekly pattern: the same series every week on `weekdays` (0 = Monday) until `until`.

    Occurrences already past are skipped; the slots created point to their pattern
    (Slot.pattern). Raises SlotPatternError like add_one_off, for no day chosen, and when
    `until` is past or more than six months away.
    """
    spec = WeeklySpec(tuple(sorted(set(weekdays))), start, minutes, count, until)
    _check_weekly(spec, now)
    intervals = _occurrences(spec, now)
    if not intervals:
        raise _no_occurrence(spec)
    pattern = SlotPattern(doctor_id=doctor.id, weekdays="".join(map(str, spec.weekdays)), start_time=start,
                          minutes=minutes, count=count, until=until, created_dt=now)
    db.add(pattern)
    db.flush()
    created = _fill(db, pattern, intervals, now=now)
    audit.record(db, "slots.add_weekly", now=now, user_id=user_id, object_type="doctor", object_id=doctor.id,
                 territory_id=doctor.territory_id, count=len(created), pattern_id=pattern.id)
    return created


def spec_of(pattern: SlotPattern) -> WeeklySpec:
    return WeeklySpec(tuple(int(d) for d in pattern.weekdays), pattern.start_time, pattern.minutes, pattern.count,
                      pattern.until)


def _drop_future_free(db: Session, pattern: SlotPattern, now: datetime) -> int:
    """Remove the pattern's free slots still to come; return how many.

    Conditional statements (… WHERE status = 'free'): a slot booked meanwhile by a
    coordinator is skipped, never deleted. A free slot that an SNP draft proposal names
    cannot be deleted: it is cancelled instead (the draft can no longer be booked into it).
    """
    named = select(Proposal.id).where(Proposal.slot_id == Slot.id).exists()
    mine = (Slot.pattern_id == pattern.id, Slot.status == "free", Slot.start_dt > now)
    cancelled = db.execute(
        update(Slot).where(*mine, named).values(status="cancelled", cancel_reason="Série modifiée ou supprimée")
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    deleted = db.execute(
        delete(Slot).where(*mine, ~named).execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    db.flush()
    db.expire(pattern, ["slots"])
    return int(cancelled) + int(deleted)


def _kept(db: Session, pattern: SlotPattern, now: datetime) -> list[Slot]:
    """The pattern's slots that have not ended and stay whatever happens (booked, or in progress)."""
    return list(db.scalars(
        select(Slot).where(Slot.pattern_id == pattern.id, Slot.status.in_(LIVE), Slot.end_dt > now,
                           ~and_(Slot.status == "free", Slot.start_dt > now))
        .order_by(Slot.start_dt)
    ))


def _check_live(pattern: SlotPattern) -> None:
    if pattern.removed_dt is not None:
        raise SlotPatternError("Cette série a déjà été supprimée.")


def edit_pattern(db: Session, pattern: SlotPattern, spec: WeeklySpec, *, now: datetime,
                 user_id: int | None = None) -> PatternChange:
    """Change a pattern's days, time, shape or end date as a whole.

    Only its future free slots are replaced; booked ones (and a slot in progress) are kept
    as they are, and no new slot is put on their time. Past slots are never touched.
    Raises SlotPatternError for a removed pattern, the limits of add_weekly, or an overlap
    with another of the GP's slots (the caller rolls back: nothing is changed).
    """
    _check_live(pattern)
    spec = WeeklySpec(tuple(sorted(set(spec.weekdays))), spec.start, spec.minutes, spec.count, spec.until)
    _check_weekly(spec, now)
    removed = _drop_future_free(db, pattern, now)
    kept = _kept(db, pattern, now)
    taken = [(as_utc(s.start_dt), as_utc(s.end_dt)) for s in kept]
    intervals = [(s, e) for s, e in _occurrences(spec, now)
                 if not any(s < other_end and other_start < e for other_start, other_end in taken)]
    pattern.weekdays = "".join(map(str, spec.weekdays))
    pattern.start_time, pattern.minutes, pattern.count, pattern.until = spec.start, spec.minutes, spec.count, \
        spec.until
    pattern.updated_dt = now
    created = _fill(db, pattern, intervals, now=now)
    audit.record(db, "slot_pattern.edit", now=now, user_id=user_id, object_type="slot_pattern",
                 object_id=pattern.id, territory_id=pattern.doctor.territory_id, removed=removed,
                 created=len(created), kept=len(kept))
    return PatternChange(removed=removed, created=created, kept=kept)


@dataclass(frozen=True)
class PatternRow:
    """A pattern as the GP's list shows it, with its slots to come."""

    pattern: SlotPattern
    description: str
    free: int
    booked: int


def describe(pattern: SlotPattern | WeeklySpec) -> str:
    """« tous les mardis de 9 h à 11 h, 4 créneaux de 30 min, jusqu'au 30/06/2027 »."""
    spec = pattern if isinstance(pattern, WeeklySpec) else spec_of(pattern)
    first = datetime.combine(spec.until, spec.start, tzinfo=PARIS)
    last = first + timedelta(minutes=spec.minutes * spec.count)
    return (f"tous les {_days_text(spec.weekdays)} de {time_fr(first)} à {time_fr(last)}, "
            f"{plural_fr(spec.count, 'créneau', 'créneaux')} de {spec.minutes} min, "
            f"jusqu'au {spec.until:%d/%m/%Y}")


def patterns_of(db: Session, doctor_id: int, *, now: datetime) -> list[PatternRow]:
    """The GP's patterns not removed, with their free and booked slots to come."""
    patterns = db.scalars(select(SlotPattern).where(SlotPattern.doctor_id == doctor_id,
                                                    SlotPattern.removed_dt.is_(None))
                          .order_by(SlotPattern.created_dt, SlotPattern.id)).all()
    counts: dict[tuple[int | None, str], int] = {}
    if patterns:
        for pattern_id, status, n in db.execute(
            select(Slot.pattern_id, Slot.status, func.count()).where(
                Slot.pattern_id.in_([p.id for p in patterns]), Slot.status.in_(LIVE), Slot.start_dt > now)
            .group_by(Slot.pattern_id, Slot.status)
        ):
            counts[(pattern_id, status)] = n
    return [PatternRow(p, describe(p), counts.get((p.id, "free"), 0),
                       counts.get((p.id, "booked"), 0) + counts.get((p.id, "held"), 0)) for p in patterns]


def removal_preview(db: Session, pattern: SlotPattern, *, now: datetime) -> tuple[int, list[Slot]]:
    """What removing the pattern would do now: (free slots to come that go, slots kept)."""
    free = db.scalar(select(func.count()).select_from(Slot).where(
        Slot.pattern_id == pattern.id, Slot.status == "free", Slot.start_dt > now)) or 0
    return free, _kept(db, pattern, now)


def remove_pattern(db: Session, pattern: SlotPattern, *, now: datetime, user_id: int | None = None) -> PatternChange:
    """Remove a pattern: its free slots to come go, booked ones stay (cancel them one by one with a reason).

    Past slots are never touched. Raises SlotPatternError if it was already removed.
    """
    _check_live(pattern)
    removed = _drop_future_free(db, pattern, now)
    kept = _kept(db, pattern, now)
    pattern.removed_dt = now
    db.flush()
    audit.record(db, "slot_pattern.remove", now=now, user_id=user_id, object_type="slot_pattern",
                 object_id=pattern.id, territory_id=pattern.doctor.territory_id, removed=removed, kept=len(kept))
    return PatternChange(removed=removed, created=[], kept=kept)


@dataclass(frozen=True)
class SlotRow:
    """A slot as the GP's list shows it; for a booked slot, what helps prepare the visit."""

    slot: Slot
    request: PatientRequest | None


def _with_requests(db: Session, rows: list[Slot]) -> list[SlotRow]:
    ids = [s.request_id for s in rows if s.request_id is not None]
    requests = {r.id: r for r in db.scalars(select(PatientRequest).where(PatientRequest.id.in_(ids)))} if ids else {}
    return [SlotRow(slot=s, request=requests.get(s.request_id) if s.request_id else None) for s in rows]


#: the three states a GP reads on a slot, in words (a past free slot stays "libre")
STATE_LABELS = {"free": "libre", "booked": "réservé", "cancelled": "annulé"}


def slot_state(slot: Slot) -> str:
    """free, booked or cancelled: a slot held for a request counts as booked, a released one as free."""
    return {"held": "booked", "released": "free"}.get(slot.status, slot.status)


@dataclass(frozen=True)
class Day:
    """One day of the GP's week view (a Paris date) and its slots, cancelled ones included."""

    day: date
    rows: list[SlotRow]


def iso_week(day: date) -> str:
    """The ISO week of a day as the week view's URL names it: 2026-W49."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> date:
    """The Monday of an ISO week written 2026-W49; raises SlotPatternError otherwise."""
    try:
        year, week = text.strip().upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise SlotPatternError("Semaine inconnue : indiquez-la sous la forme 2026-W49.", field="semaine") from None


def week(db: Session, doctor_id: int, monday: date) -> list[Day]:
    """The GP's slots from Monday to Sunday of a week (Paris days), whatever their state, in time order."""
    lo = paris_to_utc(monday, time(0, 0))  # midnight always exists in Paris: the clocks change at 2 or 3 a.m.
    hi = paris_to_utc(monday + timedelta(days=7), time(0, 0))
    rows = _with_requests(db, list(db.scalars(
        select(Slot).where(Slot.doctor_id == doctor_id, Slot.start_dt >= lo, Slot.start_dt < hi)
        .order_by(Slot.start_dt, Slot.id)
    )))
    days = [Day(monday + timedelta(days=i), []) for i in range(7)]
    for row in rows:
        days[to_paris(row.slot.start_dt).date().toordinal() - monday.toordinal()].rows.append(row)
    return days


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
