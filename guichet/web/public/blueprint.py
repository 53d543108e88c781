"""The public blueprint object, apart so that its route modules import it without a cycle."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from guichet.models import Territory
from guichet.territories.contact import OUT_OF_HOURS_NUMBER, CptsContact, contact_of
from guichet.web.session import discard_session, get_session

bp = Blueprint("public", __name__)


def cpts_contacts() -> list[CptsContact]:
    """Whom a patient can call: the CPTS of the request on a tracking page, else every CPTS that gave a contact."""
    territory: Territory | None = g.get("cpts_territory")
    if territory is not None:
        return [contact_of(territory)]
    try:
        territories = get_session().scalars(select(Territory).order_by(Territory.name)).all()
    except SQLAlchemyError:
        # the error page of a database outage still renders (with the out-of-hours number)
        discard_session()
        return []
    return [c for c in map(contact_of, territories) if c.is_reachable]


@bp.context_processor
def _contact_helpers() -> dict[str, Any]:
    # every patient page shows how to reach the CPTS (footer of base.html)
    return {"cpts_contacts": cpts_contacts, "out_of_hours_number": OUT_OF_HOURS_NUMBER}
