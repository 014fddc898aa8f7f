"""Every error Tutela raises, in one hierarchy.

::

    TutelaError
      InputError            input that cannot be read at all (missing file, bad encoding, too big)
      PolicyError           a policy file that can be read but is not valid; carries every problem
      TaxonomyError         the taxonomy data is malformed, or an extension clashes with it
      LedgerError           the engine's own database refused or is in the wrong state
        SubjectNotFound     no subject, organisation or key by that name   (also a NotFound)
      IdentityError         an identifier that cannot be normalised        (also a ValueError)
      LinkError             an unsubscribe link that is altered, forged or expired
      DownloadError         a package download link that is altered, forged or expired
      RequestError          a data subject request cannot move the way it was asked to
        RequestNotFound     no request by that id                          (also a NotFound)
        TaskNotFound        no processor task by that id                   (also a NotFound)
        TooManyCodes        verification codes asked for too often; carries retry_after
      ConnectorError        a product database, cache or processor failed
        CallbackRejected    a processor callback whose signature or content does not hold
      NotFound              something named does not exist (a mixin of the ones marked)

Callers that only want to know "did Tutela refuse this?" catch ``TutelaError``.
Adapters map the classes to exit codes and HTTP status codes in one place each.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CallbackRejected",
    "ConnectorError",
    "DownloadError",
    "IdentityError",
    "InputError",
    "LedgerError",
    "LinkError",
    "NotFound",
    "PolicyError",
    "Problem",
    "RequestError",
    "RequestNotFound",
    "SubjectNotFound",
    "TaskNotFound",
    "TaxonomyError",
    "TooManyCodes",
    "TutelaError",
]


class TutelaError(Exception):
    """Root of every error Tutela raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, and where it is.

    ``line`` and ``column`` are 1-based; 0 means the position is unknown (for
    example a required key that is absent from a mapping: the mapping's own
    position is used when known).
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class InputError(TutelaError):
    """The input cannot be read at all: it is missing, not UTF-8, too large, or not YAML."""

    def __init__(self, message: str, problem: Problem | None = None) -> None:
        super().__init__(message)
        self.problem = problem


class PolicyError(TutelaError):
    """A policy file was read but is not a valid policy. ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(str(p) for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun} in the policy file:\n{lines}")


class LedgerError(TutelaError):
    """The ledger database refused an operation or has an outdated schema."""


class RequestError(TutelaError):
    """A data subject request cannot be created or moved as asked."""


class ConnectorError(TutelaError):
    """A connector to a product database, cache or processor failed."""


class NotFound(TutelaError):
    """Something named (a subject, an organisation, a key, a request) does not exist."""


class SubjectNotFound(NotFound, LedgerError):
    """No subject, organisation or API key by that name in the ledger."""


class RequestNotFound(NotFound, RequestError):
    """No data subject request by that id."""


class TaskNotFound(NotFound, RequestError):
    """No processor task by that id."""


class TooManyCodes(RequestError):
    """Too many codes were asked for the same identity or from the same address lately.

    The limit counts what was asked, never who exists, so refusing reveals nothing.
    """

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds until the oldest code in the window stops counting."""


class CallbackRejected(ConnectorError):
    """A processor's status callback whose signature or content does not hold."""


class TaxonomyError(TutelaError):
    """The taxonomy data is malformed, or an extension clashes with it."""


class IdentityError(TutelaError, ValueError):
    """An identifier that cannot be normalised (not an email, not a phone number...)."""


class LinkError(TutelaError):
    """A link that is malformed, altered, forged or expired."""


class DownloadError(TutelaError):
    """A download link that is malformed, altered, forged or expired."""
