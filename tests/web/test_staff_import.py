"""Import of insurer lists: preview report, confirmation, re-import, encodings and separators."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from guichet.models import AuditEvent, ImportBatch, PatientRequest
from tests.factories import login

HEADER = "Nom;Nom d'usage;Prénom(s);Date de naissance;Sexe;Adresse;Code postal;Commune;Téléphone;ALD"
GOOD = [
    "Durand;;Hélène;14/03/1948;F;2 rue du Four;26190;Oriol-en-Royans;06 12 34 56 78;oui",
    "Martin;Petit;Jean;1980-07-01;M;5 place;26190;Bouvante;;non",
    "Lefèvre;;Zoé;01/01/1990;;;26190;la motte fanjas;;",
]


@pytest.fixture
def staff_client(app, client, factory, tmp_path):
    app.instance_path = str(tmp_path)  # uploaded files wait here between preview and confirm
    territory = factory.territory()
    staff = factory.user("staff", territory)
    login(client, staff)
    return client, territory, staff


def upload(client, content: bytes, name: str = "liste.csv"):
    return client.post("/coordination/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def csv_bytes(lines: list[str], encoding: str = "utf-8", sep: str = ";") -> bytes:
    text = "\r\n".join(line.replace(";", sep) for line in lines) + "\r\n"
    return text.encode(encoding)


def _count(db, territory) -> int:
    return db.scalar(select(func.count()).select_from(PatientRequest)
                     .where(PatientRequest.territory_id == territory.id)) or 0


def test_import_page_documents_the_expected_columns(staff_client):
    client, _, _ = staff_client
    html = client.get("/coordination/import").get_data(as_text=True)
    assert "date de naissance" in html and "JJ/MM/AAAA" in html and "code postal" in html


def test_good_file_preview_stores_nothing_then_confirm_creates_requests_to_contact(staff_client, db):
    client, territory, staff = staff_client
    response = upload(client, csv_bytes([HEADER, *GOOD]))
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<span class=\"number\">3</span> patients seront importés" in html
    assert "Import en cours" in html
    assert _count(db, territory) == 0
    sha = response.headers["Location"].rsplit("/", 1)[1]
    seen = db.scalar(select(AuditEvent).where(AuditEvent.action == "import.preview", AuditEvent.user_id == staff.id))
    assert seen.detail == {"request_ids": [], "file_sha256": sha, "rows": 3}
    confirm = client.post(f"/coordination/import/{sha}/confirmer", data={"sha256": sha})
    assert confirm.status_code == 302 and confirm.headers["Location"].endswith("/coordination/a-appeler")
    requests = db.scalars(select(PatientRequest).where(PatientRequest.territory_id == territory.id)
                          .order_by(PatientRequest.reference)).all()
    assert len(requests) == 3
    assert {r.status for r in requests} == {"to_contact"} and {r.channel for r in requests} == {"import"}
    assert all(not r.is_consented and r.import_key and r.import_batch_id for r in requests)
    durand = next(r for r in requests if r.patient.birth_name == "Durand")
    assert durand.patient.phone == "+33612345678" and durand.patient.is_ald
    assert durand.patient.commune_insee == "26223" and durand.patient.birth_date.isoformat() == "1948-03-14"
    assert {"ald", "age_70"} <= set(durand.priority_breakdown)
    assert len({r.reference for r in requests}) == 3 and durand.events[0].kind == "created"
    batch = db.scalars(select(ImportBatch).where(ImportBatch.territory_id == territory.id)).one()
    assert (batch.n_rows, batch.n_imported, batch.n_skipped, batch.user_id) == (3, 3, 0, staff.id)
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "import.confirm")).one()
    assert audit.detail == {"rows": 3, "imported": 3, "skipped": 0}
    listing = client.get("/coordination/a-appeler").get_data(as_text=True)
    assert "DURAND Hélène" in listing and "<strong>3</strong> patients" in listing


def test_file_with_errors_gets_a_row_by_row_french_report(staff_client, db, factory):
    client, territory, _ = staff_client
    existing = factory.request(factory.patient(territory, birth_name="Déjà", first_names="Là",
                                               birth_date=__import__("datetime").date(1960, 2, 2)))
    lines = [
        HEADER,
        GOOD[0],
        ";;Paul;01/01/1970;;;26190;Bouvante;;",            # 3: no name
        "Nom2;;Paul;31/02/1970;;;26190;Bouvante;;",       # 4: impossible date
        "Nom3;;Paul;01/01/1970;;;99999;;;",                # 5: unknown postal code
        "Nom4;;Paul;01/01/1970;;;26190;;;",                # 6: several communes
        "Nom5;;Paul;01/01/1970;;;26190;Léoncel;;",         # 7: outside the territory
        "Nom6;;Paul;01/01/1970;;;26190;Bouvante;123;",     # 8: bad phone
        "DURAND;;helene;1948-03-14;;;26190;Oriol-en-Royans;;",  # 9: same person as line 2
        "deja;;la;02/02/1960;;;26190;Bouvante;;",          # 10: has an open request
        "Nom7;;Paul;01/01/1970;Z;;26190;Bouvante;;peut-être",  # 11: sex and ALD
    ]
    response = upload(client, csv_bytes(lines))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<span class=\"number\">1</span> patients seront importés" in html
    assert "<span class=\"number\">7</span> lignes en erreur" in html
    assert "<span class=\"number\">2</span> doublons" in html
    for message in ("Indiquez le nom de naissance.", "31/02/1970 » invalide", "Code postal 99999 inconnu",
                    "couvre plusieurs communes", "hors du territoire",
                    "Ce numéro de téléphone n&#39;existe pas",
                    "même personne qu&#39;à la ligne 2", f"doublon de la demande en cours {existing.reference}",
                    "sexe « Z » inconnu", "ALD « peut-être »"):
        assert message.lower() in html.lower(), message
    assert _count(db, territory) == 1


def test_reimporting_creates_nothing_twice(staff_client, db):
    client, territory, _ = staff_client
    data = csv_bytes([HEADER, *GOOD])
    sha = upload(client, data).headers["Location"].rsplit("/", 1)[1]
    client.post(f"/coordination/import/{sha}/confirmer", data={"sha256": sha})
    assert _count(db, territory) == 3
    # the very same file: refused with a message
    sha = upload(client, data).headers["Location"].rsplit("/", 1)[1]
    html = client.get(f"/coordination/import/{sha}").get_data(as_text=True)
    assert "Déjà importée lors d&#39;un import précédent" in html
    response = client.post(f"/coordination/import/{sha}/confirmer", data={"sha256": sha}, follow_redirects=True)
    assert "déjà été importé" in response.get_data(as_text=True)
    # a new list with the same people plus one: only the new one is created
    data2 = csv_bytes([HEADER, *GOOD, "Nouveau;;Léa;03/03/1985;;;26190;Bouvante;;"])
    sha2 = upload(client, data2).headers["Location"].rsplit("/", 1)[1]
    client.post(f"/coordination/import/{sha2}/confirmer", data={"sha256": sha2})
    assert _count(db, territory) == 4
    batch = db.scalars(select(ImportBatch).where(ImportBatch.file_sha256 == sha2)).one()
    assert (batch.n_imported, batch.n_skipped) == (1, 3)


@pytest.mark.parametrize("encoding,sep", [("utf-8-sig", ";"), ("cp1252", ";"), ("utf-8", ","),
                                          ("latin-1", ",")])
def test_windows_encoding_bom_and_comma_separator_are_understood(staff_client, db, encoding, sep):
    client, territory, _ = staff_client
    lines = [HEADER.upper().replace("É", "E"), *GOOD]
    response = upload(client, csv_bytes(lines, encoding=encoding, sep=sep))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<span class=\"number\">3</span> patients seront importés" in html
    sha = response.headers["Location"].rsplit("/", 1)[1]
    client.post(f"/coordination/import/{sha}/confirmer", data={"sha256": sha})
    names = set(db.scalars(select(PatientRequest).where(PatientRequest.territory_id == territory.id)))
    assert {r.patient.first_names for r in names} == {"Hélène", "Jean", "Zoé"}


def test_unreadable_files_are_refused_with_a_french_message(staff_client, db):
    client, territory, _ = staff_client
    cases = [
        (b"", "Le fichier est vide"),
        (b"PK\x03\x04\x00\x00binary", "pas un fichier texte CSV"),
        (csv_bytes(["Nom Prenom Naissance", "a b c"]), "pas séparées"),
        (csv_bytes(["Nom;Prénom;Ville", "a;b;c"]), "Colonnes obligatoires absentes : date de naissance, code postal"),
    ]
    for content, message in cases:
        response = upload(client, content)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True)
    assert _count(db, territory) == 0


def test_another_territory_cannot_open_or_confirm_a_stored_file(staff_client, app, factory, db):
    client, territory, _ = staff_client
    sha = upload(client, csv_bytes([HEADER, *GOOD])).headers["Location"].rsplit("/", 1)[1]
    other = app.test_client()
    login(other, factory.user("staff"))
    assert other.get(f"/coordination/import/{sha}").status_code == 404
    assert other.post(f"/coordination/import/{sha}/confirmer", data={"sha256": sha}).status_code == 404
    assert other.get("/coordination/import/../../etc").status_code == 404
    assert _count(db, territory) == 0
