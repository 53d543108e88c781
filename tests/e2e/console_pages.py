"""Every GET page of the console, the GP portal and the sign-in pages, with how to reach it.

The inventory is derived from the application's url_map: a new GET route that is neither
listed in PAGES nor in NOT_PAGES makes tests/web/test_page_inventory.py fail, so every new
page is also visited by the browser test (tests/e2e/test_every_page.py): axe, no
horizontal scrolling at 1,280 px.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import users
from guichet.assignment import arbitration, proposals, runs
from guichet.demo import ADMIN_EMAIL, DEMO_PASSWORD, PARTNER_EMAIL, load_demo
from guichet.doctors import slot_patterns
from guichet.models import Doctor, Notification, PatientRequest, Proposal, Slot, SlotPattern, User
from guichet.partners import referrals
from guichet.requests import intake

#: blueprints whose pages are checked elsewhere (tests/e2e/test_accessibility.py) or are not HTML
ELSEWHERE = {"public", "api", "static", "api-docs"}

#: GET routes that are not pages a person reads, with why
NOT_PAGES = {
    "staff.request_export": "CSV download",
    "staff.waiting_export": "CSV download",
    "staff.indicators_export": "CSV download",
    "staff.annual_report_export": "CSV download",
    "staff.simulation_export": "CSV download",
    "metrics": "Prometheus text for monitoring, behind a token (tests/web/test_metrics.py)",
    "auth.login_code": "reached only between the password and the code: axe and 1280 px checked by "
                       "tests/e2e/test_two_factor.py",
}


@dataclass
class Ids:
    """Records of the prepared demo that the pages need in their URL."""

    request_id: int = 0
    run_id: int = 0
    doctor_id: int = 0
    doctor_email: str = ""
    proposal_id: int = 0
    accepted_id: int = 0
    slot_id: int = 0
    letter_id: int = 0
    import_sha: str = ""
    invitation: str = ""
    reset: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    #: who opens it: "admin" (the staff console, administration included), "doctor", "partner" or "anonymous"
    role: str
    args: Callable[[Ids], dict[str, Any]] = lambda ids: {}
    #: extra query string (e.g. a filter that must keep the page usable)
    query: str = ""


PAGES: dict[str, Page] = {
    # sign-in pages
    "auth.login": Page("anonymous"),
    "auth.forgot_password": Page("anonymous"),
    "auth.reset_password": Page("anonymous", lambda ids: {"token": ids.reset}),
    "auth.accept_invitation": Page("anonymous", lambda ids: {"token": ids.invitation}),
    # staff console
    "staff.dashboard": Page("admin"),
    "staff.request_list": Page("admin"),
    "staff.to_contact": Page("admin"),
    "staff.request_detail": Page("admin", lambda ids: {"request_id": ids.request_id}),
    "staff.request_edit": Page("admin", lambda ids: {"request_id": ids.request_id}),
    "staff.new_mt_request": Page("admin"),
    "staff.new_snp_request": Page("admin"),
    "staff.intake_done": Page("admin", lambda ids: {"request_id": ids.request_id}),
    "staff.import_upload": Page("admin"),
    "staff.import_preview": Page("admin", lambda ids: {"sha": ids.import_sha}),
    "staff.matching_home": Page("admin"),
    "staff.matching_review": Page("admin", lambda ids: {"run_id": ids.run_id}),
    "staff.matching_confirm_all": Page("admin", lambda ids: {"run_id": ids.run_id}),
    "staff.matching_reassign": Page("admin", lambda ids: {"request_id": ids.request_id}),
    "staff.waiting_home": Page("admin"),
    "staff.simulation": Page("admin", query="?days=120&seed=2&waiting_guarantee_days=120&default_patient_km=15&weight_ald=300"
                             "&weight_age_70=200&weight_css=150&weight_pregnancy=150&weight_hospital_discharge=150"
                             "&weight_disability=100&weight_previous_mt_left=50&weight_per_day_waited=1"),
    "staff.snp_home": Page("admin"),
    "staff.appointments": Page("admin"),
    "staff.indicators_home": Page("admin"),
    "staff.annual_report": Page("admin"),
    "staff.doctor_list": Page("admin"),
    "staff.doctor_new": Page("admin"),
    "staff.doctor_detail": Page("admin", lambda ids: {"doctor_id": ids.doctor_id}),
    "staff.doctor_practice": Page("admin", lambda ids: {"doctor_id": ids.doctor_id}),
    "staff.jobs_overview": Page("admin"),
    "staff.letters": Page("admin"),
    "staff.letter_print": Page("admin", lambda ids: {"notification_id": ids.letter_id}),
    "staff.letters_print_all": Page("admin"),
    "staff.sent_messages": Page("admin"),
    "staff.admin_users": Page("admin"),
    "auth.two_factor": Page("admin"),
    "staff.admin_settings": Page("admin"),
    "staff.admin_invite": Page("admin"),
    "staff.admin_partners": Page("admin"),
    "staff.admin_partner": Page("admin", lambda ids: {"partner_id": ids.extra["partner_id"]}),
    # partner portal and the API's documentation
    "partners.home": Page("partner"),
    "partners.new_referral": Page("partner"),
    "partners.new_snp_referral": Page("partner"),
    "partners.referral_detail": Page("partner", lambda ids: {"referral_id": ids.extra["referral_id"]}),
    "apidocs.docs": Page("anonymous"),
    # GP portal
    "doctors.home": Page("doctor"),
    "doctors.proposal": Page("doctor", lambda ids: {"proposal_id": ids.proposal_id}),
    "doctors.availability": Page("doctor"),
    "doctors.practice": Page("doctor"),
    "doctors.slots_page": Page("doctor"),
    "doctors.cancel_slot": Page("doctor", lambda ids: {"slot_id": ids.slot_id}),
    "doctors.add_one_off": Page("doctor"),
    "doctors.add_weekly": Page("doctor"),
    "doctors.edit_pattern": Page("doctor", lambda ids: {"pattern_id": ids.extra["pattern_id"]}),
    "doctors.remove_pattern": Page("doctor", lambda ids: {"pattern_id": ids.extra["pattern_id"]}),
}


def get_endpoints(app: Flask) -> set[str]:
    """Endpoints of the app answering GET, outside the blueprints checked elsewhere."""
    return {
        rule.endpoint for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and rule.endpoint.split(".")[0] not in ELSEWHERE
        and rule.endpoint not in ELSEWHERE
    }


def uncovered(app: Flask) -> list[str]:
    return sorted(get_endpoints(app) - set(PAGES) - set(NOT_PAGES))


IMPORT_CSV = ("Nom;Nom d'usage;Prénom(s);Date de naissance;Sexe;Adresse;Code postal;Commune;Téléphone;ALD\r\n"
              "Durand;;Hélène;14/03/1948;F;2 rue du Four;26190;Oriol-en-Royans;06 12 34 56 78;oui\r\n"
              "Martin;Petit;Jean;1980-07-01;M;5 place;26190;Bouvante;;non\r\n").encode()


def prepare_demo(db: Session, *, now: datetime, instance_path: str) -> Ids:
    """The demo territory after one run: drafts to review, proposals sent, one accepted, one declined."""
    load_demo(db, now=now)
    admin = db.scalar(select(User).where(User.email == ADMIN_EMAIL))
    assert admin is not None and admin.territory is not None
    territory = admin.territory
    outcome = runs.run_mt(db, territory, now=now, user=admin)
    assert outcome.run is not None
    ids = Ids(run_id=outcome.run.id)
    drafts = list(db.scalars(select(Proposal).where(Proposal.run_id == outcome.run.id).order_by(Proposal.id)))
    # send the proposals of one GP: their inbox has something to decide
    doctor = drafts[0].doctor
    arbitration.approve(db, territory, [p.id for p in drafts if p.doctor_id == doctor.id], user=admin, now=now)
    sent = [p for p in drafts if p.doctor_id == doctor.id]
    assert len(sent) >= 2, "the demo GP needs two proposals"
    sent[0].request.patient.contact_preference = "letter"  # the acceptance is a letter to print
    proposals.accept(db, sent[0], now=now)
    ids.accepted_id = sent[0].id
    ids.proposal_id = sent[1].id
    ids.doctor_id = doctor.id
    ids.doctor_email = doctor.email or ""
    ids.request_id = next(p.request_id for p in drafts if p.status == "proposed")
    slot = db.scalar(select(Slot).where(Slot.doctor_id == doctor.id).order_by(Slot.start_dt))
    if slot is None:
        slot = Slot(doctor=doctor, start_dt=now + timedelta(days=2), end_dt=now + timedelta(days=2, minutes=20),
                    created_dt=now)
        db.add(slot)
        db.flush()
    ids.slot_id = slot.id
    pattern = db.scalar(select(SlotPattern).where(SlotPattern.doctor_id == doctor.id))
    if pattern is None:
        pattern = slot_patterns.add_weekly(db, doctor, weekdays=[3], start=time(8, 0), minutes=20, count=2,
                                           until=(now + timedelta(days=60)).date(), now=now)[0].pattern
    ids.extra["pattern_id"] = pattern.id
    letter = db.scalar(select(Notification).where(Notification.channel == "letter").order_by(Notification.id))
    assert letter is not None, "the demo has no letter to print"
    ids.letter_id = letter.id
    ids.reset = users.issue_token(db, admin, "reset", now=now)
    invited = users.create_user(db, email="invitee@royans-vercors.demo", full_name="Inès Invitée",
                                role="staff", territory_id=territory.id, now=now, password_hash=None)
    ids.invitation = users.issue_token(db, invited, "invitation", now=now)
    sha = hashlib.sha256(IMPORT_CSV).hexdigest()
    store = Path(instance_path) / "imports"
    store.mkdir(parents=True, exist_ok=True)
    (store / f"{territory.id}-{sha}.csv").write_bytes(IMPORT_CSV)
    ids.import_sha = sha
    partner_user = db.scalar(select(User).where(User.email == PARTNER_EMAIL))
    assert partner_user is not None and partner_user.partner is not None
    person = intake.MtRequestData(birth_name="Liaison", first_names="Louise", birth_date=date(1941, 2, 3), sex="F",
                                  phone="+33612345678", postal_code="26190", commune_insee="26223",
                                  proxy_name=partner_user.full_name, proxy_phone="+33475990001", is_consented=True)
    referral = referrals.submit_referral(
        db, partner_user.partner, person, referrals.Urgency(fragility_reason="stroke", target_delay_days=1),
        now=now, base_url="http://guichet.test", user_id=partner_user.id)
    ids.extra.update(partner_id=partner_user.partner_id, referral_id=referral.id)
    assert db.get(Doctor, ids.doctor_id) is not None and db.get(PatientRequest, ids.request_id) is not None
    return ids


LOGINS = {"admin": (ADMIN_EMAIL, DEMO_PASSWORD), "partner": (PARTNER_EMAIL, DEMO_PASSWORD)}
