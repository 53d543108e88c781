"""Authentication forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(
        "Adresse e-mail",
        validators=[DataRequired("Indiquez votre adresse e-mail."), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired("Indiquez votre mot de passe."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Adresse e-mail de votre compte",
        validators=[DataRequired("Indiquez votre adresse e-mail."), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired("Choisissez un mot de passe."), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
        description=(
            "Au moins 12 caractères mêlant majuscules, minuscules, chiffres et caractères "
            "spéciaux, ou une phrase de passe d'au moins 20 caractères."
        ),
    )
    confirm = PasswordField(
        "Confirmez le mot de passe",
        validators=[
            DataRequired("Confirmez le mot de passe."),
            EqualTo("password", "Les deux mots de passe ne sont pas identiques."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _code_field(label: str = "Code de vérification", description: str = "") -> StringField:
    return StringField(
        label,
        validators=[DataRequired("Indiquez le code affiché par votre application d'authentification."),
                    Length(max=40, message="Ce code est trop long : tapez les 6 chiffres de l'application.")],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
        description=description,
    )


class SecondFactorForm(FlaskForm):
    code = _code_field(description=(
        "Les 6 chiffres affichés en ce moment par votre application d'authentification, "
        "ou l'un de vos codes de secours si vous n'avez pas votre téléphone."))


class EnrolForm(FlaskForm):
    code = _code_field("Code à 6 chiffres affiché par l'application")


class RenewCodesForm(FlaskForm):
    code = _code_field(description="Les 6 chiffres affichés en ce moment par votre application.")


class DisableSecondFactorForm(FlaskForm):
    password = PasswordField(
        "Votre mot de passe",
        validators=[DataRequired("Indiquez votre mot de passe."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    code = _code_field(description="Les 6 chiffres affichés en ce moment par votre application, ou un code de secours.")
