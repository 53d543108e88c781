"""The auth blueprint object, apart so that its route modules import it without a cycle."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
