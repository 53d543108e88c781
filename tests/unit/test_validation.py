"""The one person validator: one birth-date rule, one radius range, French messages per field."""

from __future__ import annotations

from datetime import date

import pytest

from guichet.requests import validation
from guichet.requests.validation import FORM, IMPORT, STAFF, check_person

TODAY = date(2026, 11, 24)


def errors(rules=STAFF, **values):
    return check_person(values, today=TODAY, rules=rules)[1]


@pytest.mark.parametrize("rules", [FORM, STAFF, IMPORT])
def test_one_birth_date_rule_for_every_channel(rules):
    assert errors(rules, birth_date=None) == {"birth_date": "Indiquez la date de naissance."}
    assert "futur" in errors(rules, birth_date=date(2026, 11, 25))["birth_date"]
    # 120 years old on the day is possible, 121 is a typing error (1900 was the staff and import limit)
    assert errors(rules, birth_date=date(1906, 11, 24)) == {}
    assert errors(rules, birth_date=date(1906, 11, 25)) == {}
    assert errors(rules, birth_date=date(1905, 11, 24)) == {
        "birth_date": "Vérifiez l'année de naissance : la personne aurait plus de 120 ans."}


def test_forms_offer_fixed_distances_staff_type_any_in_the_one_range():
    assert errors(FORM, max_km=10) == {} and errors(FORM, max_km=15) == {
        "max_km": "Choisissez une distance dans la liste."}
    assert errors(STAFF, max_km=15) == {} and errors(STAFF, max_km=1) == {} and errors(STAFF, max_km=200) == {}
    for wrong in (0, 201, None, "10", True):
        assert errors(STAFF, max_km=wrong) == {"max_km": "Indiquez une distance entre 1 et 200 km."}
    assert validation.RADIUS_KM_RANGE == (1, 200)  # the database's CHECK constraints
    assert all(errors(STAFF, max_km=km) == {} for km in validation.FORM_RADIUS_CHOICES_KM)


def test_names_are_needed_in_latin_letters():
    assert errors(birth_name="  ", first_names=None) == {
        "birth_name": "Indiquez le nom de naissance.", "first_names": "Indiquez le ou les prénoms."}
    # such names all fold to "" in the identity key: two strangers would be one person
    found = errors(birth_name="Иванов", first_names="---")
    assert found["birth_name"].startswith("Écrivez le nom de naissance en lettres latines")
    assert found["first_names"].startswith("Écrivez les prénoms en lettres latines")
    assert errors(birth_name="N'Diaye-Lefèvre", first_names="Zoé") == {}


def test_values_come_back_cleaned():
    clean, found = check_person(
        {"birth_name": "  Le   Gall ", "usage_name": " ", "phone": "06 12 34 56 78", "email": " Zoe@Exemple.FR ",
         "proxy_phone": "", "address": "1  rue Haute", "is_ald": True},
        today=TODAY, rules=STAFF)
    assert found == {}
    assert clean == {"birth_name": "Le Gall", "usage_name": None, "phone": "+33612345678",
                     "email": "Zoe@exemple.fr", "proxy_phone": None, "address": "1 rue Haute", "is_ald": True}


def test_each_field_says_what_is_wrong():
    found = errors(sex="Z", phone="123", email="zoe@", contact_preference="pigeon",
                   hospital_discharge_date=date(2026, 12, 1), previous_mt_left_date=date(2028, 1, 1))
    assert found == {
        "sex": "Choisissez une réponse dans la liste.",
        "phone": "Ce numéro de téléphone n'existe pas : vérifiez le nombre de chiffres.",
        "email": "Adresse e-mail non valide : elle doit ressembler à nom@exemple.fr.",
        "contact_preference": "Choisissez un moyen de contact dans la liste.",
        "hospital_discharge_date": "La date de sortie ne peut pas être dans le futur.",
        "previous_mt_left_date": "Vérifiez cette date : au plus un an à l'avance.",
    }


def test_only_the_fields_given_are_checked():
    # a staff correction sends some fields: the others are not "missing"
    assert errors(is_ald=True) == {}
    assert errors(sex=None, contact_preference=None) == {}
