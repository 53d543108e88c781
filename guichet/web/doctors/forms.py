"""Forms of the GP portal: shapes only, the rules live in guichet.doctors."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from guichet import vocabulary
from guichet.doctors import practitioners, slot_patterns
from guichet.web.intake_forms import choices

CHOICE_MESSAGE = "Choisissez parmi les valeurs proposées."


class FrIntegerField(IntegerField):
    """An integer field whose parse error is in French."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Indiquez un nombre entier, par exemple 3.") from None


class FrDateField(DateField):
    """A date field (browser date picker, or typed 31/03/2027) whose parse error is in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%d", "%d/%m/%Y"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Indiquez une date valide, par exemple 31/03/2027.") from None


class FrTimeField(TimeField):
    """A time field (09:00 or 9h00) whose parse error is in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%H:%M", "%Hh%M", "%H:%M:%S"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Indiquez une heure valide, par exemple 09:00.") from None


class CheckboxesField(SelectMultipleField):
    """Several checkboxes (no JavaScript, usable on a phone) instead of a multi-select list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_choice_message", CHOICE_MESSAGE)
        super().__init__(*args, **kwargs)



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
        "Jusqu'au",
        validators=[InputRequired("Indiquez jusqu'à quelle date (par exemple le 31/03/2027).")],
        description="Après cette date, la coordination ne vous propose plus de patient.",
    )
    max_km = SelectField(
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
    reason = TextAreaField(
        "Motif (facultatif)",
        validators=[Optional(), Length(max=300, message="300 caractères au plus.")],
        description="Le motif aide la coordination ; il n'est jamais transmis au patient.",
    )


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
    day = FrDateField("Date", validators=[InputRequired("Indiquez la date.")])
    start_time = FrTimeField("Heure du premier créneau",
                             validators=[InputRequired("Indiquez l'heure, par exemple 14:00.")])
    minutes = _slot_minutes_field()
    count = _slot_count_field()


class WeeklySlotsForm(FlaskForm):
    weekday = SelectField(
        "Jour de la semaine",
        choices=choices((str(i), name.capitalize()) for i, name in enumerate(slot_patterns.WEEKDAYS)),
        invalid_choice_message=CHOICE_MESSAGE,
    )
    start_time = FrTimeField("Heure du premier créneau",
                             validators=[InputRequired("Indiquez l'heure, par exemple 09:00.")])
    minutes = _slot_minutes_field()
    count = _slot_count_field()
    until = FrDateField("Jusqu'au (inclus)", validators=[InputRequired("Indiquez la date de fin.")],
                      description="Six mois au plus.")


class CancelSlotForm(FlaskForm):
    reason = TextAreaField(
        "Motif de l'annulation",
        validators=[Optional(), Length(max=200, message="200 caractères au plus.")],
        description="Obligatoire si le créneau est réservé : la coordination est prévenue tout de suite.",
    )
