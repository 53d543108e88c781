"""Forms of the tracking pages (the request forms live in guichet.web.intake_forms)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, SubmitField, TelField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from guichet.requests.tracking import ContactUpdate
from guichet.web.fields import FrDateField
from guichet.web.intake_forms import email_check, phone_check


class ContactUpdateForm(FlaskForm):
    """New contact details; a field left empty keeps its value."""

    phone = TelField(
        "Nouveau numéro de téléphone",
        validators=[Optional(), phone_check],
        render_kw={"autocomplete": "tel"},
    )
    email = EmailField(
        "Nouvelle adresse e-mail",
        validators=[Optional(), email_check],
        render_kw={"autocomplete": "email"},
    )
    address = StringField(
        "Nouvelle adresse postale (même commune)",
        description="Numéro et rue, ou lieu-dit. Si vous changez de commune, appelez la CPTS.",
        validators=[Optional(), Length(max=250, message="250 caractères au plus.")],
        render_kw={"autocomplete": "street-address"},
    )
    submit = SubmitField("Enregistrer")

    def to_update(self) -> ContactUpdate:
        return ContactUpdate(phone=self.phone.data, email=self.email.data, address=self.address.data)


class FindRequestForm(FlaskForm):
    """"Suivre ma demande": the reference, the short code and the birth date, as in the letters."""

    reference = StringField(
        "Numéro de la demande", description="Par exemple MT-2026-000123.",
        validators=[DataRequired("Indiquez le numéro de la demande."),
                    Length(max=30, message="30 caractères au plus.")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    code = StringField(
        "Code de suivi", description="8 caractères, par exemple 7KQ2-M9XD, dans le courrier ou l'e-mail reçu.",
        validators=[DataRequired("Indiquez le code de suivi."), Length(max=20, message="20 caractères au plus.")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    birth_date = FrDateField(
        "Date de naissance de la personne concernée", example="14/03/1950",
        validators=[InputRequired("Indiquez la date de naissance, par exemple 14/03/1950.")],
    )
    submit = SubmitField("Voir ma demande")


class WithdrawForm(FlaskForm):
    """Confirmation of a withdrawal: the button is the answer."""

    submit = SubmitField("Oui, retirer ma demande")
