"""The operators by name, and how to build one from a name and options."""

from __future__ import annotations

from tutela.errors import InputError
from tutela.scrub.operators.base import Operator
from tutela.scrub.operators.encrypt import Encrypt
from tutela.scrub.operators.generalize import Generalize
from tutela.scrub.operators.mask import Mask
from tutela.scrub.operators.pseudonymize import Pseudonymize
from tutela.scrub.operators.redact import Redact
from tutela.scrub.operators.replace import Replace

__all__ = ["KEYED", "OPERATORS", "make_operator"]

OPERATORS: dict[str, type[Operator]] = {
    cls.name: cls for cls in (Redact, Replace, Mask, Pseudonymize, Encrypt, Generalize)
}
"""Every operator class by its name."""

KEYED = frozenset({Pseudonymize.name, Encrypt.name})
"""Operators that need a secret."""


def make_operator(name: str, secret: bytes | None = None, arg: str | None = None) -> Operator:
    """The operator ``name`` (``mask:2`` style arguments come in ``arg``).

    ``replace`` takes its replacement text as ``arg``; ``mask`` the number of
    characters to keep; ``hash`` and ``encrypt`` need ``secret``.
    """
    if name not in OPERATORS:
        known = ", ".join(sorted(OPERATORS))
        raise InputError(f"unknown operator {name!r}; choose one of {known}")
    if name in KEYED:
        if secret is None:
            raise InputError(f"operator {name!r} needs a secret key")
        return Pseudonymize(secret) if name == Pseudonymize.name else Encrypt(secret)
    if name == Mask.name:
        if arg is None:
            return Mask()
        if not arg.isdigit():
            raise InputError(f"mask takes the number of characters to keep, not {arg!r}")
        return Mask(int(arg))
    if name == Replace.name:
        return Replace(arg)
    return OPERATORS[name]()
