"""Connectors to the company's own systems: SQL databases (and, to come, Redis, processors).

Connectors are the shell around the pure plans in :mod:`tutela.plan`: they turn
a plan's steps into set-based statements against a real database.
"""
