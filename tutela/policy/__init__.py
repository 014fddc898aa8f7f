"""The policy file: its model, the built-in taxonomy, loading with positions, and lint rules.

Everything here is pure: it reads the file it is given and returns values.

>>> from tutela.policy import load
>>> policy = load("examples/james-pro/policy.yaml")  # doctest: +SKIP
"""

from tutela.policy.loader import Document, load, loads, read, reads
from tutela.policy.model import Policy

__all__ = ["Document", "Policy", "load", "loads", "read", "reads"]
