"""The api blueprint object, apart so that its route modules import it without a cycle."""

from flask import Blueprint

bp = Blueprint("api", __name__)
