"""Who is the same person: name folding, the identity key, the same-person test and the import key.

Every channel (online and phone intake, staff edits, insurer-list import) and the database's
one-open-request index decide identity here and nowhere else.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import event

from guichet.models import Patient


class Named(Protocol):
    """Anything that says who someone is: a Patient, the intake's answers, an import row."""

    @property
    def birth_name(self) -> str | None: ...

    @property
    def usage_name(self) -> str | None: ...

    @property
    def first_names(self) -> str | None: ...

    @property
    def birth_date(self) -> date | None: ...


@dataclass(frozen=True)
class Identity:
    """The four answers that name a person, for callers that have no Patient (an import row)."""

    birth_name: str | None
    first_names: str | None
    birth_date: date | None
    usage_name: str | None = None


def fold_name(name: str | None) -> str:
    """A name folded for comparison: no accents, no case; hyphens, apostrophes and spaces alike.

    Only the letters a-z and digits survive (validation.py therefore asks for a name in
    Latin letters). The stored identity keys depend on every detail of this function.
    """
    if not name:
        return ""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


#: abbreviations of the words of French place names: "St-Jean" is Saint-Jean
PLACE_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def fold_place(name: str | None) -> str:
    """A place name folded for search: fold_name, with "st"/"ste" spelled out as "saint"/"sainte"."""
    return " ".join(PLACE_ABBREVIATIONS.get(word, word) for word in fold_name(name).split())


def place_matches(text: str, place: str) -> bool:
    """Whether what someone typed names this place or a part of it.

    Accents, case, hyphens and abbreviations do not matter: "saint jean", "st-jean" and
    "ST JEAN" all find Saint-Jean-en-Royans. Both spellings of the typed text are tried, so
    that "ste" still finds "Steenvoorde".
    """
    folded_place = fold_place(place)
    wanted = {fold_name(text), fold_place(text)} - {""}
    return any(w in folded_place for w in wanted)


def identity_key(birth_name: str | None, first_names: str | None, birth_date: date | None) -> str | None:
    """SHA-256 of the folded birth name, first names and birth date; None if one is unknown.

    Stored in patient_requests.identity_key under the partial unique index
    uq_requests_one_open_per_person: any change here must come with an Alembic data
    migration that recomputes the stored keys.
    """
    if birth_date is None or not birth_name:
        return None
    raw = f"{fold_name(birth_name)}|{fold_name(first_names)}|{birth_date.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def person_key(person: Named) -> str | None:
    """The identity key of a person (a Patient, the intake's answers, an import row)."""
    return identity_key(person.birth_name, person.first_names, person.birth_date)


def same_person(a: Named, b: Named) -> bool:
    """Same first names, same birth date and one family name in common (birth or usage name).

    Looser than the key on purpose, so that a married name given once and the birth name
    given another time still find each other; two people with the same key are always the
    same person here, so what the unique index refuses the duplicate check has found first.
    """
    if a.birth_date != b.birth_date:
        return False
    if fold_name(a.first_names) != fold_name(b.first_names):
        return False
    theirs = {fold_name(a.birth_name), fold_name(a.usage_name)} - {""}
    ours = {fold_name(b.birth_name), fold_name(b.usage_name)} - {""}
    return bool(theirs & ours)



def import_key(territory_id: int, person: Named) -> str | None:
    """The key of a person imported from an insurer list: their identity key, scoped to the territory.

    Unlike the identity key it stays when staff correct the name or the request closes, so
    that importing the same person again creates nothing (patient_requests.import_key).
    """
    key = person_key(person)
    if key is None:
        return None
    return hashlib.sha256(f"{territory_id}|{key}".encode()).hexdigest()


def search_text(birth_name: str | None, usage_name: str | None, first_names: str | None) -> str:
    """The folded names a search box looks into: "ines" or "INES" finds Inès (one rule for every database)."""
    return " ".join(part for part in (fold_name(birth_name), fold_name(usage_name), fold_name(first_names)) if part)


@event.listens_for(Patient, "before_insert")
@event.listens_for(Patient, "before_update")
def _keep_search_name(_mapper: Any, _connection: Any, patient: Patient) -> None:
    patient.search_name = search_text(patient.birth_name, patient.usage_name, patient.first_names) or None
