"""The referral form of the partner portal: the MT request's questions, the urgency and the consent."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, TelField
from wtforms.validators import DataRequired, NumberRange, Optional

from guichet import vocabulary
from guichet.partners import referrals
from guichet.web.fields import choices
from guichet.web.intake_forms import (
    _CONTACT_PREFERENCE,
    MtRequestForm,
    StaffSnpRequestForm,
    _StaffHooks,
    phone_check,
)

LOW, HIGH = referrals.TARGET_DELAY_RANGE


class _ReferralFields:
    """What every partner referral asks besides the request: the team's phone, the patient's consent."""

    #: a partner always refers as a professional: the page does not ask
    filled_by = HiddenField(default="professional")
    contact_preference = RadioField(**_CONTACT_PREFERENCE)  # type: ignore[arg-type]
    proxy_phone = TelField(
        "Téléphone de votre équipe pour le suivi",
        description="La coordination vous appelle à ce numéro si elle a une question.",
        validators=[DataRequired("Indiquez un numéro où la coordination peut joindre votre équipe."), phone_check],
    )
    is_consented = BooleanField(
        "Le patient a donné son accord pour que la CPTS traite ces données et lui trouve un médecin",
        validators=[DataRequired("L'accord du patient est nécessaire pour adresser la demande.")],
    )

    def extra_data(self) -> dict[str, Any]:
        return {"contact_preference": self.contact_preference.data, "filled_by": "professional"}

    def urgency(self) -> referrals.Urgency:
        return referrals.Urgency()


class ReferralForm(_ReferralFields, _StaffHooks, MtRequestForm):  # type: ignore[misc]
    """A discharge team (or another partner) refers a patient for a médecin traitant."""

    fragility_reason = SelectField(
        "Fragilité particulière (facultatif)",
        description="Si la personne doit voir un médecin rapidement, par exemple après un AVC.",
        choices=choices([("", "Aucune"), *vocabulary.FRAGILITY_REASONS.items()]),
        validators=[Optional()],
    )
    target_delay_days = IntegerField(
        "Délai cible, en jours",
        description=f"Pour un patient fragile : dans combien de jours il devrait avoir vu un médecin "
                    f"(entre {LOW} et {HIGH}, {referrals.DEFAULT_TARGET_DELAY_DAYS} le plus souvent).",
        validators=[Optional(), NumberRange(LOW, HIGH, f"Un nombre de jours entre {LOW} et {HIGH}.")],
    )

    def urgency(self) -> referrals.Urgency:
        return referrals.Urgency(
            discharge_date=self.hospital_discharge_date.data,
            fragility_reason=self.fragility_reason.data or None,
            target_delay_days=self.target_delay_days.data,
        )


class SnpReferralForm(_ReferralFields, StaffSnpRequestForm):  # type: ignore[misc]
    """A partner refers a patient for same-day care, once the signs of a vital emergency are ruled out."""

    triage_checked = BooleanField(
        "J'ai vérifié les signes d'urgence vitale ci-dessus : le patient n'en présente aucun",
        validators=[DataRequired("Vérifiez les signes d'urgence vitale ; au moindre signe, appelez le 15.")],
    )
