"""Build hook: the scrubber's hot modules are compiled with mypyc.

A wheel (``pip install .``) gets the modules the scrubber spends its time in
compiled with mypyc, which comes with mypy (a build requirement) and needs a C
compiler. Without one, or when the compile fails, the wheel is pure Python and
the build says why; ``tutela scrub --version`` tells which build runs. An editable
install (``pip install -e .``) stays pure Python, because a compiled module would
shadow its source and edits would not take effect.

``TUTELA_COMPILE=1`` makes a failed compile an error (``setup.py build_ext
--inplace`` compiles in place, as the tests do); ``TUTELA_COMPILE=0`` never compiles.
Everything else is configured in ``pyproject.toml``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The per-candidate work of ``tutela.scrub.detect``; the modules it calls into.
# The public classes (entities, operators) stay Python, so that they keep their
# docstrings and can be subclassed.
HOT_MODULES = [
    "tutela/scrub/patterns.py",
    "tutela/scrub/validators.py",
    "tutela/scrub/context.py",
    "tutela/scrub/engine.py",
    "tutela/scrub/recognizers.py",
    "tutela/scrub/detector.py",
]

MODE = os.environ.get("TUTELA_COMPILE", "").strip()
# setuptools runs this file with the command it is building for in ``sys.argv``. mypyc
# does its work when it is called, so only commands that build code call it, not
# those that only read the metadata (``egg_info``, ``dist_info``) or build an
# editable install (``editable_wheel``).
BUILDS = {"bdist_wheel", "build", "build_ext", "install", "bdist_egg"}
BUILDING = not BUILDS.isdisjoint(sys.argv[1:])


def _say(message: str) -> None:
    print(f"tutela build: {message}", file=sys.stderr)


class BuildExt(build_ext):
    """``build_ext`` that falls back to pure Python, unless compiling was demanded."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:
            if MODE == "1":
                raise
            # A half-built set would not import: the shims need the shared library.
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            _say(f"compiling failed ({error}); the scrubber is pure Python")


def _extensions(config_dir: str) -> list[Any]:
    if MODE == "0" or not BUILDING:
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        if MODE == "1":
            raise
        _say("mypy is not installed; the scrubber is pure Python")
        return []
    # Not pyproject.toml's mypy settings: its pydantic plugin is not needed for these
    # modules, and the libraries they import may not be installed when this runs.
    config = Path(config_dir, "mypy.ini")
    config.write_text("[mypy]\n")
    options = ["--config-file", str(config), "--ignore-missing-imports"]
    try:
        return list(
            mypycify(
                [*options, "--follow-imports=silent", *HOT_MODULES],
                opt_level="3",
                group_name="tutela_scrub",
            )
        )
    except (Exception, SystemExit) as error:  # mypyc exits on a type error
        if MODE == "1":
            raise
        _say(f"mypyc could not compile ({error!r}); the scrubber is pure Python")
        return []


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as config_dir:
        setup(ext_modules=_extensions(config_dir), cmdclass={"build_ext": BuildExt})
