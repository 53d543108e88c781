"""The priority score: one rule, the territory's weights, a breakdown staff can explain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from guichet.timeutil import age_on, paris_today

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
}

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
    times the whole days waited.
    """
    weights = weights_for(settings)
    today = paris_today(now)
    breakdown: dict[str, float] = {}
    for flag in priority_flags(situation, today):
        breakdown[flag] = weights[flag]
    days = max(0, (today - paris_today(waiting_since)).days)
    breakdown["waiting_days"] = days * weights["per_day_waited"]
    score = BASE_SCORE + sum(breakdown.values())
    return score, breakdown
