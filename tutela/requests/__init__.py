"""Data subject requests: intake, verification, routing, deadlines, and running them.

``Requests`` receives and moves requests (every transition is an event in the
ledger's audit chain); ``Runner`` carries out approved ones across the
product's databases.
"""

from tutela.requests.model import RequestState, RequestType
from tutela.requests.runner import Runner
from tutela.requests.service import Request, Requests

__all__ = ["Request", "RequestState", "RequestType", "Requests", "Runner"]
