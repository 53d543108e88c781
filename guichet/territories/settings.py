"""Territory settings: defaults, validation, and what changes when an admin edits them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import audit
from guichet.assignment.priority import DEFAULT_WAITING_GUARANTEE_DAYS, DEFAULT_WEIGHTS, FLAG_LABELS
from guichet.identifiers import InvalidIdentifier, normalise_email, normalise_phone
from guichet.models import PatientRequest, Territory
from guichet.requests.records import refresh_priority
from guichet.requests.validation import RADIUS_KM_RANGE
from guichet.territories.contact import CONTACT_MAX_LENGTH, CONTACT_SETTINGS
from guichet.timeutil import to_paris
from guichet.workflow import FINAL_REQUEST_STATUSES

#: every setting a territory may override, with its default; read with `setting()`
DEFAULT_SETTINGS: dict[str, Any] = {
    "priority_weights": dict(DEFAULT_WEIGHTS),
    #: how far a patient accepts to travel when the form does not say (km)
    "default_patient_km": 10,
    #: how far a GP accepts patients when the declaration does not say (km)
    "default_doctor_km": 15,
    #: days a GP has to answer a proposal (read by guichet/assignment/proposals.py)
    "proposal_answer_days": 7,
    #: a GP who has not answered a proposal gets one reminder after this many days
    "proposal_reminder_days": 3,
    #: after acceptance, ask the patient whether the first consultation took place
    "patient_follow_up_days": 14,
    #: after acceptance, ask the GP whether they declared themselves médecin traitant
    "gp_follow_up_days": 30,
    #: a waiting patient confirms they still need a GP every this many days
    "waiting_confirmation_days": 90,
    #: a patient who does not answer within this many days sees the request expire
    "patient_answer_expiry_days": 30,
    #: a booked SNP request is closed this many days after its appointment
    "snp_close_days": 3,
    #: GPs whose declaration is older than this get the monthly reminder
    "capacity_reminder_days": 30,
    #: matching: points a patient's priority loses per km travelled (engine's km_cost)
    "matching_km_cost": 1.0,
    #: time of day (Europe/Paris) of the nightly matching of this territory
    "nightly_matching_time": "02:30",
    #: time of day (Europe/Paris) of the waiting-list publication and the digests
    "publication_time": "06:30",
}

# Fairness (issue 15): the waiting-time guarantee the CPTS aims at, in days (0: none);
# the rule lives in guichet/assignment/priority.py, the default is justified in the README.
DEFAULT_SETTINGS["waiting_guarantee_days"] = DEFAULT_WAITING_GUARANTEE_DAYS
#: settings that change every open request's score when they change
SCORE_SETTINGS = ("priority_weights", "waiting_guarantee_days")

# How patients reach the CPTS (issue 13): phone, hours, address, e-mail, blank by default.
DEFAULT_SETTINGS.update({key: "" for key in CONTACT_SETTINGS})

# Console (issue 14): online MT requests join the waiting list at once unless the CPTS
# wants a coordinator to check each one first.
DEFAULT_SETTINGS["mt_web_review"] = False
#: yes/no settings, with their French labels
BOOLEAN_SETTINGS: dict[str, str] = {
    "mt_web_review": "Faire vérifier par un coordinateur chaque demande de médecin traitant reçue en ligne "
                     "avant de la mettre en attente",
}

#: (minimum, maximum) of each numeric setting, with its French label
NUMERIC_RANGES: dict[str, tuple[int, int, str]] = {
    "default_patient_km": (*RADIUS_KM_RANGE, "Distance acceptée par défaut par un patient (km)"),
    "default_doctor_km": (*RADIUS_KM_RANGE, "Distance acceptée par défaut par un médecin (km)"),
    "proposal_answer_days": (1, 30, "Délai de réponse d'un médecin à une proposition (jours)"),
    "proposal_reminder_days": (1, 30, "Relance d'un médecin sans réponse après (jours)"),
    "patient_follow_up_days": (1, 90, "Question au patient sur la première consultation après (jours)"),
    "gp_follow_up_days": (1, 180, "Question au médecin sur la déclaration de médecin traitant après (jours)"),
    "waiting_confirmation_days": (7, 365, "Confirmation par le patient qu'il cherche toujours, tous les (jours)"),
    "patient_answer_expiry_days": (7, 180, "Expiration d'une demande sans réponse du patient après (jours)"),
    "snp_close_days": (1, 30, "Clôture d'un rendez-vous SNP sans nouvelles après (jours)"),
    "capacity_reminder_days": (7, 180, "Rappel aux médecins dont la déclaration date de plus de (jours)"),
}
NUMERIC_RANGES["waiting_guarantee_days"] = (0, 730, "Délai d'attente maximal visé (jours, 0 : aucun)")
#: times of day of this territory's daily jobs (the scheduler ticks every few minutes and
#: runs a territory once a day, at or after its time), with their French labels
TIME_SETTINGS: dict[str, str] = {
    "nightly_matching_time": "Heure de l'attribution automatique de la nuit (HH:MM, heure de Paris)",
    "publication_time": "Heure de publication des listes d'attente et des synthèses (HH:MM, heure de Paris)",
}
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEIGHT_RANGE = (0, 1000)

WEIGHT_LABELS = {
    **{k: v for k, v in FLAG_LABELS.items() if k in DEFAULT_WEIGHTS},
    "per_day_waited": "Points par jour d'attente",
}


class InvalidSettings(ValueError):
    """Settings that break a rule; `errors` maps each field to its French message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("Les réglages contiennent des erreurs : " + " ; ".join(errors.values()))


def effective_settings(territory: Territory) -> dict[str, Any]:
    """The defaults overlaid with the territory's own values (weights merged key by key)."""
    own = territory.settings or {}
    result: dict[str, Any] = {k: v for k, v in DEFAULT_SETTINGS.items() if k != "priority_weights"}
    result.update({k: v for k, v in own.items() if k != "priority_weights"})
    weights = dict(DEFAULT_WEIGHTS)
    own_weights = own.get("priority_weights") or {}
    if isinstance(own_weights, Mapping):
        weights.update({k: v for k, v in own_weights.items() if k in weights})
    result["priority_weights"] = weights
    return result


def setting(territory: Territory, name: str) -> Any:
    """One effective setting of the territory (its own value or the default)."""
    return effective_settings(territory)[name]


def _as_int(value: Any, low: int, high: int, label: str) -> tuple[int | None, str | None]:
    try:
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        return None, f"{label} : indiquez un nombre entier."
    if not low <= number <= high:
        return None, f"{label} : indiquez un nombre entre {low} et {high}."
    return number, None


def validate_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise submitted settings; return the dict to store.

    Raises InvalidSettings with one French message per wrong field
    ("weight_<flag>" for a priority weight).
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    weights_in = values.get("priority_weights") or {}
    weights: dict[str, int] = {}
    for key in DEFAULT_WEIGHTS:
        if key not in weights_in:
            continue
        number, error = _as_int(weights_in[key], *WEIGHT_RANGE, WEIGHT_LABELS[key])
        if error:
            errors[f"weight_{key}"] = error
        elif number is not None:
            weights[key] = number
    clean["priority_weights"] = weights
    for key, (low, high, label) in NUMERIC_RANGES.items():
        if key in values and values[key] is not None:
            number, error = _as_int(values[key], low, high, label)
            if error:
                errors[key] = error
            else:
                clean[key] = number
    for key, label in TIME_SETTINGS.items():
        if key in values and values[key] is not None:
            value = str(values[key]).strip().replace("h", ":").replace("H", ":")
            if len(value) == 4 and value[1] == ":":
                value = "0" + value
            if TIME_RE.match(value):
                clean[key] = value
            else:
                errors[key] = f"{label} : indiquez une heure au format HH:MM, par exemple 02:30."
    for key in BOOLEAN_SETTINGS:
        if key in values and values[key] is not None:
            clean[key] = bool(values[key])
    _validate_contact(values, clean, errors)
    if errors:
        raise InvalidSettings(errors)
    return clean


def _validate_contact(values: Mapping[str, Any], clean: dict[str, Any], errors: dict[str, str]) -> None:
    normalisers = {"cpts_phone": normalise_phone, "cpts_email": normalise_email}
    for key, label in CONTACT_SETTINGS.items():
        if key not in values or values[key] is None:
            continue
        value = " ".join(str(values[key]).split())
        if len(value) > CONTACT_MAX_LENGTH[key]:
            errors[key] = f"{label} : {CONTACT_MAX_LENGTH[key]} caractères au plus."
            continue
        if value and key in normalisers:
            try:
                value = normalisers[key](value)
            except InvalidIdentifier as exc:
                errors[key] = f"{label} : {exc}"
                continue
        clean[key] = value


def is_due(territory: Territory, name: str, now: datetime) -> bool:
    """True once today's time of this daily job (a TIME_SETTINGS key) has come, in Paris."""
    hours, minutes = (int(part) for part in str(setting(territory, name)).split(":"))
    local = to_paris(now)
    return (local.hour, local.minute) >= (hours, minutes)


def update_settings(
    db: Session,
    territory: Territory,
    values: Mapping[str, Any],
    *,
    now: datetime,
    user_id: int | None = None,
    is_auto_approval: bool | None = None,
    is_auto_matching: bool | None = None,
    source: str = "settings",
) -> int:
    """Store new settings; when the priority weights change, recompute every open request.

    `source` says where the change was made ("settings" page, "simulation" page) in the audit.
    Returns the number of requests whose priority was recomputed. Raises InvalidSettings.
    """
    clean = validate_settings(values)
    before = effective_settings(territory)
    merged = dict(territory.settings or {})
    merged.update({k: v for k, v in clean.items() if k != "priority_weights"})
    merged["priority_weights"] = {**(merged.get("priority_weights") or {}), **clean["priority_weights"]}
    territory.settings = merged  # a new dict, so that the JSON column is seen as changed
    if is_auto_approval is not None:
        territory.is_auto_approval = is_auto_approval
    if is_auto_matching is not None:
        territory.is_auto_matching = is_auto_matching
    after = effective_settings(territory)
    changed = sorted(k for k in after if after[k] != before.get(k))
    recomputed = 0
    if any(after[key] != before[key] for key in SCORE_SETTINGS):
        recomputed = recompute_open_priorities(db, territory, now=now)
    audit.record(
        db, "territory.settings", now=now, user_id=user_id, object_type="territory",
        object_id=territory.id, territory_id=territory.id, changed=changed,
        is_auto_approval=territory.is_auto_approval, is_auto_matching=territory.is_auto_matching,
        recomputed=recomputed, source=source,
    )
    db.flush()
    return recomputed


def recompute_open_priorities(db: Session, territory: Territory, *, now: datetime) -> int:
    """Recompute the score of every request of the territory that is still open."""
    count = 0
    query = select(PatientRequest).where(
        PatientRequest.territory_id == territory.id,
        PatientRequest.status.not_in(list(FINAL_REQUEST_STATUSES)),
    )
    for request in db.scalars(query):
        refresh_priority(request, now=now)
        count += 1
    db.flush()
    return count
