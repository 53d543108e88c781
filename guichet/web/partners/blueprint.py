"""The partners blueprint object, apart so that its route modules import it without a cycle."""

from flask import Blueprint

bp = Blueprint("partners", __name__)
