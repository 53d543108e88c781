"""French words for the matching: why a patient got this GP, or why nobody yet.

The engine (:mod:`guichet.matching`) explains its choices with codes and numbers only;
the builder adds a few codes of its own (:mod:`guichet.assignment.problems`). Saying it to
people, in French, happens here and only here.
"""

from __future__ import annotations

from typing import Any

from guichet.assignment.problems import (
    FORBIDDEN_OR_RESERVED,
    NO_POSITION,
    OUTSIDE_AVAILABILITY,
    PIN_NOT_HONOURED,
    RESERVED_FOR_PRIORITY,
)
from guichet.matching import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    CAPACITY_TAKEN,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
)
from guichet.vocabulary import TAG_LABELS


def reason_text(code: str, *, max_km: float | None = None, tags: list[str] | None = None) -> str:
    """The reason, in French, why a patient got no proposal."""
    if code == NO_OFFER_IN_REACH:
        return f"aucun médecin disponible à moins de {max_km:g} km" if max_km else "aucun médecin disponible"
    if code == CAPACITY_TAKEN:
        return "places prises par des patients prioritaires ou plus proches"
    if code == TAGS_NOT_ACCEPTED:
        labels = ", ".join(TAG_LABELS.get(t, t) for t in (tags or []))
        return f"aucun médecin proche n'accepte : {labels}" if labels else "aucun médecin proche n'accepte ses besoins"
    if code in (ALL_FORBIDDEN,):
        return "médecins proches déjà refusés ou exclus"
    if code in (BELOW_MIN_WEIGHT, RESERVED_FOR_PRIORITY):
        return "médecins proches réservés aux patients prioritaires"
    if code == FORBIDDEN_OR_RESERVED:
        return "médecins proches déjà refusés, exclus ou réservés aux patients prioritaires"
    if code == TOO_FAR_FOR_PRIORITY:
        return "médecins disponibles trop éloignés au regard de sa priorité"
    if code == NO_CAPACITY:
        return "les médecins proches n'ont plus de place"
    if code == NO_POSITION:
        return "commune sans coordonnées"
    if code == PIN_NOT_HONOURED:
        return "attribution manuelle impossible à tenir : le médecin n'a plus de place déclarée"
    if code == OUTSIDE_AVAILABILITY:
        return "aucun créneau libre pendant ses disponibilités"
    return "non attribué"


def _km(value: float | None) -> str:
    return f"{value or 0:.1f} km".replace(".", ",")


def explanation_summary(data: dict[str, Any]) -> str:
    """Why this GP, in one French sentence for the review table."""
    if data.get("pinned"):
        return f"Attribution fixée par l'équipe ({_km(data.get('distance_km'))})."
    parts = []
    eligible = data.get("eligible") or 0
    rank = data.get("rank")
    distance = data.get("distance_km", 0) or 0
    nearest = data.get("nearest_km")
    if rank == 1 or (nearest is not None and distance <= nearest + 0.05):
        parts.append(f"le plus proche parmi {eligible} médecin(s) possible(s)")
    elif rank:
        parts.append(f"{rank}e plus proche parmi {eligible} médecin(s) possible(s), les plus proches "
                     "étant réservés à d'autres patients")
    parts.append(f"à {_km(data.get('distance_km'))}")
    if data.get("tags"):
        parts.append("accepte : " + ", ".join(TAG_LABELS.get(t, t) for t in data["tags"]))
    if data.get("languages"):
        parts.append("langue partagée : " + ", ".join(data["languages"]))
    if data.get("priority_only"):
        parts.append("réservé aux patients prioritaires")
    text = " ; ".join(parts)
    return text[:1].upper() + text[1:] + "."
