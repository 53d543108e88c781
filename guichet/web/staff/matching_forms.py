"""Forms of the matching, SNP board and arbitration pages (shape only; rules are in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, SubmitField
from wtforms.validators import DataRequired


def _id(value: object) -> int:
    """An id from the form, or 0 (refused by DataRequired with a French message)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else 0




class SelectionForm(FlaskForm):
    proposal_ids = SelectMultipleField("Propositions sélectionnées", coerce=int, validate_choice=False)
    approve_all = SubmitField("Valider toutes les propositions")
    approve_selected = SubmitField("Valider la sélection")

    def validate_proposal_ids(self, field: SelectMultipleField) -> None:
        if self.approve_selected.data and not field.data:
            from wtforms.validators import ValidationError

            raise ValidationError("Cochez au moins une proposition à valider.")


class ReassignForm(FlaskForm):
    # the service checks the choice (territory, exclusion, places) and says why in French
    doctor_id = SelectField("Médecin choisi", coerce=_id, validate_choice=False,
                            validators=[DataRequired("Choisissez un médecin dans la liste.")],
                            description="Seuls les médecins de votre territoire ayant des places déclarées "
                                        "et non exclus pour ce patient sont proposés, du plus proche au plus loin.")


class SlotBookForm(FlaskForm):
    slot_id = SelectField("Créneau", coerce=_id, validate_choice=False,
                          validators=[DataRequired("Choisissez un créneau.")])


class SnpConfirmForm(FlaskForm):
    pairs = SelectMultipleField("Réservations à confirmer", validate_choice=False)

    def validate_pairs(self, field: SelectMultipleField) -> None:
        from wtforms.validators import ValidationError

        if not field.data:
            raise ValidationError("Cochez au moins une réservation à confirmer.")
        for value in field.data:
            left, _, right = str(value).partition("-")
            if not (left.isdigit() and right.isdigit() and len(value) < 24):
                raise ValidationError("La sélection envoyée n'est pas valide : rechargez la page.")

    def pair_values(self) -> list[tuple[int, int]]:
        return [(int(v.partition("-")[0]), int(v.partition("-")[2])) for v in self.pairs.data]
