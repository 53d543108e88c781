"""Requests: a patient's demand for a médecin traitant or for same-day care.

Rules owned here: intake (web form, phone intake, insurer lists), references and tracking
tokens, what a patient can do with their private link, the coordinators' queue and what they
do to a request, and retention (anonymisation after closure).
"""
