"""Exactly once under faults (#17): the database holds the truth, Redis is the fast path.

This package owns what makes a callback count once however Redis, the database or the
platform fail: the transactional inbox (a row per callback identity, written in the same
transaction as its effects, with the passive reply a retry gets again), the durable
draft marks (a conversation that ends in a database write carries a draft id into the row
it creates, and a draft Redis lost is told as such), ticket numbers guarded by their
unique key, the one deadline each webhook request lives by, and the classification of
database errors into outages (kept for replay) and bugs or duplicates (handled once).
"""
