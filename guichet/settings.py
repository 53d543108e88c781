"""Settings: config/defaults.toml, then the environment, then explicit overrides."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = PROJECT_ROOT / "config" / "defaults.toml"
INSTANCE_DIR = PROJECT_ROOT / "instance"
ENV_PREFIX = "GUICHET_"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _coerce(raw: str, default: Any) -> Any:
    """Give an environment string the type of the default it overrides."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"expected true/false, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def check_database_url(url: str) -> str:
    """Return a usable SQLAlchemy URL or raise SettingsError with a readable message."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise SettingsError(
            f"DATABASE_URL est mal formée ({url!r}). Exemples valides : "
            "'sqlite:///instance/guichet.sqlite3' ou "
            "'postgresql://utilisateur@127.0.0.1:5432/guichet'."
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise SettingsError(
            f"DATABASE_URL désigne {backend!r} : Guichet fonctionne avec sqlite ou postgresql."
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
            parsed = parsed.set(database=str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


def _secret_key(settings: dict[str, Any]) -> str:
    """Secrets come from the environment; in development one is generated and kept."""
    if settings.get("SECRET_KEY"):
        return str(settings["SECRET_KEY"])
    if settings.get("ENV") == "production":
        raise SettingsError("GUICHET_SECRET_KEY doit être définie en production.")
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _production_default(settings: dict[str, Any], key: str) -> bool:
    """A switch that is on in production and off elsewhere, unless set explicitly."""
    value = settings.get(key, "")
    if isinstance(value, bool):
        return value
    if str(value).strip() == "":
        return settings.get("ENV") == "production"
    try:
        return bool(_coerce(str(value), True))
    except ValueError as exc:
        raise SettingsError(f"{ENV_PREFIX}{key} : valeur invalide ({exc}).") from exc


def load_settings(
    overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """Load the settings: defaults file, then DATABASE_URL and GUICHET_* variables, then overrides.

    Raises SettingsError when a value cannot be used.
    """
    env = os.environ if environ is None else environ
    with DEFAULTS_FILE.open("rb") as fh:
        settings: dict[str, Any] = tomllib.load(fh)
    settings.setdefault("ENV", "development")
    settings.setdefault("SECRET_KEY", "")
    settings.setdefault("SMTP_PASSWORD", "")
    if "DATABASE_URL" in env:
        settings["DATABASE_URL"] = env["DATABASE_URL"]
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):]
        if key == "JOBS" or key.startswith("TEST_"):
            continue
        default = settings.get(key, "")
        try:
            settings[key] = _coerce(raw, default)
        except ValueError as exc:
            raise SettingsError(f"{name} : valeur invalide ({exc}).") from exc
    settings.update(overrides or {})
    settings["REQUIRE_2FA_ADMINS"] = _production_default(settings, "REQUIRE_2FA_ADMINS")
    settings["DATABASE_URL"] = check_database_url(str(settings["DATABASE_URL"]))
    settings["SECRET_KEY"] = _secret_key(settings)
    return settings
