"""The doctors blueprint object, apart so that its route modules import it without a cycle."""

from flask import Blueprint

bp = Blueprint("doctors", __name__)
