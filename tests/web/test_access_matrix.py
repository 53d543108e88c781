"""The route × role × object matrix, derived from ``app.url_map``: no route escapes it.

For every rule and method, every role (anonymous, the GP, another GP of the territory, staff
and admin of the territory, staff and admin of another territory) opens the URL filled with
the territory's objects (tests/web/route_access.py says which). The answer must match the
route's audience: the sign-in page for anonymous, 403 for a wrong role, 404 for someone
else's object, a real page for the owner, never a server error. The figure printed at the
end (-s) is the number of cells checked.
"""

from __future__ import annotations

import hashlib
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from guichet.accounts import users
from guichet.doctors import slot_patterns
from guichet.messaging import notifications
from guichet.models import MatchingRun, Partner, Proposal
from guichet.partners import api_keys, referrals
from guichet.requests import intake
from tests.factories import login
from tests.web import route_access
from tests.web.test_health import every_job_ran

ROLES = ["anonymous", "doctor", "other_doctor", "partner", "other_partner", "staff", "admin", "other_staff",
         "other_admin"]
CSV = "nom;prénom;date de naissance;code postal;commune\r\nDurand;Hélène;14/03/1948;26190;Bouvante\r\n".encode()
SHA = hashlib.sha256(CSV).hexdigest()


def routes(app):
    """(rule, endpoint, method) for every rule of the application, GETs first."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda item: (item[1] != "GET", item[0].endpoint in route_access.LAST, item[0].rule))


@pytest.fixture
def world(app, factory, db, now, tmp_path):
    """Territory A with one object of each kind (owned by GP A), territory B empty; `make(role)`."""
    app.instance_path = str(tmp_path)
    a, b = factory.territory(), factory.territory()
    doctor = factory.doctor(territory=a)
    patient = factory.patient(a, address="12 chemin des Prés", contact_preference="letter")
    req = factory.request(patient, status="waiting")
    run = MatchingRun(territory_id=a.id, kind="mt", started_dt=now, finished_dt=now)
    db.add(run)
    db.flush()
    proposal = Proposal(request=req, doctor=doctor, status="sent", created_dt=now, sent_dt=now, run=run)
    db.add(proposal)
    letter = notifications.enqueue(
        db, template="request_expired_no_answer", subject="Votre demande est close", dedup_key="matrix:letter",
        now=now, email=None, request_id=req.id, territory_id=a.id,
        context={"first_names": patient.first_names, "reference": req.reference, "territory_name": a.name})
    invited = users.create_user(db, email="invitee@cpts.fr", full_name="Invitée", role="staff", now=now,
                                territory_id=a.id)
    slot = factory.slot(doctor)
    pattern = slot_patterns.add_weekly(db, doctor, weekdays=[2], start=time(9, 0), minutes=20, count=1,
                                       until=now.date() + timedelta(days=30), now=now)[0].pattern
    partner = factory.partner(territory=a)
    api_key = api_keys.create_key(db, partner, label="Logiciel", scope="write", now=now, by_id=None).key
    referral = referrals.submit_referral(
        db, partner, intake.MtRequestData(
            birth_name="Adressé", first_names="Paul", birth_date=date(1950, 1, 2), sex="M", phone="+33612345678",
            postal_code="26190", commune_insee="26223", proxy_name="Liaison", proxy_phone="+33475000000",
            is_consented=True),
        referrals.Urgency(fragility_reason="stroke", target_delay_days=7), now=now, base_url="http://x")
    store = Path(tmp_path) / "imports"
    store.mkdir()
    (store / f"{a.id}-{SHA}.csv").write_bytes(CSV)
    db.flush()
    every_job_ran(db, now)  # a live scheduler: /api/v1/health answers 200
    values = {
        "request": req.id, "run": run.id, "proposal": proposal.id, "letter": letter.id, "doctor": doctor.id,
        "invited_user": invited.id, "slot": slot.id, "pattern": pattern.id, "sha": SHA, "token": req.tracking_token, "kind": "mt",
        "slug": "x", "answer": "oui", "filename": "guichet.css", "job": "delivery", "partner": partner.id, "api_key": api_key.id,
        "referral": referral.id,
    }

    def make(role):
        if role == "doctor":
            return factory.user("doctor", doctor=doctor)
        if role == "other_doctor":
            return factory.user("doctor", doctor=factory.doctor(territory=a))
        if role in ("partner", "other_partner"):  # another organisation of the same territory
            return factory.user("partner", territory=a, partner=partner if role == "partner" else None)
        home = b if role.startswith("other_") else a
        return factory.user(role.removeprefix("other_"), home)

    return make, values


def url_for_rule(rule, values):
    missing = [arg for arg in rule.arguments if arg not in route_access.ARGUMENTS]
    assert not missing, (f"{rule.rule}: declare how to fill {missing} in tests/web/route_access.py "
                         "(ARGUMENTS, and OBJECT_ARGUMENTS if it names a record)")
    filled = {arg: values[route_access.ARGUMENTS[arg]] for arg in rule.arguments}
    return rule.build(filled)[1]


def expected(audience, role, is_object):
    """The set of acceptable statuses, or "allowed" for the route's own audience."""
    if audience == "public":
        return "public"
    if role == "anonymous":
        return "login"
    role_kind = role.removeprefix("other_")
    allowed_roles = {"staff": {"staff", "admin"}, "admin": {"admin"}, "doctor": {"doctor"},
                     "partner": {"partner"}, "signed_in": {"staff", "admin", "doctor", "partner"}}[audience]
    if role_kind not in allowed_roles:
        return {403}
    if role.startswith("other_") and is_object:
        return {404}
    return "allowed"


def check(response, want, method):
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    location = response.headers.get("Location", "")
    if want == "public":
        return None if status != 403 else "403 on a public page"
    if want == "login":
        return None if status == 302 and "/connexion" in location else f"{status} instead of the sign-in page"
    if want == "allowed":
        if status in (401, 403) or "/connexion" in location:
            return f"{status} for the route's own audience"
        if method == "GET" and status not in (200, 302):
            return f"{status} on GET for the route's own audience"
        return None
    return None if status in want else f"{status} instead of {sorted(want)}"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_declared(app, client, world, role):
    make, values = world
    if role != "anonymous":
        login(client, make(role))
    failures, cells = [], 0
    for rule, method in routes(app):
        if rule.endpoint in route_access.LAST:
            continue
        path = url_for_rule(rule, values)
        is_object = bool(set(rule.arguments) & route_access.OBJECT_ARGUMENTS)
        want = expected(route_access.audience(rule.rule, rule.endpoint), role, is_object)
        response = client.get(path) if method == "GET" else client.post(path, data={})
        cells += 1
        if want == "allowed" and response.status_code == 400 and rule.endpoint in route_access.GET_NEEDS_FORM:
            continue
        problem = check(response, want, method)
        if problem:
            failures.append(f"{role} {method} {rule.rule}: {problem}")
    print(f"\naccess matrix, {role}: {cells} cells checked")
    assert cells > 80
    assert not failures, "\n".join(failures)


API_KEYS = ["none", "revoked", "read", "write", "other_organisation", "other_territory"]


@pytest.mark.parametrize("key", API_KEYS)
def test_every_api_route_answers_each_key_as_declared(app, client, db, factory, world, now, key):
    """API keys: none or revoked → 401, read on a write route → 403, another organisation's
    referral → 404, never a server error; the scope each route needs is in route_access."""
    make, values = world
    partner = db.get(Partner, values["partner"])
    owner = {"other_organisation": factory.partner(territory=partner.territory),
             "other_territory": factory.partner()}.get(key, partner)
    headers = {}
    if key != "none":
        new = api_keys.create_key(db, owner, label="Matrice", scope="read" if key == "read" else "write", now=now,
                                  by_id=None)
        if key == "revoked":
            api_keys.revoke_key(db, new.key, now=now, by_id=None)
        headers = {"Authorization": f"Bearer {new.secret}"}
    failures, cells = [], 0
    for rule, method in routes(app):
        if not rule.endpoint.startswith("api."):
            continue
        path = url_for_rule(rule, values)
        response = client.get(path, headers=headers) if method == "GET" else client.post(path, json={},
                                                                                          headers=headers)
        cells += 1
        scope = route_access.api_key_scope(rule.endpoint)
        status = response.status_code
        if scope is None or key in ("read", "write") or key.startswith("other_"):
            want = {403} if scope == "write" and key == "read" else None
            if set(rule.arguments) & route_access.OBJECT_ARGUMENTS and key.startswith("other_"):
                want = {404}
        else:
            want = {401}
        if status >= 500 or (want and status not in want) or (not want and status in (401, 403)):
            failures.append(f"{key} {method} {rule.rule}: {status} (expected {sorted(want) if want else 'allowed'})")
        elif status >= 400:
            assert response.content_type == "application/problem+json", (rule.rule, status)
    print(f"\nAPI key matrix, {key}: {cells} cells checked")
    assert cells >= 6
    assert not failures, "\n".join(failures)
