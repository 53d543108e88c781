"""Accounts: who may sign in and what they did.

Rules owned here: the password policy and argon2id hashing, login with throttling, single-use
tokens (invitation, reset), the second factor (TOTP and recovery codes, who must enrol: two_factor),
staff accounts managed by a territory's admins, and the audit log
(every login, refused access, and staff read or change of a patient record).
"""
