"""Forms of the matching review and arbitration pages (shape only; the rules are in guichet.assignment)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import DataRequired

from guichet.web.forms import coerce_id


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


class ReassignForm(FlaskForm):
    # the service checks the choice (territory, exclusion, places) and says why in French
    doctor_id = SelectField("Médecin choisi", coerce=coerce_id, validate_choice=False,
                            validators=[DataRequired("Choisissez un médecin dans la liste.")],
                            description="Seuls les médecins de votre territoire ayant des places déclarées "
                                        "et non exclus pour ce patient sont proposés, du plus proche au plus loin.")
