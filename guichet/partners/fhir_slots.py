"""The territory's free SNP slots as a FHIR R4 searchset Bundle (Slot, Schedule, Practitioner).

Shaped after the ANS implementation guide of the Service d'accès aux soins (CPTS consumer):
one Schedule per GP, its actor the Practitioner identified by the national identifier
(IDNPS = "8" + RPPS, OID 1.2.250.1.71.4.2.1), each free Slot pointing to its Schedule.
Plain dictionaries: the tests validate them with a FHIR model library.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from guichet.models import Doctor, Slot, SlotStatus
from guichet.timeutil import as_utc, to_paris

#: OID of the national identifier of health professionals (IDNPS)
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
IDENTIFIER_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
MAX_WINDOW = timedelta(days=31)


def _instant(value: datetime) -> str:
    return to_paris(as_utc(value)).isoformat(timespec="seconds")


def practitioner(doctor: Doctor) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": f"rpps-{doctor.rpps}",
        "identifier": [{
            "use": "official",
            "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "IDNPS"}]},
            "system": IDNPS_SYSTEM,
            "value": f"8{doctor.rpps}",
        }],
        "active": doctor.is_active,
        "name": [{"use": "official", "family": doctor.last_name, "given": [doctor.first_name], "prefix": ["Dr"]}],
    }


def schedule(doctor: Doctor) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "id": f"schedule-{doctor.id}",
        "active": True,
        "actor": [{"reference": f"Practitioner/rpps-{doctor.rpps}", "display": doctor.display_name}],
    }


def slot(row: Slot) -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        "id": f"slot-{row.id}",
        "schedule": {"reference": f"Schedule/schedule-{row.doctor_id}"},
        "status": "free",
        "start": _instant(row.start_dt),
        "end": _instant(row.end_dt),
        "serviceType": [{"text": "Soins non programmés"}],
    }


def free_slots_bundle(db: Session, territory_id: int, *, start: datetime, end: datetime,
                      base_url: str) -> dict[str, Any]:
    """Free slots of the territory's active GPs starting in [start, end), with their GPs."""
    rows = list(db.scalars(
        select(Slot).join(Doctor, Doctor.id == Slot.doctor_id).options(joinedload(Slot.doctor))
        .where(Doctor.territory_id == territory_id, Doctor.is_active.is_(True),
               Slot.status == SlotStatus.FREE, Slot.start_dt >= start, Slot.start_dt < end)
        .order_by(Slot.start_dt, Slot.id)
    ))
    doctors = {row.doctor_id: row.doctor for row in rows}
    base = base_url.rstrip("/") + "/api/v1/fhir"

    def entry(resource: dict[str, Any], mode: str) -> dict[str, Any]:
        return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource,
                "search": {"mode": mode}}

    entries = [entry(slot(row), "match") for row in rows]
    for doctor in doctors.values():
        entries.append(entry(schedule(doctor), "include"))
        entries.append(entry(practitioner(doctor), "include"))
    return {"resourceType": "Bundle", "type": "searchset", "total": len(rows), "entry": entries}
