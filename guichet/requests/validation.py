"""One validator of the person a request is for, used by every channel, with French messages per field.

The online form and the phone intake (requests/intake.py), staff corrections
(requests/staff_requests.py) and the insurer-list import (requests/insurer_import.py) all
check names, birth date, sex, phone numbers, e-mail addresses, radius, contact preference
and the dates of the patient's situation here. A channel is stricter only where it must be (`ChannelRules`). Whether a
way to reach the person is required is the intake's own rule: an imported or corrected
record may have none yet, the coordinators look for one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from guichet import vocabulary
from guichet.identifiers import InvalidIdentifier, normalise_email, normalise_phone
from guichet.requests.identity import fold_name
from guichet.timeutil import age_on

#: an older person is certainly a typing error (the oldest French people are about 115)
MAX_AGE_YEARS = 120
#: how far a patient may travel to see a GP, in km, as a GP's reach (the database's CHECK
#: constraints: 0 < max_km <= 200); the territories' default distances stay in it too
RADIUS_KM_RANGE = (1, 200)
#: the distances the patient forms offer, online and on the phone
FORM_RADIUS_CHOICES_KM = (5, 10, 20, 30)
RADIUS_RANGE_MESSAGE = f"Indiquez une distance entre {RADIUS_KM_RANGE[0]} et {RADIUS_KM_RANGE[1]} km."

PHONE_FIELDS = ("phone", "proxy_phone")
EMAIL_FIELDS = ("email", "proxy_email")
#: free texts kept on one line with single spaces
TEXT_FIELDS = ("birth_name", "usage_name", "first_names", "address")
#: the names that make the identity key: they need at least one Latin letter, or every such
#: name would fold to "" and the key would mistake strangers for one person (identity.py)
KEY_NAMES = {
    "birth_name": ("Indiquez le nom de naissance.",
                   "Écrivez le nom de naissance en lettres latines, comme sur la carte Vitale."),
    "first_names": ("Indiquez le ou les prénoms.",
                    "Écrivez les prénoms en lettres latines, comme sur la carte Vitale."),
}


@dataclass(frozen=True)
class ChannelRules:
    """What a channel asks beyond the rules every channel shares."""

    #: the radius must be one of these distances; None: any whole number in RADIUS_KM_RANGE
    radius_choices: tuple[int, ...] | None = None


#: the patient forms offer a few distances to choose from
FORM = ChannelRules(radius_choices=FORM_RADIUS_CHOICES_KM)
#: coordinators may type any distance in the range
STAFF = ChannelRules()
#: an insurer row states no radius (the territory's default applies) and may lack a phone
IMPORT = ChannelRules()


def clean_text(value: Any) -> str | None:
    """One line, single spaces; None for an empty answer."""
    text = " ".join(str(value or "").split())
    return text or None


def check_person(values: Mapping[str, Any], *, today: date,
                 rules: ChannelRules) -> tuple[dict[str, Any], dict[str, str]]:
    """Check and clean the fields of `values` that describe the person.

    Returns the cleaned values (texts on one line, phones in E.164, e-mails normalised)
    and {field: French message} for every rule broken. Only the fields present are
    checked, so that staff may correct a few; fields it does not know pass unchanged.
    """
    clean = dict(values)
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        if name in clean:
            clean[name] = clean_text(clean[name])
    for name, (missing, not_latin) in KEY_NAMES.items():
        if name not in clean:
            continue
        if not clean[name]:
            errors[name] = missing
        elif not re.search("[a-z]", fold_name(clean[name])):
            errors[name] = not_latin
    if "birth_date" in clean:
        message = birth_date_error(clean["birth_date"], today)
        if message:
            errors["birth_date"] = message
    if clean.get("sex") is not None and clean["sex"] not in vocabulary.SEXES:
        errors["sex"] = "Choisissez une réponse dans la liste."
    for names, normalise in ((PHONE_FIELDS, normalise_phone), (EMAIL_FIELDS, normalise_email)):
        for name in names:
            if name not in clean:
                continue
            raw = clean_text(clean[name])
            try:
                clean[name] = normalise(raw) if raw else None
            except InvalidIdentifier as exc:
                errors[name] = str(exc)
    if "max_km" in clean:
        message = radius_error(clean["max_km"], rules)
        if message:
            errors["max_km"] = message
    if clean.get("hospital_discharge_date") and clean["hospital_discharge_date"] > today:
        errors["hospital_discharge_date"] = "La date de sortie ne peut pas être dans le futur."
    # a GP's departure may be announced up to a year ahead
    if clean.get("previous_mt_left_date") and clean["previous_mt_left_date"] > today + timedelta(days=366):
        errors["previous_mt_left_date"] = "Vérifiez cette date : au plus un an à l'avance."
    preference = clean.get("contact_preference")
    if preference is not None and preference not in vocabulary.CONTACT_PREFERENCES:
        errors["contact_preference"] = "Choisissez un moyen de contact dans la liste."
    return clean, errors


def birth_date_error(birth_date: date | None, today: date) -> str | None:
    """The French message for a missing or impossible birth date, or None."""
    if birth_date is None:
        return "Indiquez la date de naissance."
    if birth_date > today:
        return "La date de naissance ne peut pas être dans le futur."
    if age_on(birth_date, today) > MAX_AGE_YEARS:
        return f"Vérifiez l'année de naissance : la personne aurait plus de {MAX_AGE_YEARS} ans."
    return None


def radius_error(max_km: Any, rules: ChannelRules) -> str | None:
    """The French message for a distance the channel does not accept, or None."""
    if rules.radius_choices is not None:
        return None if max_km in rules.radius_choices else "Choisissez une distance dans la liste."
    low, high = RADIUS_KM_RANGE
    if not isinstance(max_km, int) or isinstance(max_km, bool) or not low <= max_km <= high:
        return RADIUS_RANGE_MESSAGE
    return None
