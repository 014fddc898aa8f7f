"""Tutela makes a privacy policy run.

The public surface is re-exported here; everything else lives in modules named
for the domain word they hold.
"""

from tutela.engine import Tutela
from tutela.errors import (
    ConnectorError,
    InputError,
    LedgerError,
    NotFound,
    PolicyError,
    Problem,
    RequestError,
    RequestNotFound,
    SubjectNotFound,
    TutelaError,
)

__version__ = "0.1.0"

__all__ = [
    "ConnectorError",
    "InputError",
    "LedgerError",
    "NotFound",
    "PolicyError",
    "Problem",
    "RequestError",
    "RequestNotFound",
    "SubjectNotFound",
    "Tutela",
    "TutelaError",
    "__version__",
]
