"""Form of the coordinators' GP registration: shapes only, the rules live in guichet/doctors/practitioners.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, TelField
from wtforms.validators import DataRequired, Length, Optional


class DoctorRegistrationForm(FlaskForm):
    rpps = StringField(
        "Numéro RPPS",
        validators=[DataRequired("Indiquez le numéro RPPS."),
                    Length(max=20, message="Le numéro RPPS comporte 11 chiffres.")],
        description="11 chiffres, sur la carte CPS ou dans l'annuaire santé.",
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    first_name = StringField("Prénom", validators=[DataRequired("Indiquez le prénom."), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired("Indiquez le nom."), Length(max=100)])
    email = EmailField(
        "Adresse e-mail",
        validators=[DataRequired("Indiquez l'adresse e-mail : l'invitation y est envoyée."), Length(max=254)],
        description="Elle sert d'identifiant ; l'invitation à créer le mot de passe y est envoyée.",
    )
    phone = TelField("Téléphone du cabinet (facultatif)", validators=[Optional(), Length(max=30)])
    practice_address = StringField(
        "Adresse du cabinet",
        validators=[DataRequired("Indiquez l'adresse du cabinet."), Length(max=250)],
        description="Numéro et rue, par exemple 2 place de l'Église.",
    )
    postal_code = StringField(
        "Code postal du cabinet",
        validators=[DataRequired("Indiquez le code postal."), Length(max=10)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    commune_insee = SelectField("Commune du cabinet", choices=[], validate_choice=False)
    has_step_free_access = BooleanField("Cabinet accessible sans marche (fauteuil roulant)")
    #: fills the fields from the national directory (import-rpps) instead of registering
    lookup = SubmitField("Remplir depuis l'annuaire santé")


