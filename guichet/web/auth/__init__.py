"""Sign-in, sign-out, password reset and invitations (staff, admins and GPs)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from guichet.web.auth import views  # noqa: E402,F401
