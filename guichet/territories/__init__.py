"""Territories: the CPTS, their communes and their settings.

Rules owned here: the reference communes (COG 2024) and postal-code look-ups, creating a
territory from its INSEE codes, and each territory's settings (defaults, validation).
"""
