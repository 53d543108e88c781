"""Stable import paths kept for code written before the domain packages."""
