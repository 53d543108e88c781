"""What a patient is told about a GP's practice: one set of values for pages, e-mails and letters."""

from __future__ import annotations

from guichet.identifiers import format_phone
from guichet.models import Doctor


def practice_context(doctor: Doctor) -> dict[str, str]:
    """The GP's name, practice address, phone and booking link, ready to show (empty when unknown)."""
    postal_codes = doctor.commune.postal_codes
    return {
        "doctor_name": doctor.display_name,
        "practice_address": doctor.practice_address,
        "practice_postal_code": postal_codes[0].postal_code if postal_codes else "",
        "practice_commune": doctor.commune.name,
        "doctor_phone": format_phone(doctor.phone),
        "booking_url": doctor.booking_url or "",
    }
