"""Test data builders: small, explicit, with sensible defaults (indico-style callables)."""

from __future__ import annotations

import functools
import itertools
from datetime import date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from guichet.accounts import users
from guichet.identifiers import rpps_with_key
from guichet.models import (
    CapacityDeclaration,
    Doctor,
    Partner,
    Patient,
    PatientRequest,
    Slot,
    Territory,
    User,
)
from guichet.requests.records import create_request
from guichet.territories import geo

PASSWORD = "Correct-Horse-42!"
_counter = itertools.count(1)


@functools.cache
def _usual_hash() -> str:
    return users.hash_password(PASSWORD)


class Factory:
    def __init__(self, db: Session, now: datetime) -> None:
        self.db = db
        self.now = now

    def territory(self, name: str | None = None, insee: tuple[str, ...] = ("26059", "26117", "26217", "26223")) -> Territory:
        n = next(_counter)
        return geo.create_territory(self.db, name or f"CPTS Test {n}", insee, now=self.now)

    def royans(self) -> Territory:
        return geo.create_reference_territory(self.db, "CPTS Royans-Vercors", now=self.now)

    def tarentaise(self) -> Territory:
        return geo.create_reference_territory(self.db, "CPTS Haute-Tarentaise", now=self.now)

    def user(self, role: str = "staff", territory: Territory | None = None,
             doctor: Doctor | None = None, email: str | None = None,
             password: str = PASSWORD, partner: Partner | None = None) -> User:
        n = next(_counter)
        if role in ("staff", "admin") and territory is None:
            territory = self.territory()
        if role == "doctor" and doctor is None:
            doctor = self.doctor(territory=territory)
        if role == "partner" and partner is None:
            partner = self.partner(territory=territory)
        # argon2 is slow on purpose: the usual test password is hashed once per worker
        secret = {"password_hash": _usual_hash()} if password == PASSWORD else {"password": password}
        return users.create_user(
            self.db, email=email or f"{role}{n}@exemple.fr", full_name=f"Utilisateur {n}",
            role=role, now=self.now, **secret,
            territory_id=territory.id if territory and role != "doctor" else None,
            doctor_id=doctor.id if doctor else None, partner_id=partner.id if partner else None,
        )

    def partner(self, territory: Territory | None = None, kind: str = "hospital", name: str | None = None) -> Partner:
        territory = territory or self.territory()
        partner = Partner(territory=territory, name=name or f"Centre hospitalier {next(_counter)}", kind=kind,
                          created_dt=self.now)
        self.db.add(partner)
        self.db.flush()
        return partner

    def doctor(self, territory: Territory | None = None, commune: str = "26223",
               **fields: Any) -> Doctor:
        territory = territory or self.territory()
        n = next(_counter)
        c = geo.get_commune(self.db, commune)
        values: dict[str, Any] = dict(
            rpps=rpps_with_key(f"10{n:08d}"), first_name="Jeanne", last_name=f"Médecin{n}",
            email=f"dr{n}@exemple.fr", practice_address="1 place de la Mairie", commune=c,
            lat=c.lat, lon=c.lon, territory=territory, created_dt=self.now,
        )
        values.update(fields)
        doctor = Doctor(**values)
        self.db.add(doctor)
        self.db.flush()
        return doctor

    def declaration(self, doctor: Doctor, new_patients: int = 5, **fields: Any) -> CapacityDeclaration:
        values: dict[str, Any] = dict(doctor=doctor, new_patients=new_patients, max_km=20,
                                      declared_dt=self.now - timedelta(days=1),
                                      valid_until=self.now.date() + timedelta(days=90))
        values.update(fields)
        decl = CapacityDeclaration(**values)
        self.db.add(decl)
        self.db.flush()
        return decl

    def slot(self, doctor: Doctor, start: datetime | None = None, minutes: int = 20, **fields: Any) -> Slot:
        start = start or self.now + timedelta(hours=3)
        slot = Slot(doctor=doctor, start_dt=start, end_dt=start + timedelta(minutes=minutes),
                    created_dt=self.now, **fields)
        self.db.add(slot)
        self.db.flush()
        return slot

    def patient(self, territory: Territory | None = None, commune: str = "26223",
                **fields: Any) -> Patient:
        territory = territory or self.territory()
        n = next(_counter)
        values: dict[str, Any] = dict(
            territory=territory, birth_name=f"Dupont{n}", first_names="Marie",
            birth_date=date(1950, 3, 14), sex="F", phone="+33612345678",
            email=f"patient{n}@exemple.fr", address="3 rue des Écoles", postal_code="26190",
            commune_insee=commune, created_dt=self.now,
        )
        values.update(fields)
        patient = Patient(**values)
        self.db.add(patient)
        self.db.flush()
        return patient

    def request(self, patient: Patient | None = None, kind: str = "mt", status: str = "waiting",
                channel: str = "web", waited_days: int = 10, **fields: Any) -> PatientRequest:
        patient = patient or self.patient()
        return create_request(
            self.db, patient, kind=kind, channel=channel, status=status, now=self.now,
            submitted_dt=self.now - timedelta(days=waited_days), is_consented=True, **fields,
        )


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    """Sign in through the real login form."""
    response = client.post("/connexion", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
