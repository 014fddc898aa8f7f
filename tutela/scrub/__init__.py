"""Finding and scrubbing personal data in free text.

::

    from tutela.scrub import detect, redact, Mask

    detect("Ring mig på 070-123 45 67", lang="sv")
    redact("IBAN NL91 ABNA 0417 1643 00", operators={"IBAN": Mask(4)})

The core is pure: :func:`detect` and :func:`redact` take text and return values.
The regex back-end used by the combined scan is in :data:`ENGINE`.
"""

from __future__ import annotations

from tutela.scrub import detector as _detector
from tutela.scrub.detector import DEFAULT_MIN_SCORE, Recognizer, detect, resolve
from tutela.scrub.engine import ENGINE
from tutela.scrub.entities import Entity, EntityType
from tutela.scrub.operators import (
    OPERATORS,
    Encrypt,
    Generalize,
    Mask,
    Operator,
    Pseudonymize,
    Redact,
    Replace,
    make_operator,
)
from tutela.scrub.people import KnownPeople, find_mentions
from tutela.scrub.redaction import Operators, apply_operators, redact

COMPILED: bool = not _detector.__file__.endswith(".py")
"""Whether the scrubber's hot modules were compiled with mypyc (a wheel build, see ``setup.py``)."""

__all__ = [
    "COMPILED",
    "DEFAULT_MIN_SCORE",
    "ENGINE",
    "OPERATORS",
    "Encrypt",
    "Entity",
    "EntityType",
    "Generalize",
    "KnownPeople",
    "Mask",
    "Operator",
    "Operators",
    "Pseudonymize",
    "Recognizer",
    "Redact",
    "Replace",
    "apply_operators",
    "detect",
    "find_mentions",
    "make_operator",
    "redact",
    "resolve",
]
