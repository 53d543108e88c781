"""Load benchmark: gunicorn + PostgreSQL with 20,000 requests, a bounded client on loopback.

    python -m guichet.benchmarks.load                         # everything (about 8 minutes)
    python -m guichet.benchmarks.load --users 10,50 --think-seconds 20 --requests 300
    python -m guichet.benchmarks.load --pages "soumission MT" --users 50 --seconds-without-think 60

Starts a private PostgreSQL cluster (guichet.benchmarks.pgcluster, with pg_stat_statements),
fills it with the demo territory and N requests (guichet.benchmarks.queue.fill), one GP per
simulated user with 10 proposals in their inbox, then gunicorn as in production (`-w 3 -k gthread --threads 4`).
For each page and each number of simultaneous users, with a think time of 2–5 s between a
user's requests and without, a fixed pool of user threads (each waits for its answer before
the next: at most `users` requests in flight) plays:

- MT submission: the form, then the POST (only the POST is timed; a new person each time);
- tracking page: a patient's link;
- staff queue: a coordinator's list with a random filter, search or sort (one page of 50);
- GP inbox: a GP's list of proposals.

Each run prints p50/p95/p99 (ms), throughput (requests/s), errors, the CPU used per request
by gunicorn and by PostgreSQL (ms, from /proc), and the database time per request measured
by pg_stat_statements; after a submission run, how many confirmed submissions are stored
once, lost or stored twice. Each simulated person comes from its own address (X-Forwarded-For,
one trusted proxy) as on the Internet, so that the per-address rate limits do not refuse
them. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from guichet import migrate
from guichet.accounts import users
from guichet.assignment import proposals
from guichet.benchmarks.pgcluster import PrivateCluster, cpu_seconds, free_port
from guichet.benchmarks.queue import NOW, fill
from guichet.db import make_engine
from guichet.identifiers import rpps_with_key
from guichet.models import CapacityDeclaration, Doctor, Patient, PatientRequest
from guichet.models.patients import OPEN_REQUEST_STATUSES
from guichet.requests import queue
from guichet.territories import geo

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = secrets.token_urlsafe(16)
#: proposals in each GP's inbox
INBOX = 10
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: what the coordinators ask the list for; "after" (a page further, keyset paging) is set to a
#: request id at that depth once the database is filled: {"after": 1000} is the 21st page
QUEUE_FILTERS: list[dict[str, Any]] = [
    {}, {"status": "all", "after": 1000}, {"kind": "mt", "status": "waiting", "priority": "any"},
    {"commune": "26307", "sort": "oldest"}, {"waited": "180", "channel": "phone"}, {"q": "lefèvre12", "status": "all"},
    {"q": "MT-2026-0100", "status": "all"}, {"sort": "name"}, {"kind": "snp"}, {"after": 100}, {"q": "st jean"},
]


@dataclass
class World:
    base: str
    tokens: list[str]
    staff: list[str]
    doctors: list[str]
    queue_filters: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    page: str
    users: int
    think: bool
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    app_cpu: float = 0.0
    db_cpu: float = 0.0
    db_ms: float = 0.0
    #: people whose submission was confirmed (redirected to the confirmation page)
    confirmed: list[str] = field(default_factory=list)
    check: str = ""

    def line(self) -> str:
        n = len(self.latencies) or 1
        q = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [0.0] * 99
        return (f"{self.page:16} {self.users:>5} {'2–5 s' if self.think else 'aucune':>7} {len(self.latencies):>7} "
                f"{q[49]:>7.0f} {q[94]:>7.0f} {q[98]:>7.0f} {len(self.latencies) / self.seconds:>8.1f} "
                f"{self.errors:>7} {self.app_cpu * 1000 / n:>8.1f} {self.db_cpu * 1000 / n:>7.1f} "
                f"{self.db_ms / n:>7.1f}")


HEADER = (f"{'page':16} {'users':>5} {'pause':>7} {'req.':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>8} "
          f"{'erreurs':>7} {'CPU app':>8} {'CPU db':>7} {'db ms':>7}")


def prepare(url: str, n: int, accounts: int) -> tuple[list[str], list[str], list[str]]:
    """Fill the database; return tracking tokens, staff e-mails and GP e-mails."""
    engine = make_engine(url)
    with Session(engine) as db:
        territory = fill(db, n)
        commune = geo.get_commune(db, "26223")
        staff = [f"coord{i}@exemple.fr" for i in range(accounts)]
        doctors = [f"gp{i}@exemple.fr" for i in range(accounts)]
        for email in staff:
            users.create_user(db, email=email, full_name="Coordination", role="staff", now=NOW,
                              password=PASSWORD, territory_id=territory.id)
        waiting = iter(db.scalars(select(PatientRequest).where(
            PatientRequest.status == "waiting", PatientRequest.kind == "mt").limit(accounts * INBOX)).all())
        for i, email in enumerate(doctors):
            doctor = Doctor(rpps=rpps_with_key(f"18{i:08d}"), first_name="Alex", last_name=f"Bench{i}",
                            email=f"dr.bench{i}@exemple.fr", practice_address="1 place", commune=commune,
                            lat=commune.lat, lon=commune.lon, territory=territory, created_dt=NOW)
            db.add(doctor)
            declaration = CapacityDeclaration(doctor=doctor, new_patients=INBOX, max_km=30,
                                              declared_dt=NOW - timedelta(days=1),
                                              valid_until=NOW.date() + timedelta(days=90))
            db.add(declaration)
            db.flush()
            for request in itertools.islice(waiting, INBOX):
                draft = proposals.create_draft(db, request, doctor, now=NOW, declaration_id=declaration.id)
                proposals.approve_and_send(db, draft, now=NOW)
            users.create_user(db, email=email, full_name=f"Dr Bench {i}", role="doctor", now=NOW,
                              password=PASSWORD, doctor_id=doctor.id)
        tokens = list(db.scalars(select(PatientRequest.tracking_token).where(
            PatientRequest.status.in_([str(s) for s in OPEN_REQUEST_STATUSES])).limit(2000)))
        db.commit()
    # as autovacuum would have done by then: statistics, and the visibility map that lets a
    # count read an index only
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return tokens, staff, doctors


def queue_filters(url: str) -> list[dict[str, Any]]:
    """QUEUE_FILTERS with each page cursor ("after": depth) replaced by the id of the request at that depth."""
    engine = make_engine(url)
    resolved = []
    with Session(engine) as db:
        territory_id = int(db.scalar(select(PatientRequest.territory_id).limit(1)) or 0)
        for args in QUEUE_FILTERS:
            if "after" in args:
                page = queue.list_requests(db, territory_id, queue.Filters.from_args(
                    {k: v for k, v in args.items() if k != "after"}), now=NOW, per_page=args["after"])
                args = {**args, "after": str(page.rows[-1].id)}
            resolved.append(args)
    engine.dispose()
    return resolved


def _address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["X-Forwarded-For"] = _address()
    return session


def _login(session: requests.Session, base: str, email: str) -> None:
    form = session.get(f"{base}/connexion", timeout=30)
    token = CSRF.search(form.text)
    response = session.post(f"{base}/connexion", data={"email": email, "password": PASSWORD,
                                                       "csrf_token": token.group(1) if token else ""},
                            allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"login refused for {email}: {response.status_code}")


def _submission(session: requests.Session, base: str, index: int) -> requests.Response:
    session.headers["X-Forwarded-For"] = _address()  # a new person
    form = session.get(f"{base}/demande/medecin-traitant", timeout=30)
    token = CSRF.search(form.text)
    data = {"filled_by": "self", "birth_name": f"Charge{index:06d}{secrets.token_hex(2)}",
            "first_names": "Camille",
            "birth_date": f"19{random.randrange(30, 99)}-0{random.randrange(1, 9)}-1{random.randrange(0, 9)}",
            "sex": "F", "phone": "06 12 34 56 78", "address": "3 rue des Écoles", "postal_code": "26190",
            "commune_insee": "26223", "max_km": "10", "is_consented": "y", "submit": "Envoyer la demande",
            "csrf_token": token.group(1) if token else ""}
    started = time.perf_counter()
    response = session.post(f"{base}/demande/medecin-traitant", data=data, allow_redirects=False, timeout=60)
    response.elapsed = timedelta(seconds=time.perf_counter() - started)
    response.ok_status = 303  # type: ignore[attr-defined]  # to the page after the request
    response.person = data["birth_name"]  # type: ignore[attr-defined]
    return response


def scenario(page: str, world: World) -> tuple[Callable[[int], requests.Session], Callable[..., requests.Response]]:
    """(make a user's session, one timed request of that user)."""
    base = world.base
    if page == "soumission MT":
        return lambda _u: _session(), lambda s, i: _submission(s, base, i)
    if page == "suivi":
        return lambda _u: _session(), lambda s, i: s.get(f"{base}/suivi/{random.choice(world.tokens)}", timeout=30)
    if page == "file coordination":
        def staff_session(user: int) -> requests.Session:
            session = _session()
            _login(session, base, world.staff[user % len(world.staff)])
            return session
        return staff_session, lambda s, i: s.get(f"{base}/coordination/demandes",
                                                params=random.choice(world.queue_filters), timeout=30)

    def gp_session(user: int) -> requests.Session:
        session = _session()
        _login(session, base, world.doctors[user % len(world.doctors)])
        return session
    return gp_session, lambda s, i: s.get(f"{base}/medecin/", timeout=30)


def play(world: World, page: str, users: int, think: bool, *, total: int, seconds: float,
         seconds_without_think: float, gunicorn_pid: int, cluster: PrivateCluster, db_url: str) -> Run:
    run = Run(page, users, think)
    timed = think or seconds_without_think > 0
    make, one = scenario(page, world)
    sessions = [make(u) for u in range(users)]
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop_at = [0.0]

    def user(u: int) -> None:
        session = sessions[u]
        while True:
            with lock:
                i = next(counter)
            if (not timed and i >= total) or (timed and time.perf_counter() > stop_at[0]):
                return
            if think:
                time.sleep(random.uniform(2, 5))
                if time.perf_counter() > stop_at[0]:
                    return
            try:
                response = one(session, i)
                expected = getattr(response, "ok_status", 200)
                with lock:
                    run.latencies.append(response.elapsed.total_seconds() * 1000)
                    if response.status_code != expected:
                        run.errors += 1
                    elif hasattr(response, "person"):
                        run.confirmed.append(response.person)
            except requests.RequestException:
                with lock:
                    run.errors += 1

    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_stat_statements_reset()"))
    app_before, db_before = cpu_seconds(gunicorn_pid), cpu_seconds(cluster.postmaster_pid())
    started = time.perf_counter()
    stop_at[0] = started + (seconds if think else seconds_without_think)
    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - started
    run.app_cpu = cpu_seconds(gunicorn_pid) - app_before
    run.db_cpu = cpu_seconds(cluster.postmaster_pid()) - db_before
    with engine.begin() as conn:
        run.db_ms = float(conn.scalar(text(
            "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements "
            "WHERE query NOT ILIKE '%pg_stat_statements%'")) or 0)
        if run.confirmed:
            stored = dict(conn.execute(
                select(Patient.birth_name, func.count()).join(PatientRequest, PatientRequest.patient_id == Patient.id)
                .where(Patient.birth_name.in_(run.confirmed)).group_by(Patient.birth_name)).all())
            lost = sum(1 for name in run.confirmed if not stored.get(name))
            twice = sum(1 for name in run.confirmed if stored.get(name, 0) > 1)
            run.check = (f"    {len(run.confirmed)} soumissions confirmées : enregistrées une fois "
                         f"{len(run.confirmed) - lost - twice}, perdues {lost}, en double {twice}")
    engine.dispose()
    return run


def start_gunicorn(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url,
           "GUICHET_SECRET_KEY": secrets.token_hex(32), "GUICHET_BASE_URL": f"http://127.0.0.1:{port}",
           "GUICHET_PROXY_HOPS": "1", "GUICHET_LOG_LEVEL": "WARNING", "GUICHET_ALLOWED_HOSTS": "127.0.0.1"}
    process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
        [sys.executable, "-m", "gunicorn", "-w", "3", "-k", "gthread", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500:
                return process
        except requests.RequestException:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("gunicorn n'a pas démarré.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="requests in the database (default 20000)")
    parser.add_argument("--users", default="10,50", help="simultaneous users (default 10,50)")
    parser.add_argument("--requests", type=int, default=400, help="requests per run without think time")
    parser.add_argument("--think-seconds", type=float, default=30, help="length of a run with think time")
    parser.add_argument("--seconds-without-think", type=float, default=0,
                        help="length of a run without think time (default: --requests requests instead)")
    parser.add_argument("--pages", default="soumission MT,suivi,file coordination,boîte médecin")
    args = parser.parse_args(argv)
    user_counts = [int(u) for u in args.users.split(",")]
    cluster = PrivateCluster("shared_preload_libraries=pg_stat_statements")
    gunicorn = None
    try:
        cluster.start()
        url = migrate.create_postgres_database(cluster.url(), "guichet_load")
        migrate.upgrade(url)
        with make_engine(url).begin() as conn:
            conn.execute(text("CREATE EXTENSION pg_stat_statements"))
        started = time.perf_counter()
        tokens, staff, doctors = prepare(url, args.n, max(user_counts))
        print(f"PostgreSQL privé (port {cluster.port}) : {args.n} demandes, {INBOX} propositions par médecin, "
              f"{len(staff)} coordinateurs, préparés en {time.perf_counter() - started:.0f} s ; "
              "gunicorn -w 3 -k gthread --threads 4 ; machine à 2 cœurs.")
        port = free_port()
        gunicorn = start_gunicorn(url, port)
        world = World(f"http://127.0.0.1:{port}", tokens, staff, doctors, queue_filters(url))
        print("p50/p95/p99 en ms ; CPU app / CPU db : ms de processeur par requête (gunicorn, PostgreSQL) ; "
              "db ms : temps passé dans PostgreSQL par requête (pg_stat_statements).")
        print(HEADER, flush=True)
        for page in args.pages.split(","):
            for users in user_counts:
                for think in (True, False):
                    run = play(world, page, users, think, total=args.requests, seconds=args.think_seconds,
                               seconds_without_think=args.seconds_without_think, gunicorn_pid=gunicorn.pid,
                               cluster=cluster, db_url=url)
                    print(run.line(), flush=True)
                    if run.check:
                        print(run.check, flush=True)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(30)
        cluster.stop()


if __name__ == "__main__":
    main()
