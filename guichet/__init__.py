"""Guichet: the one-stop shop of a CPTS for patients without a regular GP."""

__version__ = "0.1.0"
