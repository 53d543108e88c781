"""Forms of the public waiting-list and answer pages."""

from flask_wtf import FlaskForm


class ConfirmAnswerForm(FlaskForm):
    """Only the CSRF token: the answer itself is in the link (oui / non)."""
