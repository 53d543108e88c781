"""The national directory: the Annuaire Santé extraction loaded for the served communes, and looked up."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from guichet.doctors import directory
from guichet.identifiers import rpps_with_key
from guichet.models import RppsEntry

COLUMNS = [
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP", "Code civilité d'exercice",
    "Libellé civilité d'exercice", "Code civilité", "Libellé civilité", "Nom d'exercice", "Prénom d'exercice",
    "Code profession", "Libellé profession", "Code catégorie professionnelle", "Libellé catégorie professionnelle",
    "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site",
    "Numéro FINESS établissement juridique", "Identifiant technique de la structure", "Raison sociale site",
    "Enseigne commerciale site", "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)", "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)", "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)", "Bureau cedex (coord. structure)", "Code postal (coord. structure)",
    "Code commune (coord. structure)", "Libellé commune (coord. structure)", "Code pays (coord. structure)",
    "Libellé pays (coord. structure)", "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)",
    "Télécopie (coord. structure)", "Adresse e-mail (coord. structure)", "Code Département (structure)",
    "Libellé Département (structure)", "Ancien identifiant de la structure", "Autorité d'enregistrement",
    "Code secteur d'activité", "Libellé secteur d'activité", "Code section tableau pharmaciens",
    "Libellé section tableau pharmaciens", "",
]
GP = rpps_with_key("1000000777")


def line(**values: str) -> str:
    """One line of the extraction, the given columns filled (by their header name)."""
    return "|".join(values.get(name, "") for name in COLUMNS) + "\n"


def extraction(*rows: dict[str, str]) -> list[str]:
    return ["|".join(COLUMNS) + "\n", *(line(**row) for row in rows)]


def doctor_row(rpps: str = GP, commune: str = "26223", profession: str = "10", **extra: str) -> dict[str, str]:
    row = {"Type d'identifiant PP": "8", "Identifiant PP": rpps, "Nom d'exercice": "LAMBERT",
           "Prénom d'exercice": "CLAIRE", "Code profession": profession,
           "Libellé profession": "Médecin" if profession == "10" else "Infirmier",
           "Libellé savoir-faire": "Médecine Générale", "Raison sociale site": "MAISON DE SANTE DU ROYANS",
           "Numéro Voie (coord. structure)": "2", "Indice répétition voie (coord. structure)": "B",
           "Libellé type de voie (coord. structure)": "Place", "Libellé Voie (coord. structure)": "DE L'EGLISE",
           "Code postal (coord. structure)": "26190", "Code commune (coord. structure)": commune,
           "Téléphone (coord. structure)": "0475000000"}
    row.update(extra)
    return row


def test_only_the_doctors_of_the_served_communes_are_kept(db, now):
    lines = extraction(doctor_row(), doctor_row(rpps=rpps_with_key("1000000888"), commune="75056"),
                       doctor_row(rpps=rpps_with_key("1000000999"), profession="60"),
                       {**doctor_row(), "Type d'identifiant PP": "0"})
    report = directory.import_rpps(db, lines, {"26223", "26059"}, now=now)
    assert (report.read, report.kept) == (4, 1)
    entry = directory.lookup(db, GP)
    assert entry is not None and entry.last_name == "LAMBERT" and entry.profession == "Médecin"
    assert entry.practice_address == "2 B Place DE L'EGLISE" and entry.postal_code == "26190"
    assert entry.specialty == "Médecine Générale" and entry.phone == "0475000000"
    assert directory.lookup(db, GP, {"38185"}) is None


def test_a_new_extraction_replaces_the_previous_one(db, now):
    directory.import_rpps(db, extraction(doctor_row()), {"26223"}, now=now)
    directory.import_rpps(db, extraction(doctor_row(**{"Nom d'exercice": "MARTIN"})), {"26223"}, now=now)
    assert db.scalar(select(func.count()).select_from(RppsEntry)) == 1
    assert directory.lookup(db, GP).last_name == "MARTIN"


def test_another_file_is_refused_in_french(db, now):
    with pytest.raises(directory.DirectoryFileError, match="colonnes absentes"):
        directory.import_rpps(db, ["nom;prénom\n", "Durand;Hélène\n"], {"26223"}, now=now)


def test_the_command_loads_the_file_for_the_territories(runner, factory, tmp_path, db):
    factory.territory(insee=("26223",))
    path = tmp_path / "PS_LibreAcces_Personne_activite.txt"
    path.write_text("".join(extraction(doctor_row())), encoding="utf-8")
    result = runner.invoke(args=["import-rpps", str(path)])
    assert result.exit_code == 0, result.output
    assert "Annuaire chargé : 1 activités de médecins" in result.output
    bad = tmp_path / "autre.txt"
    bad.write_text("a|b\n1|2\n", encoding="utf-8")
    result = runner.invoke(args=["import-rpps", str(bad)])
    assert result.exit_code == 1 and "Annuaire Santé" in result.output


def test_registering_a_gp_by_rpps_prefills_name_profession_and_address(client, factory, db, now):
    from html import unescape

    from tests.factories import login

    territory = factory.territory(insee=("26223", "26059"))
    directory.import_rpps(db, extraction(doctor_row()), {"26223"}, now=now)
    login(client, factory.user("staff", territory))
    page = unescape(client.post("/coordination/medecins/nouveau", data={"rpps": GP, "lookup": "1"})
                    .get_data(as_text=True))
    assert "Trouvé dans l'annuaire santé : Médecin, Médecine Générale" in page
    assert 'value="Lambert"' in page and 'value="Claire"' in page and "2 B Place De L'Eglise" in page
    missing = unescape(client.post("/coordination/medecins/nouveau", data={"rpps": "10000000000", "lookup": "1"})
                       .get_data(as_text=True))
    assert "n'est pas dans l'annuaire santé chargé" in missing
