"""Operators: what replaces a value once it is found.

One small class per operator, all behind :class:`Operator`; :data:`OPERATORS`
maps each name to its class and :func:`make_operator` builds one by name.
"""

from __future__ import annotations

from tutela.scrub.operators.base import Operator
from tutela.scrub.operators.encrypt import Encrypt
from tutela.scrub.operators.generalize import Generalize
from tutela.scrub.operators.keys import DEFAULT_KEY_ENV, secret_from_env
from tutela.scrub.operators.mask import Mask
from tutela.scrub.operators.pseudonymize import Pseudonymize
from tutela.scrub.operators.redact import Redact
from tutela.scrub.operators.registry import KEYED, OPERATORS, make_operator
from tutela.scrub.operators.replace import Replace

__all__ = [
    "DEFAULT_KEY_ENV",
    "KEYED",
    "OPERATORS",
    "Encrypt",
    "Generalize",
    "Mask",
    "Operator",
    "Pseudonymize",
    "Redact",
    "Replace",
    "make_operator",
    "secret_from_env",
]
