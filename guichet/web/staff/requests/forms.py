"""Forms of the coordinators' request pages: actions on a request, edit, insurer import (shape only)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from guichet import vocabulary
from guichet.requests.staff_requests import CONTACT_OUTCOMES
from guichet.requests.validation import RADIUS_KM_RANGE, RADIUS_RANGE_MESSAGE
from guichet.web.fields import FrDateField, FrIntegerField, choices
from guichet.workflow import CANCEL_REASONS


class QualifyForm(FlaskForm):
    consent = BooleanField(
        "La personne a donné son accord pour être accompagnée par la CPTS",
        description="Obligatoire pour un patient importé d'une liste : il n'a rien demandé lui-même.",
    )


class CancelForm(FlaskForm):
    reason = SelectField(
        "Motif de l'annulation",
        choices=choices([("", "Choisissez un motif")]
                        + [(k, v) for k, v in CANCEL_REASONS.items() if k != "duplicate"]),
        validators=[DataRequired("Choisissez le motif de l'annulation.")],
    )
    note = TextAreaField("Précision (facultatif)", validators=[Optional(), Length(max=1000)])


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Nouvelle note",
        validators=[DataRequired("Écrivez la note avant de l'enregistrer."), Length(max=4000)],
        description="Visible des seuls coordinateurs. N'écrivez que ce qui est utile à l'accompagnement.",
    )


class ContactForm(FlaskForm):
    outcome = RadioField(
        "Résultat de l'appel",
        choices=choices(CONTACT_OUTCOMES.items()),
        validators=[InputRequired("Choisissez le résultat de l'appel.")],
    )
    note = TextAreaField("Précision (facultatif)", validators=[Optional(), Length(max=1000)])


class MergeForm(FlaskForm):
    target = StringField(
        "Référence de la demande à conserver",
        validators=[DataRequired("Indiquez la référence de la demande à conserver."), Length(max=20)],
        description="Par exemple MT-2026-000123. Cette demande-ci sera close comme doublon.",
    )


class EditForm(FlaskForm):
    birth_name = StringField("Nom de naissance", validators=[DataRequired("Indiquez le nom."), Length(max=100)])
    usage_name = StringField("Nom d'usage (facultatif)", validators=[Optional(), Length(max=100)])
    first_names = StringField("Prénom(s)", validators=[DataRequired("Indiquez le prénom."), Length(max=150)])
    birth_date = FrDateField("Date de naissance", validators=[Optional()])
    sex = SelectField("Sexe", choices=choices([("", "Non précisé"), *vocabulary.SEXES.items()]))
    phone = StringField("Téléphone", validators=[Optional(), Length(max=30)], render_kw={"type": "tel"})
    email = EmailField("Adresse e-mail", validators=[Optional(), Length(max=254)])
    address = StringField("Adresse", validators=[Optional(), Length(max=250)])
    postal_code = StringField("Code postal", validators=[Optional(), Length(max=5)])
    commune_insee = SelectField("Commune", choices=[], validate_choice=False,
                                description="Laissez « déduite du code postal » si le code n'a qu'une commune.")
    contact_preference = SelectField(
        "Moyen de contact préféré",
        choices=choices(vocabulary.CONTACT_PREFERENCES.items()),
    )
    is_ald = BooleanField("Affection de longue durée (ALD)")
    is_css = BooleanField("Complémentaire santé solidaire ou AME")
    is_pregnant = BooleanField("Grossesse en cours")
    is_disabled = BooleanField("Situation de handicap")
    hospital_discharge_date = FrDateField("Date de sortie d'hospitalisation (facultatif)", validators=[Optional()])
    previous_mt_left_date = FrDateField("Date de départ du précédent médecin traitant (facultatif)",
                                        validators=[Optional()])
    max_km = FrIntegerField(
        "Distance maximale acceptée (km)",
        validators=[InputRequired("Indiquez une distance."), NumberRange(*RADIUS_KM_RANGE, RADIUS_RANGE_MESSAGE)],
    )
    needs_home_visit = BooleanField("A besoin de visites à domicile")
    needs_step_free = BooleanField("A besoin d'un accès de plain-pied")

    def values(self) -> dict[str, Any]:
        names = [
            "birth_name", "usage_name", "first_names", "birth_date", "sex", "phone", "email",
            "address", "postal_code", "commune_insee", "contact_preference", "is_ald", "is_css",
            "is_pregnant", "is_disabled", "hospital_discharge_date", "previous_mt_left_date",
            "max_km", "needs_home_visit", "needs_step_free",
        ]
        return {n: getattr(self, n).data for n in names}


class UploadForm(FlaskForm):
    file = FileField("Fichier CSV de l'Assurance Maladie",
                     validators=[FileRequired("Choisissez le fichier à importer.")])


class ConfirmImportForm(FlaskForm):
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
