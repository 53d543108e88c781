"""The public blueprint object, apart so that its route modules import it without a cycle."""

from flask import Blueprint

bp = Blueprint("public", __name__)
