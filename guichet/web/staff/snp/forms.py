"""Forms of the same-day care board (shape only; the rules are in guichet.assignment.snp_board)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import DataRequired

from guichet.web.forms import coerce_id


class SlotBookForm(FlaskForm):
    slot_id = SelectField("Créneau", coerce=coerce_id, validate_choice=False,
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
        return [(int(v.partition("-")[0]), int(v.partition("-")[2])) for v in self.pairs.data or []]
