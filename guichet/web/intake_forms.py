"""Request forms shared by the public pages and the coordinators' phone intake.

The public forms (`MtRequestForm`, `SnpRequestForm`) hold every question; the staff
forms subclass them, drop the honeypot, add the contact preference and replace the
consent checkbox by the record of an oral consent. `to_data()` turns any of them into the
intake service's dataclasses; the rules (dates against today, territory, duplicates)
stay in guichet.requests.intake.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    RadioField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from guichet import vocabulary
from guichet.identifiers import InvalidIdentifier, normalise_email, normalise_phone
from guichet.requests import intake, validation
from guichet.territories import geo
from guichet.timeutil import parse_date
from guichet.web import fields
from guichet.web.fields import CheckboxesField, FrDateField, choices

#: what the descriptions of the patient forms' dates say
DATE_EXAMPLE = f"par exemple {fields.DATE_EXAMPLE}"


def phone_check(form: FlaskForm, field: Field) -> None:
    if field.data and field.data.strip():
        try:
            normalise_phone(field.data)
        except InvalidIdentifier as exc:
            raise ValidationError(str(exc)) from None


def email_check(form: FlaskForm, field: Field) -> None:
    if field.data and field.data.strip():
        try:
            normalise_email(field.data)
        except InvalidIdentifier as exc:
            raise ValidationError(str(exc)) from None


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


YES_NO = (("yes", "Oui"), ("no", "Non"))

#: life-threatening signs: any "yes" sends the person to the 15, and nothing is stored
RED_FLAGS: dict[str, str] = {
    "chest_pain": "Une douleur ou une sensation d'oppression dans la poitrine",
    "breathing": "Une grande difficulté à respirer, ou des lèvres qui deviennent bleues",
    "stroke": (
        "Une bouche qui se déforme, un bras ou une jambe qui ne répond plus, ou une "
        "difficulté soudaine à parler"
    ),
    "bleeding": "Un saignement abondant qui ne s'arrête pas",
    "consciousness": (
        "Une perte de connaissance, un malaise, ou une personne qui ne répond plus "
        "normalement (très endormie, confuse)"
    ),
    "allergy": "Un gonflement du visage, des lèvres ou de la gorge",
    "infant_fever": "De la fièvre chez un bébé de moins de 3 mois",
    "suicide": "Des idées de mettre fin à ses jours",
}


class _PersonFields(FlaskForm):
    """Who fills in, whose request it is, where they live and how to reach them."""

    #: honeypot: hidden from people, filled by robots (no CAPTCHA: accessibility)
    website = StringField("Ne pas remplir ce champ", render_kw={"autocomplete": "off", "tabindex": "-1"})

    filled_by = RadioField(
        "Qui remplit cette demande ?",
        choices=choices(vocabulary.FILLED_BY.items()),
        default="self",
        validators=[InputRequired("Indiquez qui remplit la demande.")],
    )
    proxy_relation = StringField(
        "Votre lien avec la personne",
        description="Par exemple : fille, fils, voisin, conjoint.",
        validators=[Optional(), Length(max=60, message="60 caractères au plus.")],
    )
    proxy_profession = StringField(
        "Votre profession",
        description="Par exemple : pharmacien, assistante sociale, infirmière.",
        validators=[Optional(), Length(max=80, message="80 caractères au plus.")],
    )
    proxy_name = StringField(
        "Votre nom et votre prénom",
        validators=[Optional(), Length(max=150, message="150 caractères au plus.")],
        render_kw={"autocomplete": "name"},
    )
    proxy_phone = TelField(
        "Votre numéro de téléphone",
        description="La CPTS vous contactera à ce numéro pour le suivi.",
        validators=[Optional(), phone_check],
        render_kw={"autocomplete": "tel"},
    )
    proxy_email = EmailField(
        "Votre adresse e-mail (facultatif)",
        description="Pour recevoir le lien de suivi.",
        validators=[Optional(), email_check],
        render_kw={"autocomplete": "email"},
    )

    birth_name = StringField(
        "Nom de naissance",
        validators=[DataRequired("Indiquez le nom de naissance."), Length(max=100, message="100 caractères au plus.")],
        render_kw={"autocomplete": "family-name"},
    )
    usage_name = StringField(
        "Nom d'usage (facultatif)",
        description="Par exemple le nom d'épouse, s'il est différent du nom de naissance.",
        validators=[Optional(), Length(max=100, message="100 caractères au plus.")],
    )
    first_names = StringField(
        "Prénoms",
        validators=[DataRequired("Indiquez le ou les prénoms."), Length(max=150, message="150 caractères au plus.")],
        render_kw={"autocomplete": "given-name"},
    )
    birth_date = FrDateField(
        "Date de naissance",
        description=f"Jour, mois et année, {DATE_EXAMPLE}.",
        validators=[InputRequired("Indiquez la date de naissance.")],
    )
    sex = RadioField(
        "Sexe",
        choices=choices(vocabulary.SEXES.items()),
        validators=[InputRequired("Choisissez une réponse.")],
    )

    phone = TelField(
        "Numéro de téléphone",
        description="Par exemple 06 12 34 56 78.",
        validators=[Optional(), phone_check],
        render_kw={"autocomplete": "tel"},
    )
    email = EmailField(
        "Adresse e-mail",
        description="Pour recevoir le lien de suivi de la demande.",
        validators=[Optional(), email_check],
        render_kw={"autocomplete": "email"},
    )
    address = StringField(
        "Adresse postale",
        description="Numéro et rue, ou lieu-dit.",
        validators=[Optional(), Length(max=250, message="250 caractères au plus.")],
        render_kw={"autocomplete": "street-address"},
    )
    postal_code = StringField(
        "Code postal",
        description="5 chiffres, par exemple 26190.",
        validators=[DataRequired("Indiquez le code postal."), Length(max=10, message="5 chiffres.")],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    #: choices are set by `locate_commune` from the postal code
    commune_insee = RadioField("Commune", choices=[], validate_choice=False, validators=[Optional()])
    #: INSEE code → label of the communes offered for the typed postal code
    commune_labels: dict[str, str] = {}
    lookup = SubmitField("Rechercher la commune")
    submit = SubmitField("Envoyer la demande")

    def data_fields(self) -> dict[str, Any]:
        """The person's answers, keyed like intake.PersonData."""
        return {
            "birth_name": self.birth_name.data or "",
            "usage_name": _blank_to_none(self.usage_name.data),
            "first_names": self.first_names.data or "",
            "birth_date": self.birth_date.data,
            "sex": self.sex.data,
            "phone": _blank_to_none(self.phone.data),
            "email": _blank_to_none(self.email.data),
            "address": _blank_to_none(self.address.data),
            "postal_code": _blank_to_none(self.postal_code.data),
            "commune_insee": self.commune_insee.data or "",
            "filled_by": self.filled_by.data,
            "proxy_relation": _blank_to_none(self.proxy_relation.data),
            "proxy_name": _blank_to_none(self.proxy_name.data),
            "proxy_profession": _blank_to_none(self.proxy_profession.data),
            "proxy_phone": _blank_to_none(self.proxy_phone.data),
            "proxy_email": _blank_to_none(self.proxy_email.data),
            "is_consented": bool(self.is_consented.data),
            **self.extra_data(),
        }

    def extra_data(self) -> dict[str, Any]:
        """Hook for subclasses: answers that only their channel asks."""
        return {}

    def is_bot(self) -> bool:
        honeypot = getattr(self, "website", None)
        return bool(honeypot is not None and honeypot.data and honeypot.data.strip())

    def apply_errors(self, errors: dict[str, str]) -> None:
        """Show the intake service's messages next to their fields."""
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is None:
                self.form_errors.append(message)
            elif message not in field.errors:
                field.errors = [*field.errors, message]


class MtRequestForm(_PersonFields):
    """A médecin traitant request as the patient (or a helper) fills it in online."""

    is_ald = BooleanField(
        "Affection de longue durée (ALD)",
        description=(
            "Une maladie chronique reconnue par l'Assurance Maladie "
            "(diabète, cancer, insuffisance cardiaque…)."
        ),
    )
    is_css = BooleanField(
        "Complémentaire santé solidaire (CSS) ou aide médicale de l'État (AME)",
        description="Une aide pour payer les soins, accordée selon les ressources.",
    )
    is_pregnant = BooleanField("Grossesse en cours", description="La personne attend un enfant.")
    is_disabled = BooleanField(
        "Situation de handicap", description="Un handicap reconnu ou qui gêne la vie de tous les jours."
    )
    hospital_discharge_date = FrDateField(
        "Date de sortie d'hôpital (si récente)",
        description=f"Si la personne est sortie de l'hôpital ces derniers mois ; {DATE_EXAMPLE}.",
        validators=[Optional()],
    )
    previous_mt_left_date = FrDateField(
        "Date de départ de l'ancien médecin traitant",
        description=f"Si le médecin traitant est parti à la retraite ou a quitté la région ; {DATE_EXAMPLE}.",
        validators=[Optional()],
    )
    children_birth_dates = TextAreaField(
        "Enfants de moins de 16 ans inclus dans la demande (facultatif)",
        description="Leurs dates de naissance, une par ligne, par exemple 03/05/2018.",
        validators=[Optional(), Length(max=300, message="300 caractères au plus.")],
        render_kw={"rows": 3},
    )
    max_km = RadioField(
        "Jusqu'où la personne peut-elle se déplacer pour voir le médecin ?",
        choices=choices((km, f"{km} km") for km in validation.FORM_RADIUS_CHOICES_KM),
        coerce=int,
        default=10,
        validators=[InputRequired("Choisissez une distance.")],
    )
    needs_home_visit = BooleanField(
        "A besoin de visites à domicile", description="La personne ne peut pas se rendre au cabinet."
    )
    needs_step_free = BooleanField(
        "A besoin d'un cabinet accessible sans marche", description="Fauteuil roulant, déambulateur…"
    )
    languages = CheckboxesField(
        "Langues parlées en plus du français (facultatif)",
        choices=choices(vocabulary.LANGUAGES.items()),
        validate_choice=False,
    )
    is_consented = BooleanField(
        "J'ai lu ces informations et j'accepte que la CPTS utilise ces données pour traiter la demande",
        validators=[DataRequired("Votre accord est nécessaire pour enregistrer la demande.")],
    )

    def validate_children_birth_dates(self, field: Field) -> None:
        self.children_dates = []
        for line in (field.data or "").replace(",", "\n").replace(";", "\n").splitlines():
            if line.strip():
                try:
                    self.children_dates.append(parse_date(line))
                except ValueError:
                    raise ValidationError(
                        f"« {line.strip()} » n'est pas une date : écrivez une date par ligne, par exemple 03/05/2018."
                    ) from None

    def to_data(self) -> intake.MtRequestData:
        children = getattr(self, "children_dates", None)
        if children is None:
            self.validate_children_birth_dates(self.children_birth_dates)
            children = self.children_dates
        return intake.MtRequestData(
            **self.data_fields(),
            is_ald=bool(self.is_ald.data),
            is_css=bool(self.is_css.data),
            is_pregnant=bool(self.is_pregnant.data),
            is_disabled=bool(self.is_disabled.data),
            hospital_discharge_date=self.hospital_discharge_date.data,
            previous_mt_left_date=self.previous_mt_left_date.data,
            children_birth_dates=list(children),
            max_km=int(self.max_km.data or 10),
            needs_home_visit=bool(self.needs_home_visit.data),
            needs_step_free=bool(self.needs_step_free.data),
            languages=list(self.languages.data or []),
        )


class SnpTriageForm(FlaskForm):
    """The red-flag questions asked before any unscheduled-care request."""

    submit = SubmitField("Continuer")

    @property
    def flag_fields(self) -> list[Field]:
        return [self[name] for name in RED_FLAGS]

    def has_red_flag(self) -> bool:
        return any(self[name].data == "yes" for name in RED_FLAGS)


for _name, _label in RED_FLAGS.items():
    setattr(
        SnpTriageForm,
        _name,
        RadioField(_label, choices=choices(YES_NO), validators=[InputRequired("Répondez par oui ou par non.")]),
    )


AVAILABILITY_CHOICES = [
    (f"{day}:{period}", f"{day_label} {period_label}")
    for day, day_label in vocabulary.SNP_DAYS.items()
    for period, period_label in vocabulary.SNP_PERIODS.items()
]


class SnpRequestForm(_PersonFields):
    """An unscheduled-care request, once the triage found no sign of a vital emergency."""

    phone = TelField(
        "Numéro de téléphone",
        description="Obligatoire : la CPTS vous rappelle pour vous donner le rendez-vous. Par exemple 06 12 34 56 78.",
        validators=[Optional(), phone_check],
        render_kw={"autocomplete": "tel"},
    )
    snp_category = RadioField(
        "Pour quel problème ?",
        choices=choices(vocabulary.SNP_CATEGORIES.items()),
        validators=[InputRequired("Choisissez le motif.")],
    )
    snp_reason = TextAreaField(
        "Décrivez le problème en quelques mots",
        description="Par exemple : « mal à l'oreille et fièvre à 38,5 depuis hier soir ».",
        validators=[DataRequired("Décrivez le problème en quelques mots."),
                    Length(max=500, message="Soyez bref : 500 caractères au plus.")],
        render_kw={"rows": 3, "maxlength": 500},
    )
    snp_since = RadioField(
        "Depuis quand ?",
        choices=choices(vocabulary.SNP_SINCE.items()),
        validators=[InputRequired("Indiquez depuis quand.")],
    )
    availability = CheckboxesField(
        "Quand pouvez-vous aller chez le médecin ?",
        choices=choices(AVAILABILITY_CHOICES),
        validators=[DataRequired("Cochez au moins un moment où vous êtes disponible.")],
    )
    is_consented = BooleanField(
        "J'ai lu ces informations et j'accepte que la CPTS utilise ces données pour traiter la demande",
        validators=[DataRequired("Votre accord est nécessaire pour enregistrer la demande.")],
    )

    def to_data(self) -> intake.SnpRequestData:
        availability = []
        for value in self.availability.data or []:
            day, _, period = value.partition(":")
            availability.append((day, period))
        return intake.SnpRequestData(
            **self.data_fields(),
            snp_category=self.snp_category.data or "",
            snp_reason=self.snp_reason.data or "",
            snp_since=self.snp_since.data or "",
            availability=availability,
        )


# --- staff phone intake -------------------------------------------------------------

_CONTACT_PREFERENCE = dict(
    label="Comment la CPTS doit-elle recontacter cette personne ?",
    choices=choices(vocabulary.CONTACT_PREFERENCES.items()),
    default="phone",
    validators=[InputRequired("Choisissez un moyen de contact.")],
)
_ORAL_CONSENT = dict(
    label="La personne a donné son accord oralement, après lecture des informations ci-dessus",
    validators=[DataRequired("L'accord oral de la personne est nécessaire.")],
)


class _StaffHooks:
    """What the coordinators' phone intake changes in a public form.

    No honeypot, and words addressed to the coordinator about "la personne" and the
    caller, never "vous".
    """

    website: Any = None  # no honeypot behind a login
    contact_preference: RadioField
    filled_by = RadioField(
        "Qui appelle ?", choices=choices(vocabulary.FILLED_BY.items()), default="self",
        validators=[InputRequired("Indiquez qui appelle.")],
    )
    proxy_relation = StringField(
        "Lien de l'appelant avec la personne", description="Par exemple : fille, fils, voisin, conjoint.",
        validators=[Optional(), Length(max=60, message="60 caractères au plus.")],
    )
    proxy_profession = StringField(
        "Profession de l'appelant", description="Par exemple : pharmacien, assistante sociale, infirmière.",
        validators=[Optional(), Length(max=80, message="80 caractères au plus.")],
    )
    proxy_name = StringField("Nom et prénom de l'appelant",
                             validators=[Optional(), Length(max=150, message="150 caractères au plus.")])
    proxy_phone = TelField("Téléphone de l'appelant", description="La CPTS rappellera l'appelant à ce numéro.",
                           validators=[Optional(), phone_check])
    proxy_email = EmailField("E-mail de l'appelant (facultatif)", description="Pour lui envoyer le lien de suivi.",
                             validators=[Optional(), email_check])

    def extra_data(self) -> dict[str, Any]:
        return {"contact_preference": self.contact_preference.data}


class StaffMtRequestForm(_StaffHooks, MtRequestForm):
    """MT request taken by a coordinator on the phone."""

    contact_preference = RadioField(**_CONTACT_PREFERENCE)  # type: ignore[arg-type]
    is_consented = BooleanField(**_ORAL_CONSENT)  # type: ignore[arg-type]


class StaffSnpRequestForm(_StaffHooks, SnpRequestForm):
    """SNP request taken by a coordinator on the phone, after the red-flag questions."""

    contact_preference = RadioField(**_CONTACT_PREFERENCE)  # type: ignore[arg-type]
    is_consented = BooleanField(**_ORAL_CONSENT)  # type: ignore[arg-type]
    availability = CheckboxesField(
        "Quand la personne peut-elle aller chez le médecin ?", choices=choices(AVAILABILITY_CHOICES),
        validators=[DataRequired("Cochez au moins un moment où la personne est disponible.")],
    )
    triage_checked = BooleanField(
        "J'ai posé les questions d'urgence vitale ci-dessus : toutes les réponses sont « non »",
        validators=[DataRequired("Posez les questions d'urgence vitale ; au moindre « oui », orientez vers le 15.")],
    )


# --- postal code → commune ----------------------------------------------------------


def ready_to_submit(form: _PersonFields, db: Session, *, outside: str) -> bool:
    """Validate a posted request form and find its commune; True when it may be submitted.

    A click on « Rechercher la commune » only offers the communes. `outside` is the
    message shown when no CPTS of the service covers the postal code.
    """
    final = not form.lookup.data
    valid = form.validate() if final else True
    try:
        located = locate_commune(form, db, final=final)
    except intake.OutOfTerritory:
        form.postal_code.errors = [*form.postal_code.errors, outside]
        return False
    return final and valid and located


def locate_commune(form: _PersonFields, db: Session, *, final: bool) -> bool:
    """Offer the communes of the typed postal code; return True once one is chosen.

    One commune: taken at once. Several: the form shows them and, on a final submit,
    asks the person to pick one. Raises intake.OutOfTerritory when no commune of that
    postal code is served (the caller shows the page explaining where to turn).
    """
    code = "".join((form.postal_code.data or "").split())
    form.commune_insee.choices = []
    if not code:
        if not final:
            form.postal_code.errors = [*form.postal_code.errors, "Indiquez le code postal."]
        return False
    try:
        found = intake.commune_choices(db, code)
    except geo.UnknownCommune as exc:
        form.postal_code.errors = [*form.postal_code.errors, str(exc)]
        return False
    form.postal_code.data = code
    form.commune_insee.choices = choices((c.insee, c.label) for c in found)
    form.commune_labels = {c.insee: c.label for c in found}
    insee = {c.insee for c in found}
    if len(insee) == 1:
        form.commune_insee.data = found[0].insee
        return True
    if form.commune_insee.data in insee:
        return True
    form.commune_insee.data = None
    if final:
        form.commune_insee.errors = [
            *form.commune_insee.errors,
            "Ce code postal couvre plusieurs communes : choisissez la vôtre.",
        ]
    return False
