"""Shapes of the API's inputs and outputs (marshmallow), with French messages."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from guichet import vocabulary
from guichet.partners import referrals
from guichet.requests import validation

LOW, HIGH = referrals.TARGET_DELAY_RANGE


def _one_of(codes: object, what: str) -> validate.OneOf:
    return validate.OneOf(list(codes), error=f"Choisissez {what} parmi : {{choices}}.")  # type: ignore[call-overload]


def _text(max_length: int, *, required: bool = False, description: str = "") -> ma.fields.String:
    return ma.fields.String(
        required=required, allow_none=not required,
        validate=validate.Length(min=1 if required else 0, max=max_length,
                                 error=f"Entre 1 et {max_length} caractères." if required
                                 else f"{max_length} caractères au plus."),
        metadata={"description": description},
    )


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ok, degraded ou error"})
    database = ma.fields.String(required=True, metadata={"description": "ok ou unavailable"})
    scheduler = ma.fields.String(metadata={
        "description": "ok, ou late : une tâche n'a pas démarré depuis deux fois sa période"})
    late_jobs = ma.fields.List(ma.fields.String(), metadata={"description": "Tâches en retard."})
    outbox = ma.fields.String(metadata={
        "description": "ok, ou late : un message à envoyer attend depuis trop longtemps"})
    outbox_due = ma.fields.Integer(metadata={"description": "Messages à envoyer maintenant."})


class AvailabilitySchema(ma.Schema):
    day = ma.fields.String(required=True, validate=_one_of(vocabulary.SNP_DAYS, "le jour"))
    period = ma.fields.String(required=True, validate=_one_of(vocabulary.SNP_PERIODS, "le moment"))


class ReferralInSchema(ma.Schema):
    """A referral for a patient who consented: médecin traitant (mt) or same-day care (snp)."""

    class Meta:
        unknown = ma.RAISE

    kind = ma.fields.String(load_default="mt", validate=_one_of(vocabulary.KIND_LABELS, "le type de demande"),
                            metadata={"description": "mt : médecin traitant ; snp : soins non programmés."})
    snp_category = ma.fields.String(allow_none=True, validate=_one_of(vocabulary.SNP_CATEGORIES, "le motif"),
                                    metadata={"description": "snp : le motif."})
    snp_reason = _text(500, description="snp : le problème en quelques mots.")
    snp_since = ma.fields.String(allow_none=True, validate=_one_of(vocabulary.SNP_SINCE, "depuis quand"),
                                 metadata={"description": "snp : depuis quand."})
    availability = ma.fields.List(ma.fields.Nested(AvailabilitySchema), load_default=list,
                                  metadata={"description": "snp : quand le patient peut aller chez le médecin."})

    birth_name = _text(100, required=True, description="Nom de naissance.")
    usage_name = _text(100, description="Nom d'usage, s'il diffère.")
    first_names = _text(150, required=True, description="Prénoms.")
    birth_date = ma.fields.Date(required=True, metadata={"description": "Date de naissance (AAAA-MM-JJ)."})
    sex = ma.fields.String(required=True, validate=_one_of(vocabulary.SEXES, "le sexe"))
    phone = _text(20, description="Téléphone du patient.")
    email = _text(254, description="E-mail du patient.")
    address = _text(250, description="Adresse postale du patient.")
    postal_code = _text(10, required=True, description="Code postal.")
    commune_insee = ma.fields.String(required=True, validate=validate.Regexp(
        r"^[0-9][0-9AB][0-9]{3}$", error="Un code INSEE de commune à 5 caractères est attendu."))
    contact_preference = ma.fields.String(load_default="phone",
                                          validate=_one_of(vocabulary.CONTACT_PREFERENCES, "le moyen de contact"))
    referrer_name = _text(150, required=True, description="Nom de la personne qui adresse le patient.")
    referrer_phone = _text(20, required=True, description="Téléphone où la coordination joint l'équipe.")
    referrer_email = _text(254, description="E-mail de l'équipe.")
    is_ald = ma.fields.Boolean(load_default=False)
    is_css = ma.fields.Boolean(load_default=False)
    is_pregnant = ma.fields.Boolean(load_default=False)
    is_disabled = ma.fields.Boolean(load_default=False)
    discharge_date = ma.fields.Date(allow_none=True, metadata={"description": "Date de sortie d'hospitalisation."})
    fragility_reason = ma.fields.String(allow_none=True, validate=_one_of(vocabulary.FRAGILITY_REASONS,
                                                                          "la fragilité"))
    target_delay_days = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(
        LOW, HIGH, error=f"Un nombre de jours entre {LOW} et {HIGH}."))
    max_km = ma.fields.Integer(load_default=10, strict=True, validate=_one_of(validation.FORM_RADIUS_CHOICES_KM,
                                                                             "la distance"))
    needs_home_visit = ma.fields.Boolean(load_default=False)
    needs_step_free = ma.fields.Boolean(load_default=False)
    patient_consent = ma.fields.Boolean(required=True, metadata={
        "description": "true : le patient a donné son accord (obligatoire)."})


class ReferralOutSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "mt ou snp"})
    status = ma.fields.String(required=True, metadata={"description": "Code du statut de la demande."})
    status_label = ma.fields.String(required=True, metadata={"description": "Le statut, en français."})
    is_gp_found = ma.fields.Boolean(required=True, metadata={"description": "Un médecin est trouvé."})
    created = ma.fields.DateTime(required=True)
    discharge_date = ma.fields.Date(allow_none=True)
    fragility_reason = ma.fields.String(allow_none=True)
    target_delay_days = ma.fields.Integer(allow_none=True)
    target = ma.fields.DateTime(allow_none=True, metadata={"description": "Échéance du délai cible."})


class ReferralPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReferralOutSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "À passer en « cursor » pour la page suivante ; null à la fin."})


class PageArgsSchema(ma.Schema):
    cursor = ma.fields.String(validate=validate.Regexp(r"^[0-9]{1,12}$", error="Curseur invalide."))
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(1, 200, error="Entre 1 et 200."))


class WaitingRowSchema(ma.Schema):
    insee = ma.fields.String(required=True, metadata={"description": "Code INSEE ; vide pour « autres communes »."})
    commune = ma.fields.String(required=True)
    prioritaire = ma.fields.String(required=True, metadata={"description": "Nombre, ou « moins de 5 »."})
    non_prioritaire = ma.fields.String(required=True)
    total = ma.fields.String(required=True)


class WaitingListSchema(ma.Schema):
    territory_name = ma.fields.String(required=True)
    published = ma.fields.DateTime(required=True)
    rows = ma.fields.List(ma.fields.Nested(WaitingRowSchema), required=True)
    totals = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    median_wait_days = ma.fields.Integer(allow_none=True, required=True)


class YearArgsSchema(ma.Schema):
    year = ma.fields.Integer(validate=validate.Range(2000, 2100, error="Une année entre 2000 et 2100."))


class MonthSchema(ma.Schema):
    month = ma.fields.String(required=True, metadata={"description": "AAAA-MM"})
    received_mt = ma.fields.Integer(required=True)
    received_snp = ma.fields.Integer(required=True)
    placed = ma.fields.Integer(required=True)
    placed_ald = ma.fields.Integer(required=True)
    placed_70 = ma.fields.Integer(required=True)
    placed_css = ma.fields.Integer(required=True)
    median_days_to_proposal = ma.fields.Float(allow_none=True, required=True)
    median_days_to_acceptance = ma.fields.Float(allow_none=True, required=True)
    declined = ma.fields.Integer(required=True)
    snp_handled = ma.fields.Integer(required=True)
    slots_offered = ma.fields.Integer(required=True)
    slots_used = ma.fields.Integer(required=True)
    capacity_declared = ma.fields.Integer(required=True)
    fragile_referred = ma.fields.Integer(required=True)
    fragile_found_in_time = ma.fields.Integer(required=True)


class IndicatorsSchema(ma.Schema):
    year = ma.fields.Integer(required=True)
    months = ma.fields.List(ma.fields.Nested(MonthSchema), required=True)


class SlotArgsSchema(ma.Schema):
    start = ma.fields.AwareDateTime(metadata={"description": "Début de la fenêtre (par défaut : maintenant)."})
    days = ma.fields.Integer(load_default=7, validate=validate.Range(1, 31, error="Entre 1 et 31 jours."))


class FhirBundleSchema(ma.Schema):
    """A FHIR R4 Bundle of type searchset (Slot, Schedule, Practitioner)."""

    class Meta:
        unknown = ma.INCLUDE

    resourceType = ma.fields.String(required=True)  # noqa: N815 (the FHIR element's name)
    type = ma.fields.String(required=True)
    total = ma.fields.Integer(required=True)
    entry = ma.fields.List(ma.fields.Dict(), required=True)
