"""French sentences for the engine's explanations (the engine itself speaks codes only)."""

from __future__ import annotations

from guichet.assignment.explanations import explanation_sentence
from guichet.matching import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
    Demand,
    Explanation,
    Offer,
    Problem,
    solve,
)

A = (45.0500, 5.4200)
B = (45.0900, 5.4350)  # ~4.6 km from A


def test_assigned_pinned_and_capacity_taken() -> None:
    demands = [
        Demand("a", *A, 300.0, 10.0),
        Demand("b", *A, 50.0, 1.0),
        Demand("x", *A, 100.0, 30.0),
        Demand("y", *A, 99.0, 1.0),
        Demand("p", *B, 10.0, 10.0),
    ]
    offers = [Offer("g", *A, 2, 10.0), Offer("h", *B, 2, 30.0)]
    r = solve(Problem(demands, offers, km_cost=0.1, pinned={"p": "h"}))
    assert r.assignments == {"a": "g", "x": "h", "y": "g", "p": "h"}
    assert explanation_sentence(r.explain("a")) == (
        "Proposé à g à 0.0 km, son meilleur choix parmi 2 médecin(s) possible(s)."
    )
    assert explanation_sentence(r.explain("x")) == (
        "Proposé à h à 4.6 km, son choix n° 2 parmi 2 médecin(s) possible(s)."
    )
    assert explanation_sentence(r.explain("p")) == "Attribution fixée par l'équipe (0.0 km)."
    # b lost its place to a, x and y; the nearest miss is named with the points it lacked.
    eb = r.explain("b")
    assert eb.shortfall is not None
    assert explanation_sentence(eb, offer_label=lambda oid: f"Dr {str(oid).upper()}") == (
        "Places prises par des patients plus prioritaires ; chez Dr G (0.0 km) il manquait "
        f"{eb.shortfall:.1f} point(s)."
    )
    assert explanation_sentence(r.explain("a"), offer_label=lambda oid: "Dr Martin").startswith(
        "Proposé à Dr Martin à 0.0 km"
    )


def _unassigned(reason: str, **changes: object) -> Explanation:
    base = solve(Problem([Demand("d", *A, 1.0, 1.0)], [])).explain("d")
    fields = {name: getattr(base, name) for name in base.__slots__}  # type: ignore[attr-defined]
    return Explanation(**{**fields, "reason": reason, **changes})


def test_each_reason_code_has_its_sentence() -> None:
    expected = {
        NO_OFFER_IN_REACH: "Aucun médecin dans le rayon accepté.",
        TAGS_NOT_ACCEPTED: "Les médecins à portée ne prennent pas en charge ses besoins.",
        BELOW_MIN_WEIGHT: "Les médecins à portée ne prennent que des patients prioritaires.",
        ALL_FORBIDDEN: "Les médecins à portée sont exclus pour ce patient.",
        TOO_FAR_FOR_PRIORITY: "Trop loin au regard de sa priorité.",
        NO_CAPACITY: "Les médecins à portée n'ont aucune place.",
        "capacity_taken": "Places prises par des patients plus prioritaires.",
        "some_future_code": "Non attribué.",
    }
    for code, sentence in expected.items():
        assert explanation_sentence(_unassigned(code)) == sentence
