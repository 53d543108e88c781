"""Import of the Assurance Maladie's lists of patients without médecin traitant.

`preview()` reads a CSV and reports, row by row and in French, what would be imported;
it stores nothing. `confirm()` imports the valid rows in one transaction: each becomes an
MT request in status `to_contact` (the patient has not asked anything yet). Who is the same
person is decided by guichet/requests/identity.py, as for every other channel: a row is
left out when it names the same person as an earlier row, as an open request, or as a
person imported before (`import_key`, unique per territory).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from guichet.accounts import audit
from guichet.assignment.priority import Situation, compute_priority
from guichet.models import (
    CommunePostalCode,
    ImportBatch,
    Patient,
    PatientRequest,
    RequestEvent,
    Territory,
    territory_communes,
)
from guichet.requests import identity, records, validation
from guichet.requests.records import new_tracking_token
from guichet.territories import settings as territory_settings
from guichet.timeutil import paris_today, parse_date, to_paris
from guichet.workflow import FINAL_REQUEST_STATUSES

MAX_ROWS = 20_000

#: expected columns: key → (label shown on the page, accepted header spellings, required)
COLUMNS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "birth_name": ("nom", ("nom", "nom de naissance", "nom patronymique"), True),
    "usage_name": ("nom d'usage", ("nom d'usage", "nom usage", "nom marital"), False),
    "first_names": ("prénom(s)", ("prenom", "prenoms", "prenom(s)"), True),
    "birth_date": ("date de naissance", ("date de naissance", "naissance", "date naissance"), True),
    "sex": ("sexe", ("sexe",), False),
    "address": ("adresse", ("adresse", "adresse postale"), False),
    "postal_code": ("code postal", ("code postal", "cp"), True),
    "commune": ("commune", ("commune", "ville"), False),
    "insee": ("code INSEE", ("code insee", "insee", "code commune"), False),
    "phone": ("téléphone", ("telephone", "tel", "tel.", "portable"), False),
    "ald": ("ALD", ("ald",), False),
}

YES = {"oui", "o", "1", "vrai", "x", "y", "yes"}
NO = {"non", "n", "0", "faux", "", "no"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, separator, columns); French message."""


class AlreadyImported(ValueError):
    """The very same file was already imported for this territory."""


def normalise_text(text: str) -> str:
    """Lower case, no accents, single spaces: for headers, commune names and yes/no cells.

    Names of people are compared by guichet/requests/identity.py, never with this.
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-']+", " ", text.lower()).strip()


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 — what spreadsheets write in France.

    Raises ImportFileError for a binary or empty file.
    """
    if not data.strip():
        raise ImportFileError("Le fichier est vide.")
    if b"\x00" in data[:4096]:
        raise ImportFileError(
            "Ce fichier n'est pas un fichier texte CSV (un classeur Excel ?). Enregistrez-le "
            "au format « CSV (séparateur : point-virgule) » puis réessayez."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise ImportFileError(
            "Les colonnes ne sont pas séparées par des points-virgules ou des virgules : "
            "enregistrez le fichier au format CSV."
        )
    return best


def _map_headers(headers: list[str]) -> dict[str, int]:
    wanted = {normalise_text(alias): key for key, (_, aliases, _) in COLUMNS.items() for alias in aliases}
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = wanted.get(normalise_text(header))
        if key and key not in mapping:
            mapping[key] = index
    missing = [COLUMNS[k][0] for k, (_, _, required) in COLUMNS.items() if required and k not in mapping]
    if missing:
        raise ImportFileError(
            "Colonnes obligatoires absentes : " + ", ".join(missing)
            + ". Vérifiez la première ligne du fichier (les noms de colonnes)."
        )
    return mapping


@dataclass
class Row:
    """One line of the file and what the import makes of it."""

    line: int
    display: str
    errors: list[str] = field(default_factory=list)
    #: "ok", "error", "duplicate_file", "existing"
    status: str = "ok"
    values: dict[str, object] = field(default_factory=dict)
    #: who the row names, once it is valid
    person: identity.Identity | None = None
    import_key: str = ""


@dataclass
class Preview:
    """The validation report of a file."""

    sha256: str
    rows: list[Row]
    delimiter: str
    encoding_note: str

    @property
    def n_ok(self) -> int:
        return sum(1 for r in self.rows if r.status == "ok")

    @property
    def n_errors(self) -> int:
        return sum(1 for r in self.rows if r.status == "error")

    @property
    def n_duplicates(self) -> int:
        return sum(1 for r in self.rows if r.status in ("duplicate_file", "existing"))

    @property
    def problems(self) -> list[Row]:
        return [r for r in self.rows if r.status != "ok"]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Communes:
    """Postal-code and territory look-ups, cached for the whole file."""

    def __init__(self, db: Session, territory_id: int) -> None:
        self.db = db
        self.by_postal: dict[str, list[tuple[str, str]]] = {}
        self.in_territory = set(db.scalars(
            select(territory_communes.c.commune_insee).where(territory_communes.c.territory_id == territory_id)
        ))

    def for_postal(self, code: str) -> list[tuple[str, str]]:
        """(INSEE code, normalised label) of the communes served by a postal code."""
        if code not in self.by_postal:
            self.by_postal[code] = [
                (i, normalise_text(lab)) for i, lab in self.db.execute(
                    select(CommunePostalCode.commune_insee, CommunePostalCode.label)
                    .where(CommunePostalCode.postal_code == code)
                ).all()
            ]
        return self.by_postal[code]


#: the file's spellings of the person's sex
SEXES = {"f": "F", "femme": "F", "m": "M", "h": "M", "homme": "M", "x": "X", "autre": "X", "": None}


def _validate_row(row: Row, cells: dict[str, str], communes: _Communes, territory_id: int,
                  today: date) -> None:
    """Check one line with the person validator every channel uses, plus what only a file needs.

    Messages are sentences, joined on the report page; those of the file's own spellings
    (dates, sex, communes, ALD) quote the cell as the file has it.
    """
    person: dict[str, object] = {
        "birth_name": cells.get("birth_name", ""), "usage_name": cells.get("usage_name", ""),
        "first_names": cells.get("first_names", ""), "phone": cells.get("phone", ""),
    }
    parsing: dict[str, str] = {}
    raw_date = cells.get("birth_date", "").strip()
    birth_date: date | None = None
    try:
        birth_date = parse_date(raw_date) if raw_date else None
    except ValueError:
        parsing["birth_date"] = (f"Date de naissance « {raw_date} » invalide : écrivez-la JJ/MM/AAAA "
                                 "ou AAAA-MM-JJ.")
    else:
        person["birth_date"] = birth_date
    sex = SEXES.get(normalise_text(cells.get("sex", "")), "?")
    if sex == "?":
        parsing["sex"] = f"Sexe « {cells.get('sex', '')} » inconnu : F, M, X ou vide."
    else:
        person["sex"] = sex
    clean, found = validation.check_person(person, today=today, rules=validation.IMPORT)
    found.update(parsing)
    errors = row.errors
    errors.extend(found[k] for k in ("birth_name", "first_names", "birth_date", "sex") if k in found)
    postal = cells.get("postal_code", "").replace(" ", "")
    if len(postal) == 4 and postal.isdigit():
        postal = "0" + postal  # a spreadsheet dropped the leading zero
    insee: str | None = None
    if not postal:
        errors.append("Code postal manquant.")
    elif not re.match(r"^\d{5}$", postal):
        errors.append(f"Code postal « {postal} » invalide : 5 chiffres attendus.")
    else:
        choices = communes.for_postal(postal)
        codes = {i for i, _ in choices}
        wanted_insee = cells.get("insee", "").strip().upper()
        wanted_name = normalise_text(cells.get("commune", ""))
        if not choices:
            errors.append(f"Code postal {postal} inconnu.")
        elif wanted_insee:
            if wanted_insee in codes:
                insee = wanted_insee
            else:
                errors.append(f"Le code INSEE {wanted_insee} ne correspond pas au code postal {postal}.")
        elif wanted_name:
            found_insee = {i for i, lab in choices if lab == wanted_name or lab.startswith(wanted_name + " (")}
            if len(found_insee) == 1:
                insee = found_insee.pop()
            else:
                errors.append(f"Commune « {cells.get('commune', '')} » inconnue pour le code postal {postal}.")
        elif len(codes) == 1:
            insee = next(iter(codes))
        else:
            errors.append(f"Le code postal {postal} couvre plusieurs communes : indiquez la commune.")
        if insee and insee not in communes.in_territory:
            errors.append("Commune hors du territoire de la CPTS.")
    if "phone" in found:
        errors.append(found["phone"])
    ald_raw = normalise_text(cells.get("ald", ""))
    if ald_raw not in YES | NO:
        errors.append(f"ALD « {cells.get('ald', '')} » : répondez oui ou non.")
    if errors:
        row.status = "error"
        return
    assert birth_date is not None
    # the columns' sizes: a longer cell is cut rather than the row refused
    birth_name, first_names = clean["birth_name"][:100], clean["first_names"][:150]
    usage_name = clean["usage_name"][:100] if clean["usage_name"] else None
    address = validation.clean_text(cells.get("address"))
    row.values = {
        "birth_name": birth_name, "usage_name": usage_name, "first_names": first_names,
        "birth_date": birth_date, "sex": sex, "address": address[:250] if address else None,
        "postal_code": postal, "commune_insee": insee, "phone": clean["phone"], "is_ald": ald_raw in YES,
    }
    row.person = identity.Identity(birth_name=birth_name, usage_name=usage_name,
                                   first_names=first_names, birth_date=birth_date)
    row.import_key = identity.import_key(territory_id, row.person) or ""


def _imported_before(db: Session, territory_id: int, rows: list[Row]) -> set[str]:
    """The rows' import keys already used by an earlier import of this territory."""
    keys = [r.import_key for r in rows if r.import_key]
    used: set[str] = set()
    for start in range(0, len(keys), 900):
        chunk = keys[start:start + 900]
        used |= set(db.scalars(select(PatientRequest.import_key).where(
            PatientRequest.territory_id == territory_id, PatientRequest.import_key.in_(chunk))))
    return used


def _open_requests(db: Session, territory_id: int,
                   rows: list[Row]) -> dict[date | None, list[tuple[identity.Identity, str]]]:
    """Who holds an open MT request here among people born on the rows' birth dates, with its reference."""
    dates = sorted({r.person.birth_date for r in rows if r.person and r.person.birth_date})
    found: dict[date | None, list[tuple[identity.Identity, str]]] = defaultdict(list)
    for start in range(0, len(dates), 900):
        chunk = dates[start:start + 900]
        for birth_name, usage_name, first_names, birth_date, reference in db.execute(
            select(Patient.birth_name, Patient.usage_name, Patient.first_names, Patient.birth_date,
                   PatientRequest.reference)
            .join(PatientRequest, Patient.id == PatientRequest.patient_id)
            .where(PatientRequest.territory_id == territory_id, PatientRequest.kind == "mt",
                   PatientRequest.status.not_in(list(FINAL_REQUEST_STATUSES)),
                   Patient.birth_date.in_(chunk))
        ):
            person = identity.Identity(birth_name=birth_name, usage_name=usage_name,
                                       first_names=first_names, birth_date=birth_date)
            found[birth_date].append((person, reference))
    return found


def preview(db: Session, territory: Territory, data: bytes, *, now: datetime) -> Preview:
    """Read and check the file without storing anything.

    Raises ImportFileError when the file as a whole cannot be read.
    """
    text = decode(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration as exc:
        raise ImportFileError("Le fichier est vide.") from exc
    mapping = _map_headers(headers)
    communes = _Communes(db, territory.id)
    today = paris_today(now)
    rows: list[Row] = []
    #: valid rows so far, by birth date: a later row naming the same person is left out
    seen: dict[date | None, list[Row]] = defaultdict(list)
    try:
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"Le fichier dépasse {MAX_ROWS} lignes : découpez-le en plusieurs fichiers.")
            cells = {key: (raw[i] if i < len(raw) else "") for key, i in mapping.items()}
            display = f"{cells.get('birth_name', '').strip().upper()} {cells.get('first_names', '').strip()}".strip()
            row = Row(line=reader.line_num, display=display or "(sans nom)")
            _validate_row(row, cells, communes, territory.id, today)
            if row.status == "ok" and row.person is not None:
                earlier = _first_same_person(row.person, seen[row.person.birth_date])
                if earlier is not None:
                    row.status = "duplicate_file"
                    row.errors.append(f"Même personne qu'à la ligne {earlier.line}.")
                else:
                    seen[row.person.birth_date].append(row)
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"Le fichier CSV est mal formé : {exc}.") from exc
    valid = [r for r in rows if r.status == "ok"]
    used = _imported_before(db, territory.id, valid)
    open_requests = _open_requests(db, territory.id, valid)
    for row in valid:
        assert row.person is not None
        if row.import_key in used:
            row.status = "existing"
            row.errors.append("Déjà importée lors d'un import précédent.")
            continue
        for person, reference in open_requests.get(row.person.birth_date, []):
            if identity.same_person(person, row.person):
                row.status = "existing"
                row.errors.append(f"Doublon de la demande en cours {reference}.")
                break
    note = "UTF-8" if _is_utf8(data) else "Windows-1252 (Excel)"
    return Preview(sha256=file_sha256(data), rows=rows, delimiter=delimiter, encoding_note=note)


def _first_same_person(person: identity.Identity, rows: list[Row]) -> Row | None:
    return next((r for r in rows if r.person is not None and identity.same_person(r.person, person)), None)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def confirm(db: Session, territory: Territory, data: bytes, filename: str, *, now: datetime,
            user_id: int | None = None) -> ImportBatch:
    """Import the valid, new rows of the file in bulk; return the batch with its counts.

    Rows with errors or already present are skipped (counted). Raises AlreadyImported when
    this exact file was imported before, ImportFileError when it cannot be read.
    """
    sha = file_sha256(data)
    previous = db.scalar(select(ImportBatch).where(ImportBatch.territory_id == territory.id,
                                                   ImportBatch.file_sha256 == sha))
    if previous is not None:
        raise AlreadyImported(
            f"Ce fichier a déjà été importé le {to_paris(previous.created_dt):%d/%m/%Y à %H h %M} "
            f"({previous.n_imported} patients) : rien n'a été ajouté."
        )
    report = preview(db, territory, data, now=now)
    good = [r for r in report.rows if r.status == "ok"]
    batch = ImportBatch(territory_id=territory.id, user_id=user_id, filename=filename[:200],
                        file_sha256=sha, n_rows=len(report.rows), n_imported=len(good),
                        n_skipped=len(report.rows) - len(good), created_dt=now)
    db.add(batch)
    db.flush()
    _bulk_create(db, territory, good, batch, now=now, user_id=user_id)
    audit.record(db, "import.confirm", now=now, user_id=user_id, object_type="import_batch",
                 object_id=batch.id, territory_id=territory.id, rows=batch.n_rows,
                 imported=batch.n_imported, skipped=batch.n_skipped)
    db.flush()
    return batch


def _bulk_create(db: Session, territory: Territory, rows: Iterable[Row], batch: ImportBatch, *,
                 now: datetime, user_id: int | None) -> None:
    # Core bulk inserts: one round trip per table and chunk, not one per patient.
    rows = list(rows)
    if not rows:
        return
    km = int(territory_settings.setting(territory, "default_patient_km"))
    patient_values = [
        {**r.values, "territory_id": territory.id, "contact_preference": "phone" if r.values["phone"] else "letter",
         "filled_by": "self", "max_km": km, "languages": [], "created_dt": now, "is_css": False,
         "is_pregnant": False, "is_disabled": False, "needs_home_visit": False, "needs_step_free": False,
         # core inserts skip the ORM event: the folded search names are set here
         "search_name": identity.search_text(r.values.get("birth_name"), r.values.get("usage_name"),  # type: ignore[arg-type]
                                             r.values.get("first_names")) or None}  # type: ignore[arg-type]
        for r in rows
    ]
    patient_ids = _allocate_ids(db, _table(Patient), len(patient_values))
    for values, pid in zip(patient_values, patient_ids, strict=True):
        values["id"] = pid
    _insert_many(db, _table(Patient), patient_values)
    references = records.new_references(db, "mt", now, len(rows))
    request_values = []
    for i, (row, pid) in enumerate(zip(rows, patient_ids, strict=True)):
        situation = Situation(birth_date=row.values["birth_date"],  # type: ignore[arg-type]
                              is_ald=bool(row.values["is_ald"]))
        score, breakdown = compute_priority(situation, now, now=now, settings=territory.settings)
        request_values.append({
            "reference": references[i], "tracking_token": new_tracking_token(),
            "kind": "mt", "channel": "import", "status": "to_contact", "territory_id": territory.id,
            "patient_id": pid, "priority_score": score, "priority_breakdown": breakdown,
            "children_birth_dates": [], "snp_availability": [], "is_consented": False,
            "submitted_dt": now, "waiting_since_dt": now, "status_changed_dt": now,
            "import_key": row.import_key, "import_batch_id": batch.id,
            "identity_key": identity.person_key(row.person) if row.person else None,
        })
    request_ids = _allocate_ids(db, _table(PatientRequest), len(request_values))
    for values, rid in zip(request_values, request_ids, strict=True):
        values["id"] = rid
    _insert_many(db, _table(PatientRequest), request_values)
    events = [{"request_id": rid, "at_dt": now, "actor": "staff", "user_id": user_id, "kind": "created",
               "to_status": "to_contact", "reason": "import"} for rid in request_ids]
    _insert_many(db, _table(RequestEvent), events)


def _table(model: type[Any]) -> Table:
    """The model's table (typed: DeclarativeBase declares __table__ as a FromClause)."""
    return cast(Table, model.__table__)


def _allocate_ids(db: Session, table: Table, n: int) -> list[int]:
    """Reserve n primary keys, so that rows can be inserted with a plain executemany.

    An INSERT … RETURNING of thousands of rows costs seconds on PostgreSQL (the driver
    rewrites one huge statement); executemany of a small prepared statement does not.
    On SQLite the import's transaction already holds the write lock (the batch row was
    flushed), so MAX(id) cannot move under us.
    """
    if db.get_bind().dialect.name == "postgresql":
        return list(db.scalars(
            select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
            .select_from(func.generate_series(1, n))
        ))
    start = (db.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + n))


def _insert_many(db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        db.execute(insert(table), rows[start:start + 1000])
