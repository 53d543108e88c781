"""Checks of identifiers people type: RPPS numbers, phone numbers, e-mail addresses."""

from __future__ import annotations

import base64
import secrets

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidIdentifier(ValueError):
    """The value is not a valid identifier; the message says why, in French."""


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_rpps(raw: str) -> str:
    """Return the 11-digit RPPS number or raise InvalidIdentifier."""
    value = "".join(raw.split())
    if not value.isdigit() or len(value) != 11:
        raise InvalidIdentifier("Le numéro RPPS comporte 11 chiffres.")
    if not luhn_is_valid(value):
        raise InvalidIdentifier(
            "Ce numéro RPPS n'est pas valide (clé de contrôle incorrecte) : vérifiez-le."
        )
    return value


def rpps_with_key(first_ten: str) -> str:
    """Complete ten digits with the Luhn key (used for fictitious demo GPs)."""
    for key in "0123456789":
        if luhn_is_valid(first_ten + key):
            return first_ten + key
    raise AssertionError("unreachable: one Luhn key always exists")


def normalise_phone(raw: str) -> str:
    """Return the phone number in E.164 (+33…), French numbers by default."""
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(
            "Numéro de téléphone non reconnu : écrivez-le par exemple 06 12 34 56 78."
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(
            "Ce numéro de téléphone n'existe pas : vérifiez le nombre de chiffres."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """Show a stored number the French way (06 12 34 56 78)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidIdentifier(
            "Adresse e-mail non valide : elle doit ressembler à nom@exemple.fr."
        ) from exc


# Short codes read over the phone: Crockford's base32 (no I, L, O, U), 8 characters = 40 bits.
# Python's base32 gives the RFC 4648 alphabet; one translation table turns it into Crockford's.
_RFC4648 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CROCKFORD = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = bytes.maketrans(_RFC4648, CROCKFORD)
#: what people mistype or mishear, read the way Crockford's base32 says
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
SHORT_CODE_LENGTH = 8


def new_short_code() -> str:
    """8 random Crockford base32 characters (40 bits), e.g. 7KQ2M9XD."""
    return base64.b32encode(secrets.token_bytes(5)).translate(_TO_CROCKFORD).decode("ascii")


def normalise_short_code(raw: str | None) -> str:
    """The code as stored: upper case, without spaces or dashes, I/L read as 1 and O as 0."""
    text = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    return text.translate(_READ_AS)


def format_short_code(code: str) -> str:
    """Grouped by four to read aloud: 7KQ2-M9XD."""
    return f"{code[:4]}-{code[4:]}" if len(code) == SHORT_CODE_LENGTH else code
