"""Tutela makes a privacy policy run.

The public surface is re-exported here; everything else lives in modules named
for the domain word they hold.
"""

from tutela.engine import Tutela
from tutela.errors import (
    ConnectorError,
    InputError,
    LedgerError,
    PolicyError,
    Problem,
    RequestError,
    TutelaError,
)

__version__ = "0.1.0"

__all__ = [
    "ConnectorError",
    "InputError",
    "LedgerError",
    "PolicyError",
    "Problem",
    "RequestError",
    "Tutela",
    "TutelaError",
    "__version__",
]
