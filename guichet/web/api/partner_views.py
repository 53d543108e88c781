"""API v1 for the partners' software: referrals, anonymous figures, FHIR slots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, current_app, json, url_for
from flask.typing import ResponseReturnValue

from guichet.messaging import publication
from guichet.models import ApiScope, Referral
from guichet.partners import fhir_slots, referrals
from guichet.reporting import indicators
from guichet.requests import intake
from guichet.timeutil import paris_today
from guichet.web.api.blueprint import bp
from guichet.web.api.keys import current_key, key_required
from guichet.web.api.problems import fail, problem
from guichet.web.api.schemas import (
    FhirBundleSchema,
    IndicatorsSchema,
    PageArgsSchema,
    ReferralInSchema,
    ReferralOutSchema,
    ReferralPageSchema,
    SlotArgsSchema,
    WaitingListSchema,
    YearArgsSchema,
)
from guichet.web.session import get_session, request_now

SECURITY: list[dict[str, list[str]]] = [{"cle_api": []}]
#: intake's field names → the API's
_FIELD_NAMES = {"proxy_name": "referrer_name", "proxy_phone": "referrer_phone", "proxy_email": "referrer_email",
                "hospital_discharge_date": "discharge_date", "is_consented": "patient_consent"}


def _documented(*codes: int) -> Callable[[Any], Any]:
    """Document the key requirement and the problem answers an operation may give."""

    def decorator(view: Any) -> Any:
        for code in codes:
            view = bp.alt_response(code, response=_RESPONSE_NAMES[code])(view)
        return bp.doc(security=SECURITY)(view)

    return decorator


_RESPONSE_NAMES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
                   429: "TOO_MANY_REQUESTS"}


def _referral_out(referral: Referral) -> dict[str, Any]:
    request = referral.request
    return {
        "id": referral.id, "reference": request.reference, "kind": request.kind, "status": request.status,
        "status_label": referrals.partner_status(referral),
        "is_gp_found": request.status in referrals.FOUND_STATUSES,
        "created": referral.created_dt, "discharge_date": referral.discharge_date,
        "fragility_reason": referral.fragility_reason, "target_delay_days": referral.target_delay_days,
        "target": referral.target_dt,
    }


@bp.route("/referrals", methods=["POST"])
@key_required(ApiScope.WRITE)
@bp.arguments(ReferralInSchema)
@bp.response(201, ReferralOutSchema, description="La demande est enregistrée et transmise à la coordination.")
@_documented(401, 403, 409, 429)
def create_referral(body: dict[str, Any]) -> ResponseReturnValue:
    """Adresser un patient, pour un médecin traitant ou des soins non programmés (clé en écriture)."""
    key = current_key()
    common: dict[str, Any] = dict(
        birth_name=body["birth_name"], usage_name=body.get("usage_name"), first_names=body["first_names"],
        birth_date=body["birth_date"], sex=body["sex"], phone=body.get("phone"), email=body.get("email"),
        address=body.get("address"), postal_code=body["postal_code"], commune_insee=body["commune_insee"],
        contact_preference=body["contact_preference"], filled_by="professional",
        proxy_name=body["referrer_name"], proxy_phone=body["referrer_phone"], proxy_email=body.get("referrer_email"),
        is_consented=bool(body["patient_consent"]),
    )
    person: intake.MtRequestData | intake.SnpRequestData
    if body["kind"] == "snp":
        person = intake.SnpRequestData(
            **common, snp_category=body.get("snp_category") or "", snp_reason=body.get("snp_reason") or "",
            snp_since=body.get("snp_since") or "",
            availability=[(a["day"], a["period"]) for a in body["availability"]])
    else:
        person = intake.MtRequestData(
            **common, is_ald=body["is_ald"], is_css=body["is_css"], is_pregnant=body["is_pregnant"],
            is_disabled=body["is_disabled"], max_km=body["max_km"], needs_home_visit=body["needs_home_visit"],
            needs_step_free=body["needs_step_free"])
    urgency = referrals.Urgency(discharge_date=body.get("discharge_date"),
                                fragility_reason=body.get("fragility_reason"),
                                target_delay_days=body.get("target_delay_days"))
    db = get_session()
    try:
        referral = referrals.submit_referral(db, key.partner, person, urgency, now=request_now(),
                                             base_url=current_app.config["BASE_URL"], api_key_id=key.id)
    except intake.InvalidRequest as exc:
        db.rollback()
        errors = {_FIELD_NAMES.get(name, name): [message] for name, message in exc.errors.items()}
        return problem(422, errors=errors)
    except (intake.OutOfTerritory, intake.WrongTerritory) as exc:
        db.rollback()
        return problem(422, errors={"commune_insee": [str(exc)]})
    except intake.DuplicateRequest:
        db.rollback()
        return problem(409, "Une demande est déjà en cours pour ce patient à la CPTS : rien n'a été enregistré.")
    db.commit()
    location = url_for("api.get_referral", referral_id=referral.id)
    return _referral_out(referral), 201, {"Location": location}


@bp.route("/referrals", methods=["GET"])
@key_required(ApiScope.READ)
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, ReferralPageSchema)
@_documented(401, 429)
def list_referrals(args: dict[str, Any]) -> ResponseReturnValue:
    """Les demandes adressées par l'organisation de la clé, les plus récentes d'abord."""
    limit = args["limit"]
    after = int(args["cursor"]) if args.get("cursor") else None
    rows = referrals.for_partner(get_session(), current_key().partner_id, after=after, limit=limit + 1)
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return {"items": [_referral_out(r) for r in rows[:limit]], "next_cursor": next_cursor}


@bp.route("/referrals/<int:referral_id>", methods=["GET"])
@key_required(ApiScope.READ)
@bp.response(200, ReferralOutSchema)
@_documented(401, 404, 429)
def get_referral(referral_id: int) -> ResponseReturnValue:
    """Le statut d'une demande adressée par l'organisation de la clé."""
    referral = referrals.get_for_partner(get_session(), current_key().partner_id, referral_id)
    if referral is None:
        fail(404)
    return _referral_out(referral)


@bp.route("/waiting-list", methods=["GET"])
@key_required(ApiScope.READ)
@bp.response(200, WaitingListSchema)
@_documented(401, 404, 429)
def waiting_list() -> ResponseReturnValue:
    """La liste d'attente anonyme publiée du territoire (petits effectifs masqués, comme la page publique)."""
    row = publication.latest(get_session(), current_key().partner.territory)
    if row is None:
        fail(404, "Aucune liste d'attente n'est encore publiée pour ce territoire.")
    data = row.data
    return {"territory_name": data["territory_name"], "published": row.published_dt, "rows": data["rows"],
            "totals": data["totals"], "median_wait_days": data["median_wait_days"]}


@bp.route("/indicators", methods=["GET"])
@key_required(ApiScope.READ)
@bp.arguments(YearArgsSchema, location="query")
@bp.response(200, IndicatorsSchema)
@_documented(401, 429)
def monthly_indicators(args: dict[str, Any]) -> ResponseReturnValue:
    """Les indicateurs mensuels du territoire pour une année (par défaut l'année en cours)."""
    now = request_now()
    year = args.get("year") or paris_today(now).year
    db = get_session()
    territory = current_key().partner.territory
    months = []
    for fig in indicators.compute(db, territory, year, now=now):
        start, end = referrals.month_bounds(fig.month)
        fragile = referrals.fragile_figures(db, territory.id, start, end)
        months.append({
            "month": fig.month.strftime("%Y-%m"), "received_mt": fig.received_mt, "received_snp": fig.received_snp,
            "placed": fig.placed, "placed_ald": fig.placed_ald, "placed_70": fig.placed_70,
            "placed_css": fig.placed_css, "median_days_to_proposal": fig.median_days_to_proposal,
            "median_days_to_acceptance": fig.median_days_to_acceptance, "declined": fig.declined,
            "snp_handled": fig.snp_handled, "slots_offered": fig.slots_offered, "slots_used": fig.slots_used,
            "capacity_declared": fig.capacity_declared, "fragile_referred": fragile.referred,
            "fragile_found_in_time": fragile.found_in_time,
        })
    return {"year": year, "months": months}


@bp.route("/fhir/Slot", methods=["GET"])
@key_required(ApiScope.READ)
@bp.arguments(SlotArgsSchema, location="query")
@bp.response(200, FhirBundleSchema, content_type="application/fhir+json",
             description="Bundle FHIR R4 « searchset » : les créneaux libres (Slot) et, inclus, leurs "
                         "agendas (Schedule) et médecins (Practitioner, identifiés par leur RPPS).")
@_documented(401, 429)
def fhir_slot_search(args: dict[str, Any]) -> ResponseReturnValue:
    """Les créneaux de soins non programmés libres du territoire, en FHIR R4."""
    start = args.get("start") or request_now()
    bundle = fhir_slots.free_slots_bundle(get_session(), current_key().partner.territory_id, start=start,
                                          end=start + timedelta(days=args["days"]),
                                          base_url=current_app.config["BASE_URL"])
    return Response(json.dumps(bundle, ensure_ascii=False), mimetype="application/fhir+json")
