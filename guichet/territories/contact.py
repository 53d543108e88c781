"""How patients reach their CPTS: phone, opening hours, postal address and e-mail of each territory.

Kept apart from settings.py (which recomputes priorities) so that messaging can import it
without a cycle. The values live in the territory's settings, edited by its admin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from guichet.identifiers import format_phone
from guichet.models import Territory

#: setting key → French label; every one optional, blank until the admin fills it in
CONTACT_SETTINGS: dict[str, str] = {
    "cpts_phone": "Téléphone de la CPTS pour les patients",
    "cpts_hours": "Horaires où ce téléphone répond (par exemple : du lundi au vendredi, de 9 h à 17 h)",
    "cpts_address": "Adresse postale de la CPTS",
    "cpts_email": "Adresse e-mail de la CPTS pour les patients",
}
#: the longest value accepted for each (hours and address are free text)
CONTACT_MAX_LENGTH = {"cpts_phone": 30, "cpts_hours": 200, "cpts_address": 250, "cpts_email": 254}
#: the national number of the permanence des soins: a GP on call evenings, nights, weekends
OUT_OF_HOURS_NUMBER = "116 117"


@dataclass(frozen=True)
class CptsContact:
    """The CPTS's contact details as a patient reads them (empty strings when not given)."""

    name: str
    phone: str
    hours: str
    address: str
    email: str

    @property
    def is_reachable(self) -> bool:
        return bool(self.phone or self.email or self.address)


def contact_of(territory: Territory) -> CptsContact:
    own = territory.settings or {}
    return CptsContact(
        name=territory.name, phone=format_phone(own.get("cpts_phone") or None),
        hours=str(own.get("cpts_hours") or ""), address=str(own.get("cpts_address") or ""),
        email=str(own.get("cpts_email") or ""),
    )


def contact_context(territory: Territory) -> dict[str, str]:
    """The same values for the context of a message (stored as JSON with it)."""
    return asdict(contact_of(territory))
