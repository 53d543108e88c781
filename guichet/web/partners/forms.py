"""The referral form of the partner portal: the MT request's questions, the urgency and the consent."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, TelField
from wtforms.validators import DataRequired, NumberRange, Optional

from guichet import vocabulary
from guichet.partners import referrals
from guichet.web.fields import choices
from guichet.web.intake_forms import _CONTACT_PREFERENCE, MtRequestForm, _StaffHooks, phone_check

LOW, HIGH = referrals.TARGET_DELAY_RANGE


class ReferralForm(_StaffHooks, MtRequestForm):
    """A discharge team (or another partner) refers a patient for a médecin traitant."""

    #: a partner always refers as a professional: the page does not ask
    filled_by = HiddenField(default="professional")  # type: ignore[assignment]
    contact_preference = RadioField(**_CONTACT_PREFERENCE)  # type: ignore[arg-type]
    proxy_phone = TelField(
        "Téléphone de votre équipe pour le suivi",
        description="La coordination vous appelle à ce numéro si elle a une question.",
        validators=[DataRequired("Indiquez un numéro où la coordination peut joindre votre équipe."), phone_check],
    )
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
    is_consented = BooleanField(
        "Le patient a donné son accord pour que la CPTS recherche un médecin traitant et traite ces données",
        validators=[DataRequired("L'accord du patient est nécessaire pour adresser la demande.")],
    )

    def extra_data(self) -> dict[str, Any]:
        return {**super().extra_data(), "filled_by": "professional"}

    def urgency(self) -> referrals.Urgency:
        return referrals.Urgency(
            discharge_date=self.hospital_discharge_date.data,
            fragility_reason=self.fragility_reason.data or None,
            target_delay_days=self.target_delay_days.data,
        )
