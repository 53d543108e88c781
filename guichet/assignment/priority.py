"""The priority score and the engine's weight: one pure rule (no Flask, no database).

* The **score** staff see: ``BASE_SCORE`` + the weight of each priority flag + the
  per-day weight × whole days waited + the waiting-time guarantee bonus. Weights are whole
  points, so two scores that differ differ by at least one point.
* The **waiting-time guarantee** (territory setting ``waiting_guarantee_days``, 0 = none):
  from half the guarantee on, a request gains points in a straight line, up to the largest
  priority weight when the guarantee is reached, and keeps gaining at the same pace after
  it. A request near the limit therefore competes with priority requests gradually (no
  cliff), and outranks a new request with one priority reason once the guarantee is reached.
* The **engine's weight** (:func:`engine_weight`) = score + a tie-break in [0, 1) that
  grows strictly with the minutes waited + the reach bonus. Among requests of equal score
  the one waiting longer wins, to the minute; the tie-break is under one point, so it never
  lifts a request above a higher score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from guichet.timeutil import age_on, as_utc, paris_today

#: DESIGN §2 defaults; a territory may override any of them in its settings
DEFAULT_WEIGHTS: dict[str, float] = {
    "ald": 300,
    "age_70": 200,
    "css": 150,
    "pregnancy": 150,
    "hospital_discharge": 150,
    "disability": 100,
    "previous_mt_left": 50,
    "per_day_waited": 1,
}

#: labels in French for the breakdown shown to staff and GPs
FLAG_LABELS = {
    "ald": "Affection de longue durée (ALD)",
    "age_70": "70 ans ou plus",
    "css": "Complémentaire santé solidaire ou AME",
    "pregnancy": "Grossesse",
    "hospital_discharge": "Sortie d'hospitalisation récente",
    "disability": "Situation de handicap",
    "previous_mt_left": "Médecin traitant parti en retraite ou ayant quitté le territoire",
    "waiting_days": "Jours d'attente",
    "waiting_guarantee": "Délai d'attente maximal visé par la CPTS bientôt atteint ou dépassé",
}

#: breakdown keys that count waiting time, not a priority reason
WAITING_KEYS = frozenset({"waiting_days", "waiting_guarantee"})
#: default waiting-time guarantee in days (README "Équité" gives the simulator's figures)
DEFAULT_WAITING_GUARANTEE_DAYS = 180
#: the largest radius a patient or a GP may choose (models' CHECK constraints): the engine
#: gets this many km of bonus, so that no pair within both radii is worth zero or less
REACH_BONUS_KM = 200.0
#: the tie-break reaches one half after this many minutes (one year) and stays under 1
TIE_BREAK_HALF_MINUTES = 365 * 24 * 60

#: a hospital discharge counts as a priority for this long
HOSPITAL_DISCHARGE_WINDOW = timedelta(days=90)
#: the base score keeps every weight strictly positive for the matching engine
BASE_SCORE = 1.0


@dataclass(frozen=True)
class Situation:
    """The answers the score depends on."""

    birth_date: date | None
    is_ald: bool = False
    is_css: bool = False
    is_pregnant: bool = False
    is_disabled: bool = False
    hospital_discharge_date: date | None = None
    previous_mt_left_date: date | None = None


def weights_for(settings: Mapping[str, object] | None) -> dict[str, float]:
    weights = dict(DEFAULT_WEIGHTS)
    overrides = (settings or {}).get("priority_weights") or {}
    if isinstance(overrides, Mapping):
        for key, value in overrides.items():
            if key in weights:
                weights[key] = float(value)
    return weights


def guarantee_days(settings: Mapping[str, object] | None) -> int:
    """The territory's waiting-time guarantee in days (0: none)."""
    value = (settings or {}).get("waiting_guarantee_days", DEFAULT_WAITING_GUARANTEE_DAYS)
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return DEFAULT_WAITING_GUARANTEE_DAYS


def guarantee_bonus(days: int, guarantee: int, weights: Mapping[str, float]) -> float:
    """Whole points given to a request that waited `days` under a guarantee of `guarantee` days."""
    if guarantee <= 0:
        return 0.0
    start = guarantee / 2
    if days <= start:
        return 0.0
    top = max((v for k, v in weights.items() if k != "per_day_waited"), default=0.0)
    return float(math.floor(top * (days - start) / (guarantee - start)))


def guarantee_sentence(guarantee: int) -> str:
    """How the guarantee works, in French, for the score breakdown and the settings page."""
    return (f"La CPTS vise un délai d'attente maximal de {guarantee} jours : à partir de "
            f"{guarantee // 2} jours d'attente, la demande gagne chaque jour des points, jusqu'à "
            "égaler la plus forte raison de priorité au bout du délai visé, puis au-delà.")


def is_reason(key: str) -> bool:
    """Whether a breakdown key is a priority reason (not waiting time)."""
    return key not in WAITING_KEYS


def priority_flags(situation: Situation, today: date) -> list[str]:
    """The priority flags that apply today, in a stable order."""
    flags = []
    if situation.is_ald:
        flags.append("ald")
    if situation.birth_date and age_on(situation.birth_date, today) >= 70:
        flags.append("age_70")
    if situation.is_css:
        flags.append("css")
    if situation.is_pregnant:
        flags.append("pregnancy")
    discharge = situation.hospital_discharge_date
    if discharge and timedelta(0) <= today - discharge <= HOSPITAL_DISCHARGE_WINDOW:
        flags.append("hospital_discharge")
    if situation.is_disabled:
        flags.append("disability")
    if situation.previous_mt_left_date:
        flags.append("previous_mt_left")
    return flags


def compute_priority(
    situation: Situation,
    waiting_since: datetime,
    *,
    now: datetime,
    settings: Mapping[str, object] | None = None,
) -> tuple[float, dict[str, float]]:
    """Return the score and its breakdown ({flag: points, "waiting_days": points}).

    The score is BASE_SCORE plus the weight of each flag plus the per-day weight
    times the whole days waited, plus "waiting_guarantee" points once the request has
    waited more than half the territory's guarantee (the key is absent before).
    """
    weights = weights_for(settings)
    today = paris_today(now)
    breakdown: dict[str, float] = {}
    for flag in priority_flags(situation, today):
        breakdown[flag] = weights[flag]
    days = max(0, (today - paris_today(waiting_since)).days)
    breakdown["waiting_days"] = days * weights["per_day_waited"]
    bonus = guarantee_bonus(days, guarantee_days(settings), weights)
    if bonus:
        breakdown["waiting_guarantee"] = bonus
    score = BASE_SCORE + sum(breakdown.values())
    return score, breakdown


def tie_break(waiting_since: datetime, now: datetime) -> float:
    """In [0, 1), strictly growing with the minutes waited: the longer wait wins a tie."""
    minutes = max(0.0, (as_utc(now) - as_utc(waiting_since)).total_seconds() / 60)
    return minutes / (minutes + TIE_BREAK_HALF_MINUTES)


def engine_weight(
    situation: Situation,
    waiting_since: datetime,
    *,
    now: datetime,
    settings: Mapping[str, object] | None = None,
    km_cost: float = 1.0,
) -> float:
    """The weight the matching engine gets for this request in the territory's settings.

    Score + tie-break + ``REACH_BONUS_KM × km_cost``: the bonus is the same for every
    request, so it changes no order; it only says that leaving a patient waiting while a
    GP within both radii has a place is never better.
    """
    score, _ = compute_priority(situation, waiting_since, now=now, settings=settings)
    return score + tie_break(waiting_since, now) + REACH_BONUS_KM * km_cost
