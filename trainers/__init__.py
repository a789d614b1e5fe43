"""Trainers: turn expert demonstrations and the environments into better agents.

One module per algorithm (SFT, RFT, NAT, DPO, ETO, SPIN, ...), readable top to bottom, on a
small shared core in :mod:`trainers.core`: a tiny model builder for tests, token masks that
score only the agent's turns, and log-probs of agent tokens in padded batches.
"""
