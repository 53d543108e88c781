"""Waiting-list publication: the public anonymous snapshot and the daily digests.

The public page shows, per commune and priority group, how many patients wait for a
médecin traitant, and the median waiting time. Counts under SMALL_COUNT are shown as
"moins de 5", never as a number; a total is exact only when none of its parts is
between 1 and 4, otherwise "au moins N" with N the sum of the visible parts (so nobody
can recover a hidden count by subtraction). The digests carry counts only, never names.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from guichet.assignment.priority import priority_flags
from guichet.doctors import capacity
from guichet.formatting import date_fr
from guichet.matching import haversine_km
from guichet.messaging import notifications
from guichet.models import (
    Doctor,
    FollowUp,
    Notification,
    PatientRequest,
    Proposal,
    PublishedWaitingList,
    Territory,
    User,
)
from guichet.requests.records import situation_of
from guichet.territories import settings as territory_settings
from guichet.timeutil import paris_today, to_paris

#: counts below this are never published
SMALL_COUNT = 5
HIDDEN = "moins de 5"
GROUPS = ("prioritaire", "non_prioritaire")
GROUP_LABELS = {"prioritaire": "Patients prioritaires", "non_prioritaire": "Autres patients"}
#: statuses of an MT request still looking for a GP (imported ones not yet reached excluded)
WAITING_STATUSES = ("submitted", "waiting", "proposed")
OTHER_COMMUNES = "Autres communes ou commune non renseignée"
#: the GP digest without pending proposals goes out once a week, on this day (0 = Monday)
GP_WEEKLY_DAY = 0


def mask(count: int) -> str:
    """The published form of a count: the number, or "moins de 5"."""
    return HIDDEN if count < SMALL_COUNT else str(count)


def mask_total(parts: list[int]) -> str:
    """A total that never lets anyone recover a hidden count by subtraction.

    Exact when none of its parts is between 1 and 4 (zeros hide no one); otherwise
    "au moins N", N being the sum of the parts shown (at least 5, since the total is).
    """
    total = sum(parts)
    if total < SMALL_COUNT:
        return HIDDEN
    if not any(0 < p < SMALL_COUNT for p in parts):
        return str(total)
    visible = sum(p for p in parts if p >= SMALL_COUNT)
    return f"au moins {max(visible, SMALL_COUNT)}"


def waiting_requests(db: Session, territory: Territory) -> list[PatientRequest]:
    return list(db.scalars(
        select(PatientRequest)
        .options(selectinload(PatientRequest.patient))
        .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == "mt",
               PatientRequest.status.in_(WAITING_STATUSES))
    ))


def build_snapshot(db: Session, territory: Territory, *, now: datetime) -> dict[str, Any]:
    """The anonymous, already-masked data of the public page."""
    today = paris_today(now)
    names = {c.insee: c.name for c in territory.communes}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(GROUPS, 0))
    waits: list[int] = []
    for request in waiting_requests(db, territory):
        patient = request.patient
        group = "prioritaire" if priority_flags(situation_of(patient), today) else "non_prioritaire"
        key = patient.commune_insee if patient.commune_insee in names else ""
        counts[key][group] += 1
        waits.append(max(0, (today - paris_today(request.waiting_since_dt)).days))
    rows = []
    ordered = sorted(names.items(), key=lambda item: item[1]) + ([("", OTHER_COMMUNES)] if "" in counts else [])
    for insee, name in ordered:
        cell = counts.get(insee, dict.fromkeys(GROUPS, 0))
        rows.append({"insee": insee, "commune": name,
                     **{g: mask(cell[g]) for g in GROUPS},
                     "total": mask_total([cell[g] for g in GROUPS])})
    all_cells = [cell[g] for cell in (counts.get(i, dict.fromkeys(GROUPS, 0)) for i, _ in ordered)
                 for g in GROUPS]
    totals = {g: mask_total([counts.get(i, dict.fromkeys(GROUPS, 0))[g] for i, _ in ordered])
              for g in GROUPS}
    totals["total"] = mask_total(all_cells)
    median = round(statistics.median(waits)) if len(waits) >= SMALL_COUNT else None
    return {"territory_name": territory.name, "rows": rows, "totals": totals,
            "median_wait_days": median, "groups": {g: GROUP_LABELS[g] for g in GROUPS}}


def publish(db: Session, territory: Territory, *, now: datetime) -> PublishedWaitingList:
    """Store today's snapshot (replacing today's earlier one, if any)."""
    day = paris_today(now)
    data = build_snapshot(db, territory, now=now)
    row = db.scalar(select(PublishedWaitingList).where(
        PublishedWaitingList.territory_id == territory.id, PublishedWaitingList.publication_date == day))
    if row is None:
        row = PublishedWaitingList(territory_id=territory.id, publication_date=day)
        db.add(row)
    row.published_dt = now
    row.data = data
    db.flush()
    return row


def latest(db: Session, territory: Territory) -> PublishedWaitingList | None:
    return db.scalar(
        select(PublishedWaitingList).where(PublishedWaitingList.territory_id == territory.id)
        .order_by(PublishedWaitingList.publication_date.desc()).limit(1)
    )


def staff_digest_counts(db: Session, territory: Territory, *, now: datetime) -> dict[str, int]:
    """What the coordinators need each morning: counts only."""
    today = paris_today(now)
    requests = PatientRequest.__table__.c
    base = select(func.count()).select_from(PatientRequest).where(requests.territory_id == territory.id)
    in_territory = Proposal.request.has(PatientRequest.territory_id == territory.id)
    return {
        "new_requests": db.scalar(base.where(requests.submitted_dt > now - timedelta(days=1))) or 0,
        "waiting": db.scalar(base.where(requests.status.in_(WAITING_STATUSES))) or 0,
        "to_contact": db.scalar(base.where(requests.status == "to_contact")) or 0,
        "to_review": db.scalar(select(func.count()).select_from(Proposal).where(
            in_territory, Proposal.status == "proposed")) or 0,
        "awaiting_gp": db.scalar(select(func.count()).select_from(Proposal).where(
            in_territory, Proposal.status == "sent")) or 0,
        "overdue_gp": db.scalar(select(func.count()).select_from(Proposal).where(
            in_territory, Proposal.status == "sent", Proposal.answer_due_date < today)) or 0,
        "overdue_follow_ups": db.scalar(select(func.count()).select_from(FollowUp).where(
            FollowUp.request.has(PatientRequest.territory_id == territory.id),
            FollowUp.done_dt.is_(None), FollowUp.due_dt < now - timedelta(days=7))) or 0,
    }


def nearby_waiting(doctor: Doctor, radius_km: float, by_commune: Mapping[tuple[float, float], int]) -> int:
    if doctor.lat is None or doctor.lon is None:
        return 0
    return sum(n for (lat, lon), n in by_commune.items()
               if haversine_km(doctor.lat, doctor.lon, lat, lon) <= radius_km)


def publish_all(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Publish each territory's snapshot and digests once a day, at or after its own time.

    The scheduler ticks every few minutes; a territory whose "publication_time" has not
    come yet, or that was already published today, is left alone.
    """
    day = paris_today(now)
    stamp = day.isoformat()
    base_url = str(settings.get("BASE_URL", "")).rstrip("/")
    counts = {"published": 0, "staff_digests": 0, "gp_digests": 0, "not_yet": 0, "already": 0}
    for territory in db.scalars(select(Territory).order_by(Territory.id)).all():
        if not territory_settings.is_due(territory, "publication_time", now):
            counts["not_yet"] += 1
            continue
        if db.scalar(select(PublishedWaitingList.id).where(
                PublishedWaitingList.territory_id == territory.id,
                PublishedWaitingList.publication_date == day)) is not None:
            counts["already"] += 1
            continue
        publish(db, territory, now=now)
        counts["published"] += 1
        figures = staff_digest_counts(db, territory, now=now)
        for user in db.scalars(select(User).where(User.territory_id == territory.id,
                                                  User.role.in_(("staff", "admin")), User.is_active)):
            counts["staff_digests"] += _enqueue_new(
                db, template="digest_staff", subject=f"Guichet CPTS : la journée du {day:%d/%m/%Y}",
                dedup_key=f"digest:staff:{user.id}:{stamp}", now=now, email=user.email,
                user_id=user.id, territory_id=territory.id,
                context={"territory_name": territory.name, "date": date_fr(day),
                         "console_url": f"{base_url}/coordination", **figures},
            )
        counts["gp_digests"] += _gp_digests(db, territory, now=now, base_url=base_url)
    return counts


def _gp_digests(db: Session, territory: Territory, *, now: datetime, base_url: str) -> int:
    day = paris_today(now)
    by_commune: dict[tuple[float, float], int] = defaultdict(int)
    for request in waiting_requests(db, territory):
        commune = request.patient.commune
        if commune is not None and commune.lat is not None and commune.lon is not None:
            by_commune[(commune.lat, commune.lon)] += 1
    pending = dict(db.execute(
        select(Proposal.doctor_id, func.count()).where(Proposal.status == "sent")
        .group_by(Proposal.doctor_id)).all())
    default_km = float(territory_settings.setting(territory, "default_doctor_km"))
    sent = 0
    doctors = db.scalars(select(Doctor).where(Doctor.territory_id == territory.id, Doctor.is_active,
                                              Doctor.email.is_not(None)).order_by(Doctor.id))
    for doctor in doctors:
        n_pending = int(pending.get(doctor.id, 0))
        if n_pending == 0 and day.weekday() != GP_WEEKLY_DAY:
            continue
        declaration = capacity.current_declaration(db, doctor.id)
        radius = float(declaration.max_km) if declaration else default_km
        nearby = nearby_waiting(doctor, radius, by_commune)
        if n_pending == 0 and nearby == 0:
            continue
        sent += _enqueue_new(
            db, template="digest_gp",
            subject="Guichet CPTS : vos propositions en attente" if n_pending
            else "Guichet CPTS : des patients de votre secteur cherchent un médecin traitant",
            dedup_key=f"digest:gp:{doctor.id}:{day.isoformat()}", now=now, email=doctor.email,
            user_id=doctor.user.id if doctor.user else None, territory_id=territory.id,
            context={"doctor_name": doctor.display_name, "territory_name": territory.name,
                     "pending": n_pending, "nearby": nearby, "radius_km": round(radius),
                     "portal_url": f"{base_url}/medecin"},
        )
    return sent


def _enqueue_new(db: Session, **fields: Any) -> int:
    """Enqueue unless the dedup key is already in the outbox; 1 when a message was added."""
    key = fields["dedup_key"]
    if db.scalar(select(Notification.id).where(Notification.dedup_key == key)) is not None:
        return 0
    notifications.enqueue(db, **fields)
    return 1


def published_at_paris(row: PublishedWaitingList) -> datetime:
    return to_paris(row.published_dt)
