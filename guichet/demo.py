"""The demo territory: CPTS Royans-Vercors with fictitious GPs and patients."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import users
from guichet.assignment.priority import is_reason
from guichet.doctors import slot_patterns
from guichet.identifiers import rpps_with_key
from guichet.models import (
    CapacityDeclaration,
    Commune,
    Doctor,
    PairExclusion,
    Patient,
    Proposal,
    Role,
    Slot,
    Territory,
)
from guichet.partners import organisations
from guichet.requests.records import create_request
from guichet.territories import geo
from guichet.timeutil import PARIS, paris_today
from guichet.workflow import DECLINE_REASONS, change_request_status

DEMO_TERRITORY = "CPTS Royans-Vercors"
DEMO_PASSWORD = "Demo-Guichet-2026!"  # noqa: S105 (printed demo login)
STAFF_EMAIL = "coordination@royans-vercors.demo"
ADMIN_EMAIL = "admin@royans-vercors.demo"
PARTNER_EMAIL = "sortie@hopital-royans.demo"

LAST_NAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
    "Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand",
    "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau",
    "Vincent", "Muller", "Faure", "Andre", "Mercier", "Blanc", "Guerin", "Boyer", "Garnier",
    "Chevalier", "Francois", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clement",
]
FIRST_F = ["Marie", "Jeanne", "Françoise", "Monique", "Catherine", "Nathalie", "Isabelle",
           "Sylvie", "Anne", "Martine", "Léa", "Chloé", "Camille", "Manon", "Inès", "Sarah"]
FIRST_M = ["Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Bernard", "Jacques",
           "Daniel", "Patrick", "Lucas", "Hugo", "Louis", "Nathan", "Karim", "Thomas"]


@dataclass
class DemoSummary:
    territory: str
    created: bool
    doctors: int = 0
    patients: int = 0
    slots: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def _pick_commune(rng: random.Random, communes: list[Commune]) -> Commune:
    weights = [max(c.population, 30) for c in communes]
    return rng.choices(communes, weights=weights, k=1)[0]


def load_demo(db: Session, *, now: datetime) -> DemoSummary:
    """Load the demo territory; a second call finds it and adds nothing.

    Deterministic: the same seed gives the same GPs and patients.
    """
    rng = random.Random(2026)
    territory = db.scalar(select(Territory).where(Territory.name == DEMO_TERRITORY))
    if territory is not None and territory.doctors:
        summary = DemoSummary(territory=territory.name, created=False)
        summary.logins = _logins(db)
        return summary
    territory = geo.create_reference_territory(db, DEMO_TERRITORY, now=now)
    # fictitious contact (0 4 75 99 numbers are not in service), shown to patients
    territory.settings = {**(territory.settings or {}), "cpts_phone": "+33475990000",
                          "cpts_hours": "du lundi au vendredi, de 9 h à 12 h 30 et de 14 h à 17 h",
                          "cpts_address": "CPTS Royans-Vercors, 1 place de la Mairie, 26190 Saint-Jean-en-Royans",
                          "cpts_email": "contact@cpts-royans-vercors.example"}
    communes = [c for c in territory.communes if c.has_position]
    summary = DemoSummary(territory=territory.name, created=True)
    # argon2 is slow on purpose: hash the one demo password once, not once per account
    users.check_password_policy(DEMO_PASSWORD)
    demo_hash = users.hash_password(DEMO_PASSWORD)

    users.create_user(db, email=STAFF_EMAIL, full_name="Claire Coordination",
                         role=Role.STAFF, territory_id=territory.id, password_hash=demo_hash,
                         now=now)
    users.create_user(db, email=ADMIN_EMAIL, full_name="Alain Administration",
                         role=Role.ADMIN, territory_id=territory.id, password_hash=demo_hash,
                         now=now)
    # a hospital discharge team that refers patients through the partner portal
    hospital = organisations.create_partner(db, territory, name="Centre hospitalier du Royans (démonstration)",
                                            kind="hospital", now=now, by_id=None)
    users.create_user(db, email=PARTNER_EMAIL, full_name="Hélène Liaison", role=Role.PARTNER,
                      territory_id=territory.id, partner_id=hospital.id, password_hash=demo_hash, now=now)

    today = paris_today(now)
    doctors = []
    names: set[tuple[str, str]] = set()
    for i in range(15):
        commune = _pick_commune(rng, communes)
        female = rng.random() < 0.5
        # two GPs with the same name cannot be told apart in the console: draw again
        name = (rng.choice(FIRST_F if female else FIRST_M), rng.choice(LAST_NAMES))
        while name in names or name[1] in {last for _, last in names}:
            name = (rng.choice(FIRST_F if female else FIRST_M), rng.choice(LAST_NAMES))
        names.add(name)
        doctor = Doctor(
            rpps=rpps_with_key(f"10{rng.randrange(10**8):08d}"),
            first_name=name[0],
            last_name=name[1],
            email=f"medecin{i + 1:02d}@royans-vercors.demo",
            practice_address=f"{rng.randint(1, 40)} place de la Mairie",
            commune=commune,
            lat=commune.lat,
            lon=commune.lon,
            territory=territory,
            has_step_free_access=rng.random() < 0.6,
            created_dt=now,
        )
        db.add(doctor)
        doctors.append(doctor)
    db.flush()
    for i, doctor in enumerate(doctors):
        if i < 10:  # two thirds declare some capacity
            db.add(
                CapacityDeclaration(
                    doctor=doctor,
                    new_patients=rng.choice([2, 3, 5, 5, 8, 10]),
                    valid_until=today + timedelta(days=rng.choice([60, 90, 180])),
                    max_km=rng.choice([10, 15, 20, 25]),
                    is_priority_only=i in (3, 7),
                    priority_flags=["ald", "age_70"] if i in (3, 7) else [],
                    accepts_children=i % 4 != 1,
                    does_home_visits=i % 3 == 0,
                    languages=["en"] if i % 5 == 0 else [],
                    declared_dt=now - timedelta(days=rng.randint(1, 40)),
                )
            )
        if i % 2 == 0:  # half offer unscheduled-care slots this week
            for day_offset in range(0, 5):
                day = today + timedelta(days=day_offset)
                if day.weekday() >= 5:
                    continue
                for hour in (rng.choice([9, 11]), rng.choice([14, 17])):
                    start = datetime.combine(day, time(hour, 0), tzinfo=PARIS)
                    if start <= now:
                        continue
                    db.add(Slot(doctor=doctor, start_dt=start, end_dt=start + timedelta(minutes=20),
                                created_dt=now))
                    summary.slots += 1
            db.flush()
            # and a weekly pattern, so that the GP's week view shows a series to edit or remove
            summary.slots += len(slot_patterns.add_weekly(
                db, doctor, weekdays=[1, 3] if i % 4 == 0 else [0], start=time(8, 0), minutes=20, count=3,
                until=today + timedelta(days=90), now=now))
        users.create_user(db, email=doctor.email or "", full_name=doctor.display_name,
                             role=Role.DOCTOR, doctor_id=doctor.id, password_hash=demo_hash,
                             now=now)
    summary.doctors = len(doctors)

    for _ in range(200):
        patient, age, submitted = _demo_patient(db, rng, territory, communes, now)
        children = []
        if 28 <= age <= 50 and rng.random() < 0.15:
            children = [(today - timedelta(days=rng.randint(365, 15 * 365))).isoformat()]
        create_request(
            db, patient, kind="mt", channel=rng.choice(["web", "web", "phone"]),
            status="waiting", now=now, actor="system", submitted_dt=submitted,
            is_consented=True, consent_dt=submitted, children_birth_dates=children,
        )
        summary.patients += 1
    _history(db, rng, territory, communes, doctors, now)
    db.flush()
    summary.logins = _logins(db)
    return summary


def _demo_patient(db: Session, rng: random.Random, territory: Territory, communes: list[Commune],
                  now: datetime) -> tuple[Patient, int, datetime]:
    """A fictitious patient (20% aged 70 or more); returns it, its age and the day it asked."""
    today = paris_today(now)
    commune = _pick_commune(rng, communes)
    r = rng.random()
    age = rng.randint(70, 94) if r < 0.2 else rng.randint(18, 69)
    birth = today - timedelta(days=age * 365 + rng.randint(0, 364))
    female = rng.random() < 0.52
    waited = rng.randint(1, 300)
    submitted = now - timedelta(days=waited)
    patient = Patient(
        territory=territory,
        birth_name=rng.choice(LAST_NAMES),
        first_names=rng.choice(FIRST_F if female else FIRST_M),
        birth_date=birth,
        sex="F" if female else "M",
        phone=f"+336{rng.randrange(10**8):08d}",
        email=None if rng.random() < 0.3 else f"patient{rng.randrange(10**6)}@exemple.fr",
        address=f"{rng.randint(1, 120)} route de {commune.name}",
        postal_code=commune.postal_codes[0].postal_code if commune.postal_codes else None,
        commune=commune,
        contact_preference="email" if rng.random() < 0.6 else "phone",
        is_ald=rng.random() < 0.25,
        is_css=rng.random() < 0.10,
        is_pregnant=female and 18 <= age <= 42 and rng.random() < 0.05,
        is_disabled=rng.random() < 0.06,
        hospital_discharge_date=(today - timedelta(days=rng.randint(3, 60))
                                 if rng.random() < 0.05 else None),
        previous_mt_left_date=(date(2025, 12, 31) if rng.random() < 0.3 else None),
        max_km=rng.choice([5, 10, 10, 20, 20, 30]),
        needs_home_visit=age >= 80 and rng.random() < 0.3,
        needs_step_free=age >= 75 and rng.random() < 0.3,
        created_dt=submitted,
    )
    if patient.email is None and patient.contact_preference == "email":
        patient.contact_preference = "letter"
    db.add(patient)
    return patient, age, submitted


def _history(db: Session, rng: random.Random, territory: Territory, communes: list[Commune],
             doctors: list[Doctor], now: datetime) -> None:
    """A year of past activity, so that the indicators have trends to show.

    Patients placed with a GP after a wait (shorter for priority patients), some first
    declined by another GP with a preset reason, and SNP requests served within hours.
    """
    reasons = list(DECLINE_REASONS)
    for days_ago in range(362, 8, -3):
        patient, _, _ = _demo_patient(db, rng, territory, communes, now)
        submitted = now - timedelta(days=days_ago, hours=rng.randint(0, 10))
        patient.created_dt = submitted
        if rng.random() < 0.3:
            request = create_request(db, patient, kind="snp", channel=rng.choice(["web", "phone"]), status="waiting",
                                     now=submitted, submitted_dt=submitted, is_consented=True, consent_dt=submitted)
            booked = submitted + timedelta(hours=rng.choice([3, 6, 20, 30, 44, 70]))
            change_request_status(db, request, "booked", now=booked, actor="staff")
            change_request_status(db, request, "completed", now=booked + timedelta(days=3), actor="system")
            continue
        request = create_request(db, patient, kind="mt", channel=rng.choice(["web", "web", "phone", "import"]),
                                 status="waiting", now=submitted, submitted_dt=submitted, is_consented=True,
                                 consent_dt=submitted)
        priority = any(is_reason(k) for k in request.priority_breakdown or {})
        delay = timedelta(days=rng.randint(4, 40) if priority else rng.randint(15, 160))
        # every past request is placed by now: the 200 above are the ones still waiting
        delay = min(delay, now - timedelta(days=3) - submitted)
        first = rng.choice(doctors)
        if rng.random() < 0.25:
            sent = submitted + delay / 2
            declined = Proposal(request=request, doctor=first, status="declined", created_dt=sent, sent_dt=sent,
                                answered_dt=sent + timedelta(days=2), decline_code=rng.choice(reasons),
                                explanation={})
            db.add(declined)
            db.flush()
            db.add(PairExclusion(patient_id=patient.id, doctor_id=first.id, reason="declined",
                                 created_dt=sent + timedelta(days=2)))
            first = rng.choice([d for d in doctors if d is not first])
        answered = submitted + delay
        change_request_status(db, request, "proposed", now=answered - timedelta(days=3), actor="staff")
        db.add(Proposal(request=request, doctor=first, status="accepted", created_dt=answered - timedelta(days=3),
                        sent_dt=answered - timedelta(days=3), answered_dt=answered, explanation={},
                        first_consultation_dt=answered + timedelta(days=10),
                        mt_declared_dt=answered + timedelta(days=10)))
        change_request_status(db, request, "matched", now=answered, actor="doctor")
        change_request_status(db, request, "completed", now=answered + timedelta(days=10), actor="doctor")
    db.flush()


def _logins(db: Session) -> list[tuple[str, str, str]]:
    rows = [("coordination", STAFF_EMAIL, DEMO_PASSWORD), ("administration", ADMIN_EMAIL,
                                                            DEMO_PASSWORD)]
    rows.append(("médecin", "medecin01@royans-vercors.demo", DEMO_PASSWORD))
    rows.append(("partenaire (équipe de sortie d'hôpital)", PARTNER_EMAIL, DEMO_PASSWORD))
    return rows
