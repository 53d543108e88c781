"""Reference geography: load the communes, look them up, create territories."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import fmean
from typing import cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from guichet.models import Commune, CommunePostalCode, Territory

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
COMMUNES_CSV = DATA_DIR / "communes-fr-2024.csv"
TERRITORIES_JSON = DATA_DIR / "cpts-territoires.json"


class UnknownCommune(LookupError):
    """An INSEE code or postal code that the reference data does not know."""


class UnknownTerritory(LookupError):
    """No territory by that name or slug."""


@dataclass(frozen=True)
class CommuneChoice:
    """One answer of a postal-code look-up: what to show and which commune it means."""

    insee: str
    label: str


def load_communes(db: Session, path: Path = COMMUNES_CSV) -> int:
    """Load (or reload) the communes and their postal codes; return the number of communes.

    Communes déléguées become extra names in the postal-code look-up pointing to their
    commune. The few communes without a point get the centroid of the communes that
    share their postal code, flagged as approximate.
    """
    communes: dict[str, dict[str, object]] = {}
    labels: set[tuple[str, str, str]] = set()
    by_postal: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["type"] in ("COM", "ARM"):
            insee = row["insee"]
            if insee not in communes:
                communes[insee] = {
                    "insee": insee,
                    "name": row["nom"],
                    "departement": row["departement"],
                    "region": row["region"],
                    "kind": row["type"],
                    "lat": float(row["lat"]) if row["lat"] else None,
                    "lon": float(row["lon"]) if row["lon"] else None,
                    "is_position_approximate": False,
                    "population": int(row["population_2021"] or 0),
                    "area_km2": float(row["superficie_km2"] or 0),
                }
            labels.add((row["code_postal"], insee, row["nom"]))
            by_postal[row["code_postal"]].append(insee)
    for row in rows:
        if row["type"] == "COMD" and row["insee_parente"] in communes:
            parent = communes[row["insee_parente"]]
            if row["nom"] != parent["name"]:
                label = f"{row['nom']} ({parent['name']})"
                labels.add((row["code_postal"], row["insee_parente"], label))
    for commune in communes.values():
        if commune["lat"] is None:
            neighbours = [
                communes[i]
                for pc, ins, _ in labels
                if ins == commune["insee"]
                for i in by_postal[pc]
                if communes[i]["lat"] is not None
            ]
            if neighbours:
                commune["lat"] = fmean(cast(float, n["lat"]) for n in neighbours)
                commune["lon"] = fmean(cast(float, n["lon"]) for n in neighbours)
                commune["is_position_approximate"] = True
    existing = set(db.scalars(select(Commune.insee)))
    new_rows = [c for i, c in communes.items() if i not in existing]
    if new_rows:
        db.execute(insert(Commune), new_rows)
    db.execute(delete(CommunePostalCode))
    db.execute(
        insert(CommunePostalCode),
        [{"postal_code": p, "commune_insee": i, "label": lab} for p, i, lab in sorted(labels)],
    )
    db.flush()
    return len(communes)


def communes_loaded(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Commune)) or 0


def get_commune(db: Session, insee: str) -> Commune:
    """Return the commune with this INSEE code or raise UnknownCommune."""
    commune = db.get(Commune, insee.strip().upper())
    if commune is None:
        raise UnknownCommune(f"Commune inconnue : code INSEE « {insee} ».")
    return commune


POSTAL_CODE_RE = re.compile(r"^\d{5}$")


def communes_for_postal_code(db: Session, postal_code: str) -> list[CommuneChoice]:
    """The communes (and communes déléguées) served by a postal code, sorted by label.

    Raises UnknownCommune when the code is malformed or unknown.
    """
    code = postal_code.replace(" ", "")
    if not POSTAL_CODE_RE.match(code):
        raise UnknownCommune("Le code postal comporte 5 chiffres, par exemple 26190.")
    rows = db.execute(
        select(CommunePostalCode.commune_insee, CommunePostalCode.label)
        .where(CommunePostalCode.postal_code == code)
        .order_by(CommunePostalCode.label)
    ).all()
    if not rows:
        raise UnknownCommune(f"Le code postal {code} ne correspond à aucune commune.")
    return [CommuneChoice(insee=i, label=lab) for i, lab in rows]


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def create_territory(
    db: Session, name: str, insee_codes: Sequence[str], *, now: datetime,
    departement: str | None = None,
) -> Territory:
    """Create a territory, or update the communes of the one with that name.

    Raises UnknownCommune naming every code the reference data lacks.
    """
    codes = [c.strip().upper() for c in insee_codes if c.strip()]
    if not codes:
        raise UnknownCommune("Un territoire doit compter au moins une commune.")
    found = {c.insee: c for c in db.scalars(select(Commune).where(Commune.insee.in_(codes)))}
    missing = [c for c in codes if c not in found]
    if missing:
        raise UnknownCommune(f"Communes inconnues (codes INSEE) : {', '.join(missing)}.")
    territory = db.scalar(select(Territory).where(Territory.name == name))
    if territory is None:
        territory = Territory(name=name, slug=slugify(name), departement=departement, created_dt=now)
        db.add(territory)
    territory.communes = [found[c] for c in dict.fromkeys(codes)]
    db.flush()
    return territory


def reference_territories() -> list[dict[str, object]]:
    with TERRITORIES_JSON.open(encoding="utf-8") as fh:
        data: list[dict[str, object]] = json.load(fh)
    return data


def create_reference_territory(db: Session, name: str, *, now: datetime) -> Territory:
    """Create one of the CPTS listed in data/cpts-territoires.json by its name."""
    for entry in reference_territories():
        if entry["nom"] == name or slugify(str(entry["nom"])) == name:
            codes = entry["communes"]
            assert isinstance(codes, list)
            return create_territory(
                db, str(entry["nom"]), codes, now=now, departement=str(entry["departement"])
            )
    raise UnknownTerritory(f"Aucun territoire de référence ne s'appelle « {name} ».")


def find_territory(db: Session, key: str) -> Territory:
    """Find a territory by slug, name or id; raise UnknownTerritory."""
    stmt = select(Territory).where((Territory.slug == key) | (Territory.name == key))
    territory = db.scalar(stmt)
    if territory is None and key.isdigit():
        territory = db.get(Territory, int(key))
    if territory is None:
        raise UnknownTerritory(f"Territoire inconnu : « {key} ».")
    return territory


def territory_for_commune(db: Session, insee: str) -> Territory | None:
    """The territory serving a commune, or None when no CPTS here serves it."""
    from guichet.models import territory_communes

    return db.scalar(
        select(Territory)
        .join(territory_communes, territory_communes.c.territory_id == Territory.id)
        .where(territory_communes.c.commune_insee == insee)
        .order_by(Territory.id)
    )


def territory_insee_codes(territory: Territory) -> Iterable[str]:
    return (c.insee for c in territory.communes)
