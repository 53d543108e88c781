"""Forms of the tracking pages (the request forms live in guichet.web.intake_forms)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, SubmitField, TelField
from wtforms.validators import Length, Optional

from guichet.requests.tracking import ContactUpdate
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


class WithdrawForm(FlaskForm):
    """Confirmation of a withdrawal: the button is the answer."""

    submit = SubmitField("Oui, retirer ma demande")
