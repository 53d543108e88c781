"""Assignment: who is proposed to whom.

Rules owned here: the priority score and the weight the engine receives, the problem
builders that turn database rows into the engine's records (médecin traitant and SNP), the
matching runs and their review read-model, arbitration of drafts by coordinators, the life
of a proposal, the SNP board, the waiting list order, and the French explanations of the
engine's reason codes.
"""
