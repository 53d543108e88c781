import pytest

from guichet.accounts.users import WeakPassword, check_password_policy, password_problems


@pytest.mark.parametrize("password", ["Correct-Horse-42!", "une phrase de passe bien longue"])
def test_cnil_compliant_passwords_pass(password):
    check_password_policy(password)


def test_short_password_says_what_is_missing():
    problems = password_problems("abc")
    assert "au moins 12 caractères (il y en a 3)" in problems
    assert "une lettre majuscule" in problems and "un chiffre" in problems
    with pytest.raises(WeakPassword, match="il manque"):
        check_password_policy("abc")


def test_long_password_of_one_kind_is_refused_below_passphrase_length():
    assert password_problems("abcdefghijklmn") == [
        "une lettre majuscule", "un chiffre", "un caractère spécial (par exemple ! ? % @ #)"]
