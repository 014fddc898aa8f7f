"""The HTTP API, an adapter over the engine: ``create_app(tutela)`` returns a FastAPI app.

>>> from tutela import Tutela
>>> from tutela.api import create_app
>>> app = create_app(Tutela.open("policy.yaml", "sqlite:///t.db", upgrade=True))  # doctest: +SKIP

Routes parse, call the engine and format; errors map to statuses in
:mod:`tutela.api.errors`.
"""

from tutela.api.app import create_app
from tutela.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
