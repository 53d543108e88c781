"""The national directory (Annuaire Santé, RPPS): load the public extraction, look a GP up.

The file is the "personne activité" extraction (PS_LibreAcces_Personne_activite_*.txt):
UTF-8, one header line, fields separated by "|", one line per activity of a professional.
Only the activities in the served communes are kept, so that registering a GP by RPPS
pre-fills their name, profession and practice address from the national source.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from guichet.models import RppsEntry

#: the columns read, by their name in the extraction's header
ID_TYPE = "Type d'identifiant PP"
ID = "Identifiant PP"
LAST_NAME = "Nom d'exercice"
FIRST_NAME = "Prénom d'exercice"
PROFESSION_CODE = "Code profession"
PROFESSION = "Libellé profession"
SPECIALTY = "Libellé savoir-faire"
PRACTICE_NAME = "Raison sociale site"
STREET_NUMBER = "Numéro Voie (coord. structure)"
STREET_REPEAT = "Indice répétition voie (coord. structure)"
STREET_TYPE = "Libellé type de voie (coord. structure)"
STREET = "Libellé Voie (coord. structure)"
POSTAL_CODE = "Code postal (coord. structure)"
COMMUNE = "Code commune (coord. structure)"
PHONE = "Téléphone (coord. structure)"
REQUIRED = (ID_TYPE, ID, LAST_NAME, FIRST_NAME, PROFESSION_CODE, PROFESSION, STREET, POSTAL_CODE, COMMUNE)
#: "8": the identifier is an RPPS number
RPPS_ID_TYPE = "8"
#: Médecin, in the profession code list of the directory
DOCTOR_PROFESSION = "10"
BATCH = 2000


class DirectoryFileError(ValueError):
    """The file is not the expected extraction (French message)."""


@dataclass
class ImportReport:
    read: int = 0
    kept: int = 0


def _address(row: dict[str, str]) -> str:
    parts = [row.get(STREET_NUMBER, ""), row.get(STREET_REPEAT, ""), row.get(STREET_TYPE, ""), row.get(STREET, "")]
    return " ".join(p.strip() for p in parts if p and p.strip())


def _rows(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(lines, delimiter="|", quoting=csv.QUOTE_NONE)
    header = [name.strip().lstrip("\ufeff") for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise DirectoryFileError("Ce fichier n'est pas l'extraction « personne activité » de l'Annuaire Santé : "
                                 f"colonnes absentes : {', '.join(missing)}.")
    reader.fieldnames = header
    yield from reader


def import_rpps(db: Session, lines: Iterable[str], communes: set[str], *, now: datetime,
                doctors_only: bool = True) -> ImportReport:
    """Replace the directory entries of `communes` by those of the extraction.

    Keeps the RPPS-identified activities located in those communes (the médecins only,
    unless `doctors_only` is False). Raises DirectoryFileError on a file of another shape.
    """
    report = ImportReport()
    db.execute(delete(RppsEntry).where(RppsEntry.commune_insee.in_(sorted(communes))))
    batch: list[dict[str, object]] = []
    for row in _rows(lines):
        report.read += 1
        commune = (row.get(COMMUNE) or "").strip()
        rpps = (row.get(ID) or "").strip()
        if commune not in communes or row.get(ID_TYPE, "").strip() != RPPS_ID_TYPE or len(rpps) != 11:
            continue
        if doctors_only and row.get(PROFESSION_CODE, "").strip() != DOCTOR_PROFESSION:
            continue
        batch.append({
            "rpps": rpps, "last_name": row[LAST_NAME].strip()[:100], "first_name": row[FIRST_NAME].strip()[:100],
            "profession": row[PROFESSION].strip()[:80], "specialty": (row.get(SPECIALTY) or "").strip()[:120],
            "practice_name": (row.get(PRACTICE_NAME) or "").strip()[:150], "practice_address": _address(row)[:250],
            "postal_code": row[POSTAL_CODE].strip()[:5], "commune_insee": commune,
            "phone": (row.get(PHONE) or "").strip()[:20], "imported_dt": now,
        })
        report.kept += 1
        if len(batch) >= BATCH:
            db.execute(insert(RppsEntry), batch)
            batch = []
    if batch:
        db.execute(insert(RppsEntry), batch)
    db.flush()
    return report


def lookup(db: Session, rpps: str, communes: set[str] | None = None) -> RppsEntry | None:
    """The professional's practice in the directory (in `communes` when given), or None."""
    query = select(RppsEntry).where(RppsEntry.rpps == rpps.strip())
    if communes is not None:
        query = query.where(RppsEntry.commune_insee.in_(sorted(communes)))
    return db.scalars(query.order_by(RppsEntry.id)).first()
