"""Every channel checks the person with the one validator (guichet/requests/validation.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from guichet.models import PatientRequest
from guichet.requests import insurer_import, intake, staff_requests
from tests.integration.test_intake import BASE, mt


def test_names_in_another_alphabet_are_refused_instead_of_crashing(db, factory, now):
    factory.territory()
    intake.submit_mt_request(db, mt(birth_name="Ivanov", first_names="Ivan"), channel="web", now=now, base_url=BASE)
    # before, both folded to "" in the identity key: the second stranger hit the unique
    # index as a "duplicate" that the duplicate check did not find, and the page crashed
    with pytest.raises(intake.InvalidRequest) as exc:
        intake.submit_mt_request(db, mt(birth_name="Петров", first_names="Пётр"), channel="web", now=now,
                                 base_url=BASE)
    assert set(exc.value.errors) == {"birth_name", "first_names"}
    assert "lettres latines" in exc.value.errors["birth_name"]


def test_the_phone_intake_and_the_web_refuse_a_birth_date_121_years_ago(db, factory, now):
    factory.territory()
    for channel in ("web", "phone"):
        with pytest.raises(intake.InvalidRequest) as exc:
            intake.submit_mt_request(db, mt(birth_date=date(1905, 1, 1)), channel=channel, now=now, base_url=BASE)
        assert exc.value.errors == {"birth_date": "Vérifiez l'année de naissance : la personne aurait plus de 120 ans."}


def _staff_edit(db, factory, now, **values):
    territory = factory.territory()
    staff = factory.user("staff", territory)
    request = factory.request(factory.patient(territory))
    with pytest.raises(staff_requests.InvalidEdit) as exc:
        staff_requests.edit(db, request, values, user_id=staff.id, now=now)
    return request, exc.value.errors


def test_staff_corrections_follow_the_same_birth_date_rule(db, factory, now):
    # the staff limit was « after 1900 »: a 121-year-old is now a typing error there too
    request, found = _staff_edit(db, factory, now, birth_date=date(1905, 1, 1))
    assert found == {"birth_date": "Vérifiez l'année de naissance : la personne aurait plus de 120 ans."}
    assert request.patient.birth_date == date(1950, 3, 14)


def test_staff_cannot_erase_the_birth_date(db, factory, now):
    # before, an emptied date was saved: the request left the one-open-request index
    request, found = _staff_edit(db, factory, now, birth_date=None)
    assert found == {"birth_date": "Indiquez la date de naissance."}
    assert request.identity_key is not None


def test_staff_corrections_check_the_situation_dates_as_the_form_does(db, factory, now):
    _, found = _staff_edit(db, factory, now, hospital_discharge_date=date(2027, 1, 1), max_km=0)
    assert found == {"hospital_discharge_date": "La date de sortie ne peut pas être dans le futur.",
                     "max_km": "Indiquez une distance entre 1 et 200 km."}


def test_the_import_reports_the_validator_s_messages(db, factory, now):
    territory = factory.territory()
    data = ("Nom;Prénom(s);Date de naissance;Code postal;Commune;Téléphone\r\n"
            "Vieux;Jean;01/01/1905;26190;Bouvante;\r\n"
            ";Paul;01/01/1970;26190;Bouvante;\r\n"
            "Roux;Léa;01/01/1970;26190;Bouvante;123\r\n"
            "Roux;Luc;01/01/1970;26190;Bouvante;\r\n").encode()
    report = insurer_import.preview(db, territory, data, now=now)
    assert [r.errors for r in report.rows] == [
        ["Vérifiez l'année de naissance : la personne aurait plus de 120 ans."],
        ["Indiquez le nom de naissance."],
        ["Ce numéro de téléphone n'existe pas : vérifiez le nombre de chiffres."],
        [],
    ]
    insurer_import.confirm(db, territory, data, "liste.csv", now=now)
    assert db.scalar(select(func.count()).select_from(PatientRequest).where(
        PatientRequest.territory_id == territory.id)) == 1


def test_the_import_reads_dates_as_the_forms_do(db, factory, now):
    territory = factory.territory()
    data = ("Nom;Prénom(s);Date de naissance;Code postal;Commune\r\n"
            "Roux;Léa;03.04.1970;26190;Bouvante\r\n"
            "Roux;Luc;3-4-1971;26190;Bouvante\r\n"
            "Roux;Max;1970/04/03;26190;Bouvante\r\n").encode()
    report = insurer_import.preview(db, territory, data, now=now)
    assert [r.values.get("birth_date") for r in report.rows] == [date(1970, 4, 3), date(1971, 4, 3), None]
    assert report.rows[2].errors == ["Date de naissance « 1970/04/03 » invalide : écrivez-la JJ/MM/AAAA ou AAAA-MM-JJ."]
