"""French sentences for the matching engine's explanations.

The engine (:mod:`guichet.matching`) explains its choices with codes and numbers only
(:class:`~guichet.matching.Explanation`: status, reason code, distance, rank, nearest
miss, shortfall); saying it to people, in French, is the application's business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guichet.matching import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    CAPACITY_TAKEN,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
    Explanation,
    OfferId,
)

#: sentence per reason code of an unassigned demand (capacity_taken has its own, with figures)
REASON_SENTENCES = {
    NO_OFFER_IN_REACH: "Aucun médecin dans le rayon accepté.",
    TAGS_NOT_ACCEPTED: "Les médecins à portée ne prennent pas en charge ses besoins.",
    BELOW_MIN_WEIGHT: "Les médecins à portée ne prennent que des patients prioritaires.",
    ALL_FORBIDDEN: "Les médecins à portée sont exclus pour ce patient.",
    TOO_FAR_FOR_PRIORITY: "Trop loin au regard de sa priorité.",
    NO_CAPACITY: "Les médecins à portée n'ont aucune place.",
}


def explanation_sentence(
    expl: Explanation[Any, OfferId], offer_label: Callable[[OfferId], str] = str
) -> str:
    """One French sentence for the staff console; ``offer_label`` names an offer from its id."""
    if expl.status == "pinned":
        return f"Attribution fixée par l'équipe ({_km(expl.distance_km)})."
    if expl.status == "assigned" and expl.offer_id is not None:
        rang = "son meilleur choix" if expl.rank == 1 else f"son choix n° {expl.rank}"
        return (
            f"Proposé à {offer_label(expl.offer_id)} à {_km(expl.distance_km)}, {rang} "
            f"parmi {expl.n_eligible} médecin(s) possible(s)."
        )
    if expl.reason == CAPACITY_TAKEN:
        alt = expl.best_alternative
        if alt is not None and expl.shortfall is not None:
            return (
                f"Places prises par des patients plus prioritaires ; chez {offer_label(alt.offer_id)} "
                f"({_km(alt.distance_km)}) il manquait {expl.shortfall:.1f} point(s)."
            )
        return "Places prises par des patients plus prioritaires."
    return REASON_SENTENCES.get(expl.reason or "", "Non attribué.")


def _km(km: float | None) -> str:
    return "?" if km is None else f"{km:.1f} km"
