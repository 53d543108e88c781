"""Partner portal: refer a patient, follow the referrals of one's own organisation, nothing else."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from guichet import vocabulary
from guichet.models import Referral
from guichet.partners import referrals
from guichet.requests import intake
from guichet.web.access import current_partner, current_user_record, load_owned, record_audit
from guichet.web.intake_forms import RED_FLAGS, ready_to_submit
from guichet.web.partners.blueprint import bp
from guichet.web.partners.forms import ReferralForm, SnpReferralForm
from guichet.web.security import partner_required
from guichet.web.session import get_session, request_now

PER_PAGE = 50


@bp.get("/")
@partner_required
def home() -> ResponseReturnValue:
    partner = current_partner()
    after = request.args.get("apres", type=int)
    rows = referrals.for_partner(get_session(), partner.id, after=after, limit=PER_PAGE + 1)
    next_after = rows[PER_PAGE - 1].id if len(rows) > PER_PAGE else None
    return render_template("partners/home.html", partner=partner, rows=rows[:PER_PAGE], next_after=next_after,
                           status=referrals.partner_status, now=request_now())


def _render_form(form: ReferralForm | SnpReferralForm, **extra: object) -> str:
    kind = "snp" if isinstance(form, SnpReferralForm) else "mt"
    return render_template("partners/new_referral.html", form=form, partner=current_partner(), kind=kind,
                           red_flags=RED_FLAGS, **extra)


@bp.route("/adresser", methods=["GET", "POST"])
@partner_required
def new_referral() -> ResponseReturnValue:
    return _refer(ReferralForm())


@bp.route("/adresser/soins-non-programmes", methods=["GET", "POST"])
@partner_required
def new_snp_referral() -> ResponseReturnValue:
    return _refer(SnpReferralForm())


def _refer(form: ReferralForm | SnpReferralForm) -> ResponseReturnValue:
    partner = current_partner()
    user = current_user_record()
    if request.method != "POST":
        return _render_form(form)
    g.no_store = True
    db = get_session()
    outside = "Aucune CPTS de ce service ne couvre ce code postal : le patient doit s'adresser à sa CPAM."
    if not ready_to_submit(form, db, outside=outside):
        return _render_form(form), 422 if form.errors else 200
    person = form.to_data()
    person.proxy_name = user.full_name
    try:
        referral = referrals.submit_referral(db, partner, person, form.urgency(), now=request_now(),
                                             base_url=current_app.config["BASE_URL"], user_id=user.id)
    except intake.InvalidRequest as exc:
        db.rollback()
        form.apply_errors(exc.errors)
        return _render_form(form), 422
    except (intake.OutOfTerritory, intake.WrongTerritory) as exc:
        db.rollback()
        form.commune_insee.errors = [*form.commune_insee.errors, str(exc)]
        return _render_form(form), 422
    except intake.DuplicateRequest:
        db.rollback()
        return _render_form(form, duplicate=True), 409
    record_audit("referral.create", object_type="referral", object_id=referral.id, partner_id=partner.id)
    db.commit()
    flash(f"La demande {referral.request.reference} est transmise à la coordination de la CPTS.", "success")
    return redirect(url_for("partners.referral_detail", referral_id=referral.id))


@bp.get("/adressages/<int:referral_id>")
@partner_required
def referral_detail(referral_id: int) -> ResponseReturnValue:
    referral = load_owned(Referral, referral_id)
    record_audit("referral.view", object_type="referral", object_id=referral.id)
    get_session().commit()
    return render_template("partners/referral.html", referral=referral, status=referrals.partner_status(referral),
                           fragility=vocabulary.FRAGILITY_REASONS, now=request_now())
