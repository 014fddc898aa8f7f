"""The package's shape: one exception hierarchy in one module, and a stable public surface."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import tutela
from tutela.errors import TutelaError

# Not engine errors: the HTTP layer's own, and the CSV importer's internal row signal.
ADAPTER_ONLY = {
    "tutela.api.errors.ApiError",
    "tutela.api.middleware._TooLarge",
    "tutela.ledger.imports.RowError",
}


def _modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(tutela.__path__, "tutela.")
        if ".migrations" not in info.name and not info.name.endswith("__main__")
    ]


def test_every_error_lives_in_tutela_errors() -> None:
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, BaseException) or not cls.__module__.startswith("tutela"):
                continue
            qualified = f"{cls.__module__}.{cls.__qualname__}"
            if qualified in ADAPTER_ONLY:
                continue
            assert cls.__module__ == "tutela.errors", f"{qualified} is defined outside errors.py"
            assert issubclass(cls, TutelaError), f"{qualified} is not a TutelaError"


def test_exported_members() -> None:
    # Everything public that the package's root holds (bar its subpackages) is exported,
    # and everything exported exists.
    public = {
        name
        for name, value in vars(tutela).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(tutela.__all__) - {"__version__"}
    assert all(hasattr(tutela, name) for name in tutela.__all__)
