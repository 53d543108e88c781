"""French words for the engine's codes: every reason a patient can be given has a sentence."""

from __future__ import annotations

from guichet.assignment import problems
from guichet.assignment.explanations import explanation_summary, reason_text
from guichet.matching import REASONS


def test_every_reason_code_has_its_own_french_sentence():
    codes = [*REASONS, problems.NO_POSITION, problems.PIN_NOT_HONOURED, problems.RESERVED_FOR_PRIORITY,
             problems.FORBIDDEN_OR_RESERVED, problems.OUTSIDE_AVAILABILITY]
    texts = {code: reason_text(code, max_km=10, tags=["home_visit"]) for code in codes}
    assert "non attribué" not in texts.values()
    # the engine's "below min weight" and the builder's "reserved for priority" mean the same to a person
    assert texts["below_min_weight"] == texts["reserved_for_priority"]
    assert len(set(texts.values())) == len(codes) - 1  # otherwise no two reasons read the same
    assert texts["no_offer_in_reach"] == "aucun médecin disponible à moins de 10 km"
    assert texts["tags_not_accepted"] == "aucun médecin proche n'accepte : visites à domicile"


def test_the_review_sentence_says_why_this_gp():
    nearest = {"eligible": 3, "rank": 1, "distance_km": 2.44, "tags": ["children"], "languages": ["en"]}
    assert explanation_summary(nearest) == ("Le plus proche parmi 3 médecin(s) possible(s) ; à 2,4 km ; "
                                            "accepte : enfants ; langue partagée : en.")
    pinned = {"pinned": True, "distance_km": 7.0}
    assert explanation_summary(pinned) == "Attribution fixée par l'équipe (7,0 km)."
