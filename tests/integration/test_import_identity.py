"""The insurer-list import decides who is the same person as every other channel does (requests/identity.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from guichet.models import PatientRequest
from guichet.requests import identity, insurer_import, staff_requests
from guichet.requests.identity import Identity

HEADER = "Nom;Nom d'usage;Prénom(s);Date de naissance;Code postal;Commune"


def _csv(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def _statuses(report: insurer_import.Preview) -> list[str]:
    return [r.status for r in report.rows]


def test_twins_with_compound_first_names_are_both_imported(db, factory, now):
    territory = factory.territory()
    data = _csv("Roux;;Jean-Paul;01/06/2001;26190;Bouvante", "Roux;;Jean-Marc;01/06/2001;26190;Bouvante")
    assert _statuses(insurer_import.preview(db, territory, data, now=now)) == ["ok", "ok"]
    assert insurer_import.confirm(db, territory, data, "liste.csv", now=now).n_imported == 2


def test_a_row_naming_the_person_of_an_open_request_is_left_out_whatever_the_spelling(db, factory, now):
    territory = factory.territory()
    obrien = factory.request(factory.patient(territory, birth_name="O Brien", first_names="Zoé",
                                             birth_date=date(1990, 1, 1)))
    married = factory.request(factory.patient(territory, birth_name="Martin", usage_name="Durand",
                                              first_names="Anne", birth_date=date(1960, 2, 2)))
    data = _csv("O.BRIEN;;zoe;01/01/1990;26190;Bouvante", "Durand;;Anne;02/02/1960;26190;Bouvante")
    report = insurer_import.preview(db, territory, data, now=now)
    assert _statuses(report) == ["existing", "existing"]
    assert obrien.reference in report.rows[0].errors[0] and married.reference in report.rows[1].errors[0]
    # before, the first row passed the import's own check and the bulk insert then hit the
    # database's one-open-request index: the whole import failed
    assert insurer_import.confirm(db, territory, data, "liste.csv", now=now).n_imported == 0


def test_the_same_person_twice_in_one_file_is_imported_once(db, factory, now):
    territory = factory.territory()
    data = _csv("Martin;Durand;Anne;02/02/1960;26190;Bouvante", "DURAND;;anne;02/02/1960;26190;Bouvante")
    report = insurer_import.preview(db, territory, data, now=now)
    assert _statuses(report) == ["ok", "duplicate_file"]
    assert "ligne 2" in report.rows[1].errors[0]


def test_the_import_key_is_the_identity_key_scoped_to_the_territory(db, factory, now):
    territory = factory.territory()
    zoe = Identity(birth_name="Lefèvre", first_names="Zoé Marie", birth_date=date(1990, 1, 1))
    same = Identity(birth_name="LEFEVRE", first_names="zoe-marie", birth_date=date(1990, 1, 1))
    assert identity.import_key(territory.id, zoe) == identity.import_key(territory.id, same)
    assert identity.import_key(territory.id + 1, zoe) != identity.import_key(territory.id, zoe)
    data = _csv("Lefèvre;;Zoé Marie;01/01/1990;26190;Bouvante")
    insurer_import.confirm(db, territory, data, "liste.csv", now=now)
    request = db.scalars(select(PatientRequest).where(PatientRequest.territory_id == territory.id)).one()
    assert request.import_key == identity.import_key(territory.id, zoe)
    assert request.identity_key == identity.person_key(zoe)


def test_a_person_imported_then_corrected_by_staff_is_not_imported_again(db, factory, now):
    territory = factory.territory()
    staff = factory.user("staff", territory)
    insurer_import.confirm(db, territory, _csv("Durant;;Paul;03/03/1970;26190;Bouvante"), "a.csv", now=now)
    request = db.scalars(select(PatientRequest).where(PatientRequest.territory_id == territory.id)).one()
    staff_requests.edit(db, request, {"birth_name": "Durand"}, user_id=staff.id, now=now)
    staff_requests.cancel(db, request, reason="unreachable", user_id=staff.id, now=now)
    # the next list still spells the name as the insurer does
    report = insurer_import.preview(db, territory, _csv("DURANT;;Paul;03/03/1970;26190;Bouvante", ""), now=now)
    assert _statuses(report) == ["existing"] and "import précédent" in report.rows[0].errors[0]
