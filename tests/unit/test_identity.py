"""Who is the same person: one folding, one key, one same-person test for every channel."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from guichet.requests.identity import Identity, fold_name, identity_key, person_key, same_person


def test_folding_ignores_accents_case_hyphens_apostrophes_and_spaces():
    assert fold_name(" Ḿaríe-Ànne  d'Arc ") == "marie anne d arc"
    assert fold_name("LEFÈVRE") == fold_name("lefevre") == "lefevre"
    assert fold_name("Straße") == "strasse"
    assert fold_name(None) == fold_name("") == ""


def test_the_stored_keys_never_change():
    # patient_requests.identity_key holds these values under a unique index: a change of
    # the rule needs a data migration, and this test is there to say so.
    assert identity_key("Lefèvre", "Marie-Anne", date(1950, 1, 2)) == (
        "d6ebf46bcd3f9837d7b0aff7276a33bcce0c866418902ed58156291b8c5299c0")
    assert identity_key("O'Brien  du Pont", "Zoé  Marie", date(1990, 12, 31)) == (
        "9771b05cae592b5e955f00b894e57b28b1a44a45953d094cd934472d071ceb17")
    assert identity_key("LEFEVRE", "marie anne", date(1950, 1, 2)) == identity_key(
        "Lefèvre", "Marie-Anne", date(1950, 1, 2))


def test_no_key_without_a_birth_name_or_a_birth_date():
    assert identity_key("", "Marie", date(1950, 1, 2)) is None
    assert identity_key("Martin", "Marie", None) is None
    assert person_key(Identity(birth_name="Martin", first_names="Marie", birth_date=None)) is None


def test_same_person_matches_a_married_name_given_instead_of_the_birth_name():
    born = Identity(birth_name="Martin", usage_name="Durand", first_names="Marie", birth_date=date(1950, 1, 2))
    married = Identity(birth_name="DURAND", first_names="marie", birth_date=date(1950, 1, 2))
    assert same_person(born, married) and same_person(married, born)
    assert not same_person(born, Identity(birth_name="Martin", first_names="Marie", birth_date=date(1950, 1, 3)))
    assert not same_person(born, Identity(birth_name="Martin", first_names="Marie Anne",
                                          birth_date=date(1950, 1, 2)))
    assert not same_person(born, Identity(birth_name="Dupont", first_names="Marie", birth_date=date(1950, 1, 2)))


def test_twins_with_compound_first_names_are_two_people():
    jean_paul = Identity(birth_name="Roux", first_names="Jean-Paul", birth_date=date(2001, 6, 1))
    jean_marc = Identity(birth_name="Roux", first_names="Jean-Marc", birth_date=date(2001, 6, 1))
    assert not same_person(jean_paul, jean_marc)
    assert person_key(jean_paul) != person_key(jean_marc)


latin_name = st.text(alphabet="abcdeéèëAZÉ -'", min_size=1, max_size=12).filter(lambda s: fold_name(s) != "")
SPELLINGS = (str.upper, str.lower, lambda s: s.replace(" ", "-"), lambda s: s.replace("é", "e").replace("É", "E"),
             lambda s: f"  {s}  ")


@given(latin_name, latin_name, st.dates())
def test_every_spelling_of_one_identity_has_its_key_and_is_the_same_person(name, first, born):
    # what the database's unique index refuses, the duplicate check must have found first
    a = Identity(birth_name=name, first_names=first, birth_date=born)
    for spell in SPELLINGS:
        b = Identity(birth_name=spell(name), first_names=spell(first), birth_date=born)
        assert person_key(a) == person_key(b)
        assert same_person(a, b)
