import pytest

from guichet.settings import SettingsError, load_settings


def test_environment_overrides_defaults():
    settings = load_settings(environ={"DATABASE_URL": "sqlite:////tmp/x.sqlite3",
                                      "GUICHET_IDLE_TIMEOUT_MINUTES": "5",
                                      "GUICHET_SESSION_COOKIE_SECURE": "true"})
    assert settings["DATABASE_URL"] == "sqlite:////tmp/x.sqlite3"
    assert settings["IDLE_TIMEOUT_MINUTES"] == 5
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_explicit_overrides_win_over_environment():
    settings = load_settings({"IDLE_TIMEOUT_MINUTES": 1}, environ={"GUICHET_IDLE_TIMEOUT_MINUTES": "5"})
    assert settings["IDLE_TIMEOUT_MINUTES"] == 1


def test_default_database_is_sqlite_under_instance():
    settings = load_settings(environ={})
    assert settings["DATABASE_URL"].startswith("sqlite:///")
    assert settings["DATABASE_URL"].endswith("/instance/guichet.sqlite3")


def test_plain_postgresql_url_uses_psycopg3():
    settings = load_settings(environ={"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x"})
    assert settings["DATABASE_URL"].startswith("postgresql+psycopg://")


@pytest.mark.parametrize("url", ["postgres:/:bad", "not a url", "mysql://u@h/db"])
def test_malformed_database_url_gives_a_readable_error(url):
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings(environ={"DATABASE_URL": url})


def test_bad_typed_variable_names_the_variable():
    with pytest.raises(SettingsError, match="GUICHET_IDLE_TIMEOUT_MINUTES"):
        load_settings(environ={"GUICHET_IDLE_TIMEOUT_MINUTES": "trente"})


def test_production_requires_a_secret_from_the_environment():
    with pytest.raises(SettingsError, match="GUICHET_SECRET_KEY"):
        load_settings(environ={"GUICHET_ENV": "production"})
    settings = load_settings(environ={"GUICHET_ENV": "production", "GUICHET_SECRET_KEY": "s" * 40})
    assert settings["SECRET_KEY"] == "s" * 40


def test_admins_need_a_second_factor_in_production_only_unless_set():
    production = {"GUICHET_ENV": "production", "GUICHET_SECRET_KEY": "s" * 40}
    assert load_settings(environ=production)["REQUIRE_2FA_ADMINS"] is True
    assert load_settings(environ={})["REQUIRE_2FA_ADMINS"] is False  # development and bin/demo stay simple
    assert load_settings(environ={**production, "GUICHET_REQUIRE_2FA_ADMINS": "false"})["REQUIRE_2FA_ADMINS"] is False
    assert load_settings(environ={"GUICHET_REQUIRE_2FA_ADMINS": "yes"})["REQUIRE_2FA_ADMINS"] is True
    assert load_settings({"REQUIRE_2FA_ADMINS": True}, environ={})["REQUIRE_2FA_ADMINS"] is True
    assert load_settings(environ={})["REQUIRE_2FA_STAFF"] is False
    with pytest.raises(SettingsError, match="GUICHET_REQUIRE_2FA_ADMINS"):
        load_settings(environ={"GUICHET_REQUIRE_2FA_ADMINS": "peut-être"})
