"""GPs: who they are and what they offer.

Rules owned here: registration by RPPS and invitation, the GP portal's reads, capacity
declarations and what remains of them (never over-committed), SNP slots (one-off series and
weekly patterns) and the booking that can never happen twice.
"""
