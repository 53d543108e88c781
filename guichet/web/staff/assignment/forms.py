"""Forms of the matching review and arbitration pages (shape only; the rules are in guichet.assignment)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectMultipleField, SubmitField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from guichet.assignment.priority import DEFAULT_WEIGHTS
from guichet.web.forms import coerce_id
from guichet.web.staff.admin.forms import range_field, weight_field


class SelectionForm(FlaskForm):
    proposal_ids = SelectMultipleField("Propositions sélectionnées", coerce=int, validate_choice=False)
    approve_all = SubmitField("Valider toutes les propositions")
    approve_selected = SubmitField("Valider la sélection")
    #: set by the confirmation page of "approve all"
    confirmed = HiddenField()

    def validate_proposal_ids(self, field: SelectMultipleField) -> None:
        if self.approve_selected.data and not field.data:
            from wtforms.validators import ValidationError

            raise ValidationError("Cochez au moins une proposition à valider.")


class ApproveAllForm(FlaskForm):
    """The next batch of an "approve all" job: its signed state (guichet/web/staff/assignment/approve_all.py)."""

    state = HiddenField(validators=[DataRequired("L'état de l'envoi manque : revenez à la campagne.")])


class ReassignForm(FlaskForm):
    # the service checks the choice (territory, exclusion, places) and says why in French
    doctor_id = RadioField("Médecin choisi", coerce=coerce_id, validate_choice=False,
                           validators=[DataRequired("Choisissez un médecin dans la liste.")],
                           description="Seuls les médecins de votre territoire ayant encore une place "
                                       "(propositions en attente comprises) et non exclus pour ce patient "
                                       "sont proposés, du plus proche au plus loin.")


class ApplyRulesForm(FlaskForm):
    """The proposed rules: priority weights, waiting-time guarantee, default distance (what an admin may apply)."""

    waiting_guarantee_days = range_field("waiting_guarantee_days")
    default_patient_km = range_field("default_patient_km")

    def weight_fields(self) -> list[object]:
        return [getattr(self, f"weight_{k}") for k in DEFAULT_WEIGHTS]


for _key in DEFAULT_WEIGHTS:
    setattr(ApplyRulesForm, f"weight_{_key}", weight_field(_key))


class SimulationForm(ApplyRulesForm):
    """The simulation's inputs, sent by GET: it computes and changes nothing."""

    class Meta:
        csrf = False

    days = IntegerField("Durée simulée (jours)", default=365,
                        validators=[InputRequired("Indiquez une durée en jours."),
                                    NumberRange(30, 730, "Indiquez une durée entre 30 et 730 jours.")])
    seed = IntegerField("Graine du tirage", default=1,
                        description="La même graine redonne les mêmes arrivées, donc les mêmes chiffres.",
                        validators=[InputRequired("Indiquez un nombre entier."),
                                    NumberRange(0, 999_999, "Indiquez un nombre entre 0 et 999 999.")])
