"""Forms of the GP portal: shapes only, the rules live in guichet.doctors."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from guichet import vocabulary
from guichet.doctors import practitioners, slot_patterns
from guichet.web.fields import CHOICE_MESSAGE, CheckboxesField, FrDateField, FrIntegerField, FrTimeField, choices
from guichet.workflow import DECLINE_REASONS


class DeclarationForm(FlaskForm):
    new_patients = FrIntegerField(
        "Nombre de nouveaux patients que vous pouvez accepter",
        validators=[InputRequired("Indiquez un nombre (0 si vous ne pouvez en prendre aucun)."),
                    NumberRange(0, practitioners.MAX_NEW_PATIENTS,
                                f"Indiquez un nombre entre 0 et {practitioners.MAX_NEW_PATIENTS}.")],
        description="À partir d'aujourd'hui : les patients que vous avez déjà acceptés ne comptent pas.",
        render_kw={"inputmode": "numeric", "min": 0, "max": practitioners.MAX_NEW_PATIENTS},
    )
    valid_until = FrDateField(
        "Jusqu'au", example="31/03/2027",
        validators=[InputRequired("Indiquez jusqu'à quelle date (par exemple le 31/03/2027).")],
        description="Après cette date, la coordination ne vous propose plus de patient.",
    )
    max_km = SelectField(  # type: ignore[call-arg]  # invalid_choice_message is new in WTForms 3.3
        "Distance maximale entre le domicile du patient et votre cabinet",
        choices=choices((str(km), f"{km} km") for km in practitioners.DISTANCE_CHOICES),
        default="10", invalid_choice_message=CHOICE_MESSAGE,
    )
    is_priority_only = BooleanField("Seulement des patients prioritaires")
    priority_flags = CheckboxesField(
        "Situations prioritaires que vous acceptez",
        description="Utile seulement si vous cochez « Seulement des patients prioritaires ».",
    )
    accepts_children = BooleanField("J'accepte des enfants (moins de 16 ans)", default=True)
    does_home_visits = BooleanField("Je fais des visites à domicile")
    languages = CheckboxesField(
        "Langues que vous parlez en plus du français",
        choices=choices(vocabulary.LANGUAGES.items()),
    )
    pending_action = RadioField(
        "Que faire des propositions en attente de votre réponse ?",
        choices=choices([("keep", "Je les garde : je répondrai à chacune"),
                         ("return", "Je les rends à la coordination, qui les proposera à un autre médecin")]),
        validate_choice=False,  # checked by the service, only when the choice is needed
    )


class DeclineForm(FlaskForm):
    code = RadioField(  # type: ignore[call-arg]  # invalid_choice_message is new in WTForms 3.3
        "Pourquoi refusez-vous ce patient ?",
        choices=choices(DECLINE_REASONS.items()),
        validators=[InputRequired("Choisissez le motif du refus.")], invalid_choice_message=CHOICE_MESSAGE,
        description="Le motif aide la coordination à proposer un autre médecin ; il n'est jamais transmis au patient.",
    )
    reason = TextAreaField(
        "Précisions",
        # no Optional(): it would stop the chain before validate_reason
        validators=[Length(max=300, message="300 caractères au plus.")],
        description="Obligatoire pour « Autre motif » ; facultatif sinon.",
    )

    def validate_reason(self, field: TextAreaField) -> None:
        if self.code.data == "other" and not (field.data or "").strip():
            raise ValidationError("Précisez le motif du refus.")


class FollowUpForm(FlaskForm):
    step = HiddenField(validators=[DataRequired()])


def _slot_minutes_field() -> FrIntegerField:
    return FrIntegerField(
        "Durée d'un créneau (minutes)", default=20,
        validators=[InputRequired("Indiquez la durée."),
                    NumberRange(slot_patterns.MIN_MINUTES, slot_patterns.MAX_MINUTES,
                                f"De {slot_patterns.MIN_MINUTES} à {slot_patterns.MAX_MINUTES} minutes.")],
        render_kw={"inputmode": "numeric"},
    )


def _slot_count_field() -> FrIntegerField:
    return FrIntegerField(
        "Nombre de créneaux à la suite", default=1,
        validators=[InputRequired("Indiquez le nombre de créneaux."),
                    NumberRange(1, slot_patterns.MAX_CONSECUTIVE, f"De 1 à {slot_patterns.MAX_CONSECUTIVE}.")],
        render_kw={"inputmode": "numeric"},
    )


class OneOffSlotsForm(FlaskForm):
    day = FrDateField("Date", example="31/03/2027", validators=[InputRequired("Indiquez la date.")])
    start_time = FrTimeField("Heure du premier créneau",
                             validators=[InputRequired("Indiquez l'heure, par exemple 14:00.")])
    minutes = _slot_minutes_field()
    count = _slot_count_field()


class WeeklySlotsForm(FlaskForm):
    """A weekly pattern, new or edited as a whole."""

    weekdays = CheckboxesField(
        "Jours de la semaine",
        choices=choices((str(i), name.capitalize()) for i, name in enumerate(slot_patterns.WEEKDAYS)),
        validators=[DataRequired("Cochez au moins un jour de la semaine.")],
    )
    start_time = FrTimeField("Heure du premier créneau",
                             validators=[InputRequired("Indiquez l'heure, par exemple 09:00.")])
    minutes = _slot_minutes_field()
    count = _slot_count_field()
    until = FrDateField("Jusqu'au (inclus)", example="31/03/2027",
                        validators=[InputRequired("Indiquez la date de fin.")], description="Six mois au plus.")


class CancelSlotForm(FlaskForm):
    reason = TextAreaField(
        "Motif de l'annulation",
        validators=[Optional(), Length(max=200, message="200 caractères au plus.")],
        description="Obligatoire si le créneau est réservé : la coordination est prévenue tout de suite.",
    )

