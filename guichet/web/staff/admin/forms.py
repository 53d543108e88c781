"""Forms of the territory's administration: accounts and settings (shape only)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from guichet.accounts.staff_admin import STAFF_ROLES
from guichet.assignment.priority import DEFAULT_WEIGHTS
from guichet.territories.contact import CONTACT_SETTINGS
from guichet.territories.settings import BOOLEAN_SETTINGS, NUMERIC_RANGES, TIME_SETTINGS, WEIGHT_LABELS, WEIGHT_RANGE
from guichet.web.fields import choices


class InviteUserForm(FlaskForm):
    full_name = StringField("Nom et prénom", validators=[DataRequired("Indiquez le nom de la personne."),
                                                         Length(max=150)])
    email = EmailField("Adresse e-mail professionnelle",
                       validators=[DataRequired("Indiquez l'adresse e-mail."), Length(max=254)])
    role = RadioField("Rôle", choices=choices(STAFF_ROLES.items()), default="staff",
                      validators=[InputRequired("Choisissez le rôle.")])


def weight_field(key: str) -> IntegerField:
    low, high = WEIGHT_RANGE
    return IntegerField(
        WEIGHT_LABELS[key],
        validators=[InputRequired("Indiquez un nombre de points."),
                    NumberRange(low, high, f"Indiquez un nombre entre {low} et {high}.")],
    )


#: what a setting does, when its label is not enough
RANGE_HINTS = {
    "waiting_guarantee_days": (
        "À partir de la moitié de ce délai, une demande gagne chaque jour des points, jusqu'à égaler la plus "
        "forte raison de priorité au bout du délai. 0 : aucun délai visé. Avant de le changer, comparez "
        "dans Attribution, « Simuler des règles »."),
}


def range_field(key: str) -> IntegerField:
    low, high, label = NUMERIC_RANGES[key]
    return IntegerField(
        label, description=RANGE_HINTS.get(key, ""),
        validators=[InputRequired("Indiquez un nombre."),
                    NumberRange(low, high, f"Indiquez un nombre entre {low} et {high}.")],
    )


class SettingsForm(FlaskForm):
    is_auto_approval = BooleanField(
        "Envoyer automatiquement aux médecins les propositions de l'attribution",
        description="Sinon, un coordinateur valide chaque proposition avant son envoi.",
    )
    is_auto_matching = BooleanField("Lancer l'attribution automatiquement chaque nuit")

    def weight_fields(self) -> list[Any]:
        return [getattr(self, f"weight_{k}") for k in DEFAULT_WEIGHTS]

    def range_fields(self) -> list[Any]:
        return [getattr(self, k) for k in NUMERIC_RANGES]

    def time_fields(self) -> list[Any]:
        return [getattr(self, k) for k in TIME_SETTINGS]

    def boolean_fields(self) -> list[Any]:
        return [getattr(self, k) for k in BOOLEAN_SETTINGS]

    def contact_fields(self) -> list[Any]:
        return [getattr(self, k) for k in CONTACT_SETTINGS]


for _key in DEFAULT_WEIGHTS:
    setattr(SettingsForm, f"weight_{_key}", weight_field(_key))
for _key in NUMERIC_RANGES:
    setattr(SettingsForm, _key, range_field(_key))
for _key, _label in TIME_SETTINGS.items():
    # the service checks the format and says what is wrong (territories.validate_settings)
    setattr(SettingsForm, _key, StringField(
        _label, validators=[InputRequired("Indiquez une heure, par exemple 02:30.")],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    ))
for _key, _label in BOOLEAN_SETTINGS.items():
    setattr(SettingsForm, _key, BooleanField(_label))
for _key, _label in CONTACT_SETTINGS.items():
    # optional; the service checks phone and e-mail and says what is wrong
    setattr(SettingsForm, _key, StringField(_label, validators=[Optional()]))
