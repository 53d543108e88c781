"""Access matrix: every staff route × anonymous, GP, partner, staff of another CPTS, staff, admin."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from guichet.accounts import users
from guichet.models import AuditEvent
from guichet.partners import api_keys
from tests.factories import login

CSV = "nom;prénom;date de naissance;code postal;commune\r\nDurand;Hélène;14/03/1948;26190;Bouvante\r\n".encode()
SHA = hashlib.sha256(CSV).hexdigest()

# (method, path template, form data, admin only, touches one object of the territory)
ROUTES = [
    ("GET", "/coordination/", None, False, False),
    ("GET", "/coordination/demandes", None, False, False),
    ("GET", "/coordination/demandes/export.csv", None, False, False),
    ("GET", "/coordination/a-appeler", None, False, False),
    ("GET", "/coordination/import", None, False, False),
    ("GET", "/coordination/demandes/{req}", None, False, True),
    ("GET", "/coordination/demandes/{req}/modifier", None, False, True),
    ("POST", "/coordination/demandes/{req}/modifier",
     {"birth_name": "Dupont", "first_names": "Marie", "postal_code": "26190", "commune_insee": "26223",
      "contact_preference": "phone", "max_km": "10"}, False, True),
    ("POST", "/coordination/demandes/{req}/qualifier", {"consent": "y"}, False, True),
    ("POST", "/coordination/demandes/{req}/annuler", {"reason": "unreachable"}, False, True),
    ("POST", "/coordination/demandes/{req}/note", {"text": "Rappeler jeudi"}, False, True),
    ("POST", "/coordination/demandes/{req}/appel", {"outcome": "reached"}, False, True),
    ("POST", "/coordination/demandes/{req}/doublon", {"target": "{target_ref}"}, False, True),
    ("GET", "/coordination/import/{sha}", None, False, True),
    ("POST", "/coordination/import/{sha}/confirmer", {"sha256": "{sha}"}, False, True),
    ("GET", "/coordination/admin", None, True, False),
    ("GET", "/coordination/admin/utilisateurs/nouveau", None, True, False),
    ("POST", "/coordination/admin/utilisateurs/nouveau",
     {"full_name": "Nouvelle Personne", "email": "nouvelle@cpts.fr", "role": "staff"}, True, False),
    ("GET", "/coordination/admin/reglages", None, True, False),
    ("POST", "/coordination/admin/utilisateurs/{user}/desactiver", {}, True, True),
    ("POST", "/coordination/admin/utilisateurs/{user}/reactiver", {}, True, True),
    ("POST", "/coordination/admin/utilisateurs/{user}/reinviter", {}, True, True),
    ("GET", "/coordination/admin/partenaires", None, True, False),
    ("POST", "/coordination/admin/partenaires", {"name": "CH de Die", "kind": "hospital"}, True, False),
    ("GET", "/coordination/admin/partenaires/{partner}", None, True, True),
    ("POST", "/coordination/admin/partenaires/{partner}/utilisateurs",
     {"full_name": "Infirmière de liaison", "email": "liaison@ch-die.fr"}, True, True),
    ("POST", "/coordination/admin/partenaires/{partner}/cles", {"label": "Logiciel", "scope": "read"}, True, True),
    ("POST", "/coordination/admin/partenaires/cles/{key}/revoquer", {}, True, True),
    ("POST", "/coordination/admin/partenaires/{partner}/activation", {}, True, True),
]
ROLES = ["anonymous", "doctor", "partner", "other_staff", "other_admin", "staff", "admin"]


@pytest.fixture
def world(app, factory, tmp_path, now, db):
    """One territory with a request, a pending invitation and a stored import file; `make(role)`
    creates only the account under test (password hashing is the slow part)."""
    app.instance_path = str(tmp_path)
    territory = factory.territory()
    other = factory.territory()
    req = factory.request(factory.patient(territory), status="submitted")
    target = factory.request(factory.patient(territory))
    invited = users.create_user(db, email="invitee@cpts.fr", full_name="Invitée", role="staff",
                                   now=now, territory_id=territory.id)
    store = Path(tmp_path) / "imports"
    store.mkdir()
    (store / f"{territory.id}-{SHA}.csv").write_bytes(CSV)

    partner = factory.partner(territory=territory)
    key = api_keys.create_key(db, partner, label="Logiciel", scope="read", now=now, by_id=None).key

    def make(role: str):
        if role == "doctor":
            return factory.user("doctor", territory=territory)
        if role == "partner":
            return factory.user("partner", territory=territory, partner=partner)
        home = other if role.startswith("other_") else territory
        return factory.user(role.removeprefix("other_"), home)

    values = {"req": req.id, "target_ref": target.reference, "sha": SHA, "user": invited.id,
              "partner": partner.id, "key": key.id}
    return make, values, req


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,template,data,admin_only,is_object", ROUTES,
                         ids=[f"{m} {t}" for m, t, *_ in ROUTES])
def test_access_matrix(client, db, world, role, method, template, data, admin_only, is_object):
    make, values, req = world
    if role != "anonymous":
        login(client, make(role))
    path = template.format(**values)
    form = {k: v.format(**values) for k, v in (data or {}).items()}
    response = client.get(path) if method == "GET" else client.post(path, data=form)
    status = response.status_code
    if role == "anonymous":
        assert status == 302 and "/connexion" in response.headers["Location"]
    elif role in ("doctor", "partner"):
        assert status == 403
    elif admin_only and role in ("staff", "other_staff"):
        assert status == 403
    elif role.startswith("other_") and is_object:
        assert status == 404  # another CPTS's object does not exist for them
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")).first()
    else:
        assert status in (200, 302), (status, response.get_data(as_text=True)[:300])
        if status == 302:
            assert "/connexion" not in response.headers["Location"]


def test_another_cpts_list_pages_show_only_their_own_data(client, world):
    make, values, req = world
    login(client, make("other_staff"))
    for path in ("/coordination/demandes?status=all", "/coordination/a-appeler",
                 "/coordination/demandes/export.csv", "/coordination/import"):
        response = client.get(path)
        assert response.status_code == 200
        assert req.reference not in response.get_data(as_text=True)
