import pytest

from guichet.identifiers import (
    InvalidIdentifier,
    format_phone,
    luhn_is_valid,
    normalise_phone,
    normalise_rpps,
    rpps_with_key,
)


def test_rpps_with_valid_luhn_key_is_accepted():
    rpps = rpps_with_key("1000000123")
    assert luhn_is_valid(rpps)
    assert normalise_rpps(f" {rpps[:5]} {rpps[5:]} ") == rpps


@pytest.mark.parametrize("raw,message", [
    ("1234", "11 chiffres"), ("1000000123X", "11 chiffres"), ("", "11 chiffres"),
])
def test_rpps_of_wrong_shape_is_refused(raw, message):
    with pytest.raises(InvalidIdentifier, match=message):
        normalise_rpps(raw)


def test_rpps_with_wrong_key_is_refused():
    good = rpps_with_key("1000000123")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(InvalidIdentifier, match="clé de contrôle"):
        normalise_rpps(bad)


@pytest.mark.parametrize("raw", ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "06.12.34.56.78"])
def test_french_phone_numbers_are_stored_in_e164(raw):
    assert normalise_phone(raw) == "+33612345678"
    assert format_phone("+33612345678") == "06 12 34 56 78"


@pytest.mark.parametrize("raw", ["06 12", "abc", "01 23 45 67 89 00"])
def test_invalid_phone_numbers_are_refused_in_french(raw):
    with pytest.raises(InvalidIdentifier, match="numéro|Numéro"):
        normalise_phone(raw)
