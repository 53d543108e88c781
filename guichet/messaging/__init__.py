"""Messaging: what Guichet tells people, and when.

Rules owned here: the outbox (who is written to about a request, deduplication), delivery by
SMTP with retries and printed letters, follow-ups and expiries, and the publication of the
waiting lists and daily digests.
"""
