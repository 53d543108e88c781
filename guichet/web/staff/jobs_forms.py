"""Forms of the jobs and letters pages (a button each: only the CSRF token)."""

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A POST button protected by the CSRF token."""
