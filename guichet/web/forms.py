"""Forms shared by every blueprint."""

from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """A button alone (confirm, approve, resend…): the CSRF token is its only field."""
