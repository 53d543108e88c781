"""The CLI commands, on a fresh database, as an administrator would run them."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from guichet.models import Commune, User
from guichet.settings import PROJECT_ROOT
from tests.conftest import fresh_database_url

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_url(tmp_path_factory):
    url, cleanup = fresh_database_url(tmp_path_factory, "cli")
    yield url
    cleanup()


def flask(url, *args):
    # no timeout= here: subprocess then polls with time.sleep, which libfaketime breaks in CI's
    # shifted-date runs (EINVAL); pytest-timeout stops a command that hangs
    env = dict(os.environ, DATABASE_URL=url, GUICHET_SECRET_KEY="test")
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True)


def test_init_db_load_demo_and_create_user_from_scratch(fresh_url):
    first = flask(fresh_url, "init-db")
    assert first.returncode == 0, first.stderr
    assert "Communes chargées : 3" in first.stdout
    again = flask(fresh_url, "init-db")
    assert "Communes déjà chargées" in again.stdout

    demo = flask(fresh_url, "load-demo")
    assert demo.returncode == 0, demo.stderr
    assert "15 médecins, 200 demandes" in demo.stdout
    assert "coordination@royans-vercors.demo" in demo.stdout

    created = flask(fresh_url, "create-user", "--email", "nouvelle@exemple.fr", "--name",
                    "Nina Nouvelle", "--role", "staff", "--territory", "cpts-royans-vercors",
                    "--password", "Correct-Horse-42!")
    assert created.returncode == 0, created.stderr
    assert "Compte créé : nouvelle@exemple.fr (staff)" in created.stdout

    weak = flask(fresh_url, "create-user", "--email", "faible@exemple.fr", "--name", "F",
                 "--territory", "cpts-royans-vercors", "--password", "court")
    assert weak.returncode == 1 and "Mot de passe trop faible" in weak.stderr
    assert "Traceback" not in weak.stderr

    from guichet.db import make_engine
    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Commune)) > 34000
        assert conn.scalar(select(func.count()).select_from(User).where(User.email == "faible@exemple.fr")) == 0
    engine.dispose()


def test_unknown_commune_in_a_territory_is_a_clear_error(fresh_url):
    flask(fresh_url, "init-db")
    result = flask(fresh_url, "create-territory", "CPTS Test", "26059", "12345")
    assert result.returncode == 1
    assert "Communes inconnues (codes INSEE) : 12345." in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["postgres:/:nope", "mysql://u@h/db"])
def test_malformed_database_url_is_one_readable_line(url):
    result = flask(url, "init-db")
    assert result.returncode == 1
    assert "Configuration invalide : DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
