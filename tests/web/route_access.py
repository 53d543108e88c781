"""Who may open each route, and which object its URL names: the one table the access matrix reads.

Every rule of ``app.url_map`` is checked (tests/web/test_access_matrix.py). A new route gets
its audience from its URL prefix; a route whose audience differs, or a URL argument not listed
in ARGUMENTS, must be declared here, or the matrix fails and says so.
"""

from __future__ import annotations

#: audience of a URL, by its longest matching prefix
PREFIX_AUDIENCE = [
    ("/coordination/admin", "admin"),
    ("/coordination/", "staff"),
    ("/medecin/", "doctor"),
    ("/partenaire/", "partner"),
    ("/compte/", "signed_in"),
    ("/api/", "public"),
    ("/", "public"),
]

#: endpoints whose audience is not the one of their prefix
ENDPOINT_AUDIENCE: dict[str, str] = {"staff.simulation_apply": "admin", "staff.job_run_now": "admin"}

#: GET routes that answer 400 to their own audience without the form they are sent by GET
GET_NEEDS_FORM = {"staff.simulation_export"}

#: URL argument -> key of the value in the matrix's world (objects of territory A, GP A)
ARGUMENTS = {
    "request_id": "request",
    "run_id": "run",
    "proposal_id": "proposal",
    "notification_id": "letter",
    "doctor_id": "doctor",
    "user_id": "invited_user",
    "slot_id": "slot",
    "pattern_id": "pattern",
    "sha": "sha",
    "token": "token",
    "kind": "kind",
    "slug": "slug",
    "answer": "answer",
    "filename": "filename",
    "job_id": "job",
    "partner_id": "partner",
    "key_id": "api_key",
    "referral_id": "referral",
}

#: arguments that name a record: another territory's staff (another GP) must get a 404
OBJECT_ARGUMENTS = {"request_id", "run_id", "proposal_id", "notification_id", "doctor_id", "user_id",
                    "slot_id", "pattern_id", "sha", "partner_id", "key_id", "referral_id"}

#: the scope an API key needs per API endpoint: "read" unless listed; None: no key at all
API_KEY_SCOPES: dict[str, str | None] = {"api.health": None, "api.create_referral": "write"}

#: endpoints the sweep and the matrix do not post to (they end the session under test)
LAST = {"auth.logout"}


def api_key_scope(endpoint: str) -> str | None:
    return API_KEY_SCOPES.get(endpoint, "read")


def audience(rule: str, endpoint: str) -> str:
    if endpoint in ENDPOINT_AUDIENCE:
        return ENDPOINT_AUDIENCE[endpoint]
    return next(who for prefix, who in PREFIX_AUDIENCE if rule.startswith(prefix))
