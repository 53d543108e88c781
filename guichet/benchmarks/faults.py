"""Fault test on PostgreSQL: what is lost, stored twice, over-committed or sent twice.

    python -m guichet.benchmarks.faults                 # a private PostgreSQL cluster under /tmp
    python -m guichet.benchmarks.faults --patients 500 --threads 50

It never touches the shared PostgreSQL server: it creates its own cluster (initdb, a free
port, a socket directory under /tmp; as root, through the postgres account), restarts
*that* server in the middle of the work, and deletes it at the end. Scenarios:

1. concurrent submissions across a restart: N patients submit at once (T threads); a
   patient whose page failed tries again, as people do; every confirmed request must be
   stored once (lost, duplicated);
2. concurrent approvals, double-clicked declines and the expiry job on the same
   proposals: no GP ends with more committed places than declared or than live
   proposals (overrun);
3. 40 coordinators booking one SNP slot at once (double-booked);
4. two schedulers delivering 300 e-mails to a real SMTP server (aiosmtpd) while the
   database restarts (duplicate mails counted by Message-ID; lost = never sent).

The last lines print the counts; all must be 0 (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from guichet import migrate
from guichet.accounts import users
from guichet.assignment import arbitration, proposals
from guichet.benchmarks.pgcluster import PrivateCluster, free_port
from guichet.db import make_engine, make_sessionmaker
from guichet.identifiers import rpps_with_key
from guichet.jobs.runner import run_job
from guichet.messaging import follow_up, notifications
from guichet.models import (
    CapacityDeclaration,
    Doctor,
    Notification,
    Patient,
    PatientRequest,
    Proposal,
    Slot,
    Territory,
    User,
)
from guichet.requests import intake
from guichet.territories import geo
from guichet.workflow import IllegalTransition

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
COMMUNES = ["26059", "26117", "26223"]


def _retrying(action: Callable[[], Any], *, seconds: float = 60) -> Any:
    """Run `action` until the database answers again (what a person or a job retry does)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except DBAPIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _restart_soon(cluster: PrivateCluster, delay: float) -> threading.Thread:
    def later() -> None:
        time.sleep(delay)
        cluster.restart()

    thread = threading.Thread(target=later)
    thread.start()
    return thread


# --- 1. submissions across a restart ---------------------------------------------------------


def person(i: int) -> intake.MtRequestData:
    return intake.MtRequestData(
        birth_name=f"Patient{i:05d}", first_names="Camille", birth_date=date(1940, 1, 1) + timedelta(days=i % 20_000),
        phone="06 12 34 56 78", postal_code="26190", commune_insee=COMMUNES[i % len(COMMUNES)],
        is_consented=True)


def submissions(sessions: sessionmaker[Session], cluster: PrivateCluster, *, patients: int,
                threads: int) -> dict[str, int]:
    """Every patient submits until the page confirms (stored, or already stored)."""
    confirmed: set[int] = set()
    failures = Counter[str]()
    lock = threading.Lock()

    def submit(i: int) -> None:
        data = person(i)
        for _attempt in range(200):
            db = sessions()
            try:
                intake.submit_mt_request(db, data, channel="web", now=NOW, base_url="http://guichet.test")
                db.commit()
            except intake.DuplicateRequest:
                db.commit()  # the same page as a new request; the link goes to the contact on file
            except DBAPIError:
                with lock:
                    failures["database"] += 1
                _safe_close(db)
                time.sleep(0.3)
                continue
            db.close()
            with lock:
                confirmed.add(i)
            return

    restart = _restart_soon(cluster, 1.0)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(submit, range(patients)))
    restart.join()
    with sessions() as db:
        stored = Counter(db.scalars(select(Patient.birth_name).join(
            PatientRequest, PatientRequest.patient_id == Patient.id)))
        references = int(db.scalar(select(func.count(func.distinct(PatientRequest.reference)))) or 0)
        rows = int(db.scalar(select(func.count()).select_from(PatientRequest)) or 0)
    names = {i: person(i).birth_name for i in range(patients)}
    return {
        "patients": patients,
        "confirmed": len(confirmed),
        "transient_errors": failures["database"],
        "lost": sum(1 for i in confirmed if stored[names[i]] == 0),
        "unconfirmed": patients - len(confirmed),
        "duplicated": sum(1 for n in stored.values() if n > 1) + (rows - references),
    }


def _safe_close(db: Session) -> None:
    try:
        db.rollback()
    except DBAPIError:
        db.invalidate()
    db.close()


# --- 2. approvals, declines and expiry at once -----------------------------------------------


def approvals_and_declines(sessions: sessionmaker[Session], territory_id: int, *, doctors: int = 8,
                           drafts_per_doctor: int = 8, places: int = 5) -> dict[str, int]:
    with sessions.begin() as db:
        territory = db.get(Territory, territory_id)
        assert territory is not None
        staff = users.create_user(db, email="coord@exemple.fr", full_name="Coordination", role="staff",
                                  now=NOW, password=secrets.token_urlsafe(16), territory_id=territory_id)
        staff_id = staff.id
        commune = geo.get_commune(db, COMMUNES[0])
        draft_ids: list[int] = []
        patient_index = 100_000
        for d in range(doctors):
            doctor = Doctor(rpps=rpps_with_key(f"19{d:08d}"), first_name="Alex", last_name=f"Médecin{d}",
                            email=f"dr{d}@exemple.fr", practice_address="1 place", commune=commune,
                            lat=commune.lat, lon=commune.lon, territory=territory, created_dt=NOW)
            db.add(doctor)
            declaration = CapacityDeclaration(doctor=doctor, new_patients=places, max_km=30,
                                              declared_dt=NOW - timedelta(days=1),
                                              valid_until=NOW.date() + timedelta(days=90))
            db.add(declaration)
            db.flush()
            for _ in range(drafts_per_doctor):
                request = intake.submit_mt_request(db, person(patient_index), channel="phone", now=NOW,
                                                   base_url="http://guichet.test")
                patient_index += 1
                draft = proposals.create_draft(db, request, doctor, now=NOW, declaration_id=declaration.id)
                draft_ids.append(draft.id)

    def approve(proposal_id: int) -> None:
        with sessions() as db:
            arbitration.approve(db, db.get(Territory, territory_id), [proposal_id],  # type: ignore[arg-type]
                                user=db.get(User, staff_id), now=NOW)
            db.commit()

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(approve, draft_ids))
    with sessions() as db:
        sent = list(db.scalars(select(Proposal.id).where(Proposal.status == "sent")))

    def answer(job: tuple[str, int]) -> None:
        kind, proposal_id = job
        with sessions() as db:
            try:
                if kind == "expire":
                    follow_up.expire_proposals(db, now=NOW + timedelta(days=30))
                else:
                    proposal = db.get(Proposal, proposal_id)
                    assert proposal is not None
                    if kind == "decline":
                        proposals.decline(db, proposal, now=NOW, reason="double clic")
                    else:
                        proposals.accept(db, proposal, now=NOW)
                db.commit()
            except IllegalTransition:
                db.rollback()

    # each sent proposal: declined twice (double click) and accepted, all at once; expiry runs too
    jobs = [(kind, pid) for pid in sent for kind in ("decline", "decline", "accept")]
    jobs += [("expire", 0)] * 4
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(answer, jobs))
    # the places given back are taken again by a second wave of approvals
    with sessions() as db:
        drafts = list(db.scalars(select(Proposal.id).where(Proposal.status == "proposed")))
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(approve, drafts))
    with sessions() as db:
        live = dict(db.execute(
            select(Proposal.declaration_id, func.count()).where(
                Proposal.status.in_(proposals.COMMITTING)).group_by(Proposal.declaration_id)).all())
        declarations = db.scalars(select(CapacityDeclaration)).all()
        overrun = sum(1 for d in declarations
                      if d.committed > d.new_patients or d.committed != live.get(d.id, 0))
    return {"proposals": len(draft_ids), "answered": len(sent), "overrun": overrun}


# --- 3. one SNP slot, 40 coordinators ---------------------------------------------------------


def slot_bookings(sessions: sessionmaker[Session], territory_id: int, *, bookers: int = 40) -> dict[str, int]:
    from guichet.doctors import slots

    with sessions.begin() as db:
        doctor = db.scalars(select(Doctor).where(Doctor.territory_id == territory_id)).first()
        assert doctor is not None
        slot = Slot(doctor=doctor, start_dt=NOW + timedelta(hours=3), end_dt=NOW + timedelta(hours=3, minutes=20),
                    created_dt=NOW)
        db.add(slot)
        requests = []
        for i in range(bookers):
            data = intake.SnpRequestData(
                birth_name=f"Urgent{i:03d}", first_names="Sam", birth_date=date(1980, 1, 1) + timedelta(days=i),
                phone="06 12 34 56 78", postal_code="26190", commune_insee=COMMUNES[0], is_consented=True,
                snp_category="pain", snp_reason="Douleur", snp_since="today", availability=[("today", "afternoon")])
            requests.append(intake.submit_snp_request(db, data, channel="phone", now=NOW,
                                                      base_url="http://guichet.test", status="waiting"))
        db.flush()
        slot_id, request_ids = slot.id, [r.id for r in requests]
    barrier = threading.Barrier(bookers)

    def book(request_id: int) -> bool:
        with sessions() as db:
            barrier.wait()
            try:
                slots.book(db, slot_id, db.get(PatientRequest, request_id), now=NOW)  # type: ignore[arg-type]
                db.commit()
                return True
            except (slots.SlotUnavailable, IllegalTransition):
                db.rollback()
                return False

    with ThreadPoolExecutor(bookers) as pool:
        booked = sum(pool.map(book, request_ids))
    with sessions() as db:
        holders = db.scalar(select(func.count()).select_from(PatientRequest).where(
            PatientRequest.id.in_(request_ids), PatientRequest.status == "booked"))
    return {"bookers": bookers, "double_booked": max(0, booked - 1) + max(0, (holders or 0) - 1)}


# --- 4. two schedulers delivering across a restart --------------------------------------------


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    from aiosmtpd.controller import Controller  # a test dependency: this command runs in CI

    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            content = envelope.content.decode("utf-8", "replace")
            message_id = next((line.split(":", 1)[1].strip() for line in content.splitlines()
                               if line.lower().startswith("message-id:")), "")
            received.append(message_id)
            time.sleep(0.003)  # a real server takes a moment: the restart falls mid-delivery
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, received
    finally:
        controller.stop()


def delivery_across_restart(sessions: sessionmaker[Session], cluster: PrivateCluster, *,
                            messages: int = 300) -> dict[str, int]:
    with sessions.begin() as db:
        for i in range(messages):
            notifications.enqueue(db, template="request_expired_no_answer", subject="Votre demande est close",
                                  dedup_key=f"faults:{i}", now=NOW, email=f"patient{i}@exemple.fr",
                                  context={"first_names": "Camille", "reference": f"MT-2026-{i:06d}",
                                           "territory_name": "CPTS Pannes"})
    with smtp_server() as (port, received):
        settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT_SECONDS": 5,
                    "MAIL_FROM": "Guichet <ne-pas-repondre@exemple.fr>", "MAIL_BATCH_SIZE": 50,
                    "MAIL_DATABASE_PATIENCE_SECONDS": 60}

        def pending() -> int:
            with sessions() as db:
                return int(db.scalar(select(func.count()).select_from(Notification).where(
                    Notification.channel == "email", Notification.status != "sent")) or 0)

        def scheduler(at: datetime) -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and _retrying(pending):
                _retrying(lambda: run_job("delivery", sessions, at, settings=settings))

        restart = _restart_soon(cluster, 0.4)
        schedulers = [threading.Thread(target=scheduler, args=(NOW,)) for _ in range(2)]
        for t in schedulers:
            t.start()
        for t in schedulers:
            t.join()
        restart.join()
        # a claim whose commit was cut by the restart is picked up once it is stale (15 min)
        scheduler(NOW + timedelta(minutes=16))
        left = _retrying(pending)
    copies = Counter(received)
    return {"messages": messages, "received": len(received), "lost": left,
            "duplicate_mail": sum(n - 1 for n in copies.values() if n > 1)}


# --- the command ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--threads", type=int, default=50)
    args = parser.parse_args(argv)
    cluster = PrivateCluster()
    started = time.perf_counter()
    try:
        cluster.start()
        url = migrate.create_postgres_database(cluster.url(), "guichet_faults")
        migrate.upgrade(url)
        engine = make_engine(url, pool_pre_ping=True, pool_size=args.threads + 10, max_overflow=20)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as db:
            geo.load_communes(db)
            territory_id = geo.create_territory(db, "CPTS Pannes", COMMUNES, now=NOW).id
        print(f"PostgreSQL privé sur le port {cluster.port} ({cluster.root}) ; redémarré pendant 1 et 4.")
        scenarios: dict[str, Callable[[], dict[str, int]]] = {
            "1. envois simultanés pendant un redémarrage": lambda: submissions(
                sessions, cluster, patients=args.patients, threads=args.threads),
            "2. validations, refus en double clic et expirations simultanés":
                lambda: approvals_and_declines(sessions, territory_id),
            "3. un créneau SNP réservé par 40 coordinateurs à la fois": lambda: slot_bookings(sessions, territory_id),
            "4. deux planificateurs et un redémarrage pendant l'envoi":
                lambda: delivery_across_restart(sessions, cluster),
        }
        results = {}
        for title, scenario in scenarios.items():
            begun = time.perf_counter()
            results[title] = scenario()
            results[title]["seconds"] = round(time.perf_counter() - begun)
            print(f"{title} : " + ", ".join(f"{k} = {v}" for k, v in results[title].items()), flush=True)
        engine.dispose()
    finally:
        cluster.stop()
    totals = {
        "lost": results["1. envois simultanés pendant un redémarrage"]["lost"]
        + results["4. deux planificateurs et un redémarrage pendant l'envoi"]["lost"],
        "duplicated": results["1. envois simultanés pendant un redémarrage"]["duplicated"],
        "unconfirmed": results["1. envois simultanés pendant un redémarrage"]["unconfirmed"],
        "overrun": results["2. validations, refus en double clic et expirations simultanés"]["overrun"],
        "double_booked": results["3. un créneau SNP réservé par 40 coordinateurs à la fois"]["double_booked"],
        "duplicate_mail": results["4. deux planificateurs et un redémarrage pendant l'envoi"]["duplicate_mail"],
    }
    print(f"Durée : {time.perf_counter() - started:.0f} s.")
    print("RÉSULTAT : " + " ".join(f"{k}={v}" for k, v in totals.items()))
    return 0 if not any(totals.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
