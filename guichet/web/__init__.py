"""The Flask application factory."""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask, g, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from guichet import vocabulary
from guichet.clock import Clock, system_clock
from guichet.db import make_engine, make_sessionmaker
from guichet.formatting import FILTERS
from guichet.identifiers import format_phone, format_short_code
from guichet.settings import SettingsError, load_settings
from guichet.web.hygiene import init_hygiene
from guichet.web.metrics import init_metrics
from guichet.web.ratelimit import init_rate_limits
from guichet.web.request_log import init_request_log
from guichet.web.security import init_security
from guichet.web.session import close_session

csrf = CSRFProtect()


class GuichetFlask(Flask):
    def log_exception(self, exc_info: Any) -> None:
        # Flask's own line quotes the path (a tracking token) and its traceback the exception's
        # text (a database error quotes values): the JSON log keeps the class and place only
        self.logger.error("unhandled exception", exc_info=exc_info, extra={"event": "error"})

# WTForms' own messages (a number or date it cannot read, a choice not in the list) in
# French, for every form; our validators carry their own French messages.
FlaskForm.Meta.locales = ["fr_FR", "fr"]


def create_app(overrides: dict[str, Any] | None = None, *, clock: Clock = system_clock) -> Flask:
    """Create the application.

    `overrides` replaces settings (tests pass TESTING, DATABASE_URL, or a ready
    "SESSIONMAKER" so that every request joins the test's transaction). `clock` is the
    one source of "now" for views, CLI commands and the scheduler (tests pass a
    FrozenClock and move it). The scheduler is deliberately not started here: it runs
    in its own process (`jobs run`).
    """
    overrides = dict(overrides or {})
    sessionmaker = overrides.pop("SESSIONMAKER", None)
    settings = load_settings(overrides)
    app = GuichetFlask(__name__)
    app.config.update(settings)
    app.config["WTF_I18N_ENABLED"] = False  # no Flask-Babel: use WTForms' bundled French
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the session's own lifetime bounds the token
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024

    engine = None
    if sessionmaker is None:
        engine = make_engine(settings["DATABASE_URL"], pool_pre_ping=True)
        sessionmaker = make_sessionmaker(engine)
    app.extensions["guichet"] = {
        "engine": engine,
        "sessionmaker": sessionmaker,
        "clock": clock,
    }
    app.extensions["guichet"]["ratelimiter"] = init_rate_limits(app)
    app.teardown_appcontext(close_session)

    init_hygiene(app)  # first: its converter must exist before any route is added
    csrf.init_app(app)
    init_request_log(app)
    init_metrics(app)
    init_security(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_errors(app)
    from guichet.cli import register_cli

    register_cli(app)
    # Personal data never goes to the logs (guichet/logs.py): the development server's own
    # request lines (full URLs with tokens) are silenced; ours are masked JSON lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def create_app_or_exit() -> Flask:
    """create_app() for wsgi.py: a configuration error is one readable line, not a traceback."""
    try:
        return create_app()
    except SettingsError as exc:
        print(f"Configuration invalide : {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _register_blueprints(app: Flask) -> None:
    from guichet.web.api import bp as api_bp
    from guichet.web.api import init_api
    from guichet.web.auth import bp as auth_bp
    from guichet.web.doctors import bp as doctors_bp
    from guichet.web.partners import bp as partners_bp
    from guichet.web.public import bp as public_bp
    from guichet.web.staff import bp as staff_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp, url_prefix="/coordination")
    app.register_blueprint(doctors_bp, url_prefix="/medecin")
    app.register_blueprint(partners_bp, url_prefix="/partenaire")
    init_api(app)  # the API blueprint, its OpenAPI description and its documentation page
    csrf.exempt(api_bp)


def _register_template_helpers(app: Flask) -> None:
    # dates, times, decimals and plurals in French, the same as in e-mails and letters
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.filters["phone_fr"] = format_phone
    app.jinja_env.filters["short_code"] = lambda code: format_short_code(code or "")
    app.jinja_env.globals["service_name"] = "Guichet CPTS"
    # code lists and their French labels (guichet/vocabulary.py), for every page
    app.jinja_env.globals["vocabulary"] = vocabulary


def _is_outage(exc: DBAPIError) -> bool:
    """A lost or refused connection (server down, restarting), not a bug in a query.

    PostgreSQL drivers raise OperationalError for connection trouble only; SQLite also
    uses it for a missing table, so there only a locked database counts as an outage.
    """
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    if type(exc.orig).__module__.startswith("sqlite3"):
        return "locked" in str(exc.orig)
    return True


def _register_errors(app: Flask) -> None:
    messages = {
        400: ("Demande incorrecte", "La page n'a pas compris la demande. Réessayez depuis l'accueil."),
        403: ("Accès refusé", "Votre compte ne permet pas d'ouvrir cette page."),
        404: ("Page introuvable", "Cette page n'existe pas ou n'est plus disponible."),
        405: ("Action impossible", "Cette action n'est pas possible depuis cette page."),
        413: ("Fichier trop volumineux", "Le fichier envoyé dépasse 20 Mo."),
        429: ("Trop de tentatives", "Merci de patienter quelques minutes avant de réessayer."),
        500: ("Erreur du service",
              "Un incident est survenu ; rien n'a été enregistré. Réessayez dans un instant."),
    }

    from guichet.web.api.problems import from_http_exception, is_api_request, problem

    def handler(exc: Any) -> Any:
        if isinstance(exc, SecurityError):
            # a Host this service does not answer for (production): no page, no link built for it
            return "Adresse du service inconnue.", 400
        if is_api_request() and isinstance(exc, HTTPException):
            return from_http_exception(exc)  # an unknown address or method under /api/: problem+json
        code = getattr(exc, "code", 500) or 500
        title, text = messages.get(code, messages[500])
        return render_template("errors/error.html", title=title, text=text, code=code), code

    for code in messages:
        app.register_error_handler(code, handler)

    from flask_wtf.csrf import CSRFError

    from guichet.web.security import login_manager
    from guichet.web.session import discard_session
    from guichet.workflow import IllegalTransition

    def answer(status: int, title: str, text: str, headers: dict[str, str] | None = None) -> Any:
        if is_api_request():
            return problem(status, text, headers=headers)
        return render_template("errors/error.html", title=title, text=text, code=status), status, headers or {}

    @app.errorhandler(IllegalTransition)
    @app.errorhandler(IntegrityError)
    def _conflict(_exc: Exception) -> Any:
        # A page left open while someone else moved the record on, or two clicks racing each
        # other: the database refused the second change and the transaction is rolled back.
        discard_session()
        text = ("Cette action n'est plus possible : la situation a changé depuis l'affichage de la "
                "page (quelqu'un vient peut-être de la traiter). Revenez en arrière et rechargez-la. "
                "Rien n'a été enregistré.")
        return answer(409, "Action impossible", text)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: DBAPIError) -> Any:
        # The database is down or restarting. For a form, the commit may or may not have
        # reached it: say so rather than "nothing was saved".
        if not _is_outage(exc):  # a bug (e.g. SQLite's "no such table"): the usual 500
            app.log_exception(sys.exc_info())
            discard_session()
            return answer(500, *messages[500])
        app.logger.error("database unavailable", exc_info=exc, extra={"event": "error", "status": 503})
        discard_session()
        # render the page as for a visitor: loading the signed-in user would need the database
        g._login_user = login_manager.anonymous_user()
        if request.method == "POST":
            text = ("Le service n'a pas pu joindre sa base de données pendant l'envoi : il n'est pas "
                    "certain que votre dernière action ait été enregistrée. Attendez quelques minutes, "
                    "rechargez la page pour vérifier, puis recommencez si besoin (une demande déjà "
                    "reçue n'est jamais enregistrée deux fois).")
        else:
            text = "Le service est momentanément indisponible. Réessayez dans quelques minutes."
        return answer(503, "Service momentanément indisponible", text, {"Retry-After": "60"})

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> tuple[str, int]:
        text = ("Le formulaire a expiré ou n'a pas été envoyé depuis ce site. "
                "Revenez en arrière, rechargez la page et envoyez-le à nouveau.")
        return render_template("errors/error.html", title="Formulaire expiré", text=text,
                               code=400), 400
