"""Partners: organisations that refer patients, their users, their API keys, their referrals.

Rules owned here: a partner organisation belongs to one territory; its users and keys see
only the referrals that organisation made (:mod:`guichet.partners.referrals`); an API key
is shown once and stored hashed, scoped to read or write (:mod:`guichet.partners.api_keys`);
a fragile referral carries a target delay, and which referrals are at risk of missing it.
"""
