"""The compiled build (``TUTELA_COMPILE=1``, see ``setup.py``) finds what the Python one finds.

The hot modules are compiled with mypyc into a copy of the package, and ``detect``
runs there, in a child process, over the evaluation's texts; every entity (type,
offsets, score, validator, flags) must be the same as here, with and without a
phone region and at a lower bar.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tutela.scrub import detect

ROOT = Path(__file__).resolve().parents[2]

# Run here and in the child: every entity of every text, at three settings.
_FOUND = """
def found(detect, texts):
    def rows(entities):
        return [[e.type.value, e.start, e.end, e.score, e.validator, [*e.flags]] for e in entities]

    settings = ({}, {"region": "SE"}, {"min_score": 0.2})
    return [rows(detect(text, lang, **kw)) for lang, text in texts for kw in settings]
"""

_CHILD = f"""
import json, sys
import tutela.scrub.detector as detector
from tutela.scrub import COMPILED, Recognizer, detect
assert detector.__file__.endswith(".so"), detector.__file__
assert COMPILED and Recognizer.__doc__
{_FOUND}
json.dump(found(detect, json.load(sys.stdin)), sys.stdout)
"""


def _texts(scrub_eval: ModuleType) -> list[tuple[str, str]]:
    generated = [(s.lang, s.text) for s in scrub_eval.generate(per_lang=150, seed=5)]
    handwritten = [(s.lang, s.text) for s in scrub_eval.load_handwritten()]
    # Joined, so that several values and their context words share a text.
    langs = sorted({lang for lang, _ in generated})
    joined = [(lang, " ".join(t for other, t in generated if other == lang)) for lang in langs]
    return generated + handwritten + joined


def _build(tree: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``setup.py build_ext --inplace`` in a copy of the sources at ``tree``."""
    for name in ("tutela", "setup.py", "pyproject.toml", "README.md", "LICENSE"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("*.so"))
        else:
            shutil.copy(source, tree / name)
    environ = {k: v for k, v in os.environ.items() if k != "TUTELA_COMPILE"}
    return subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=tree,
        env={**environ, **env},
        capture_output=True,
        text=True,
    )


def test_compiled_build_finds_the_same(tmp_path: Path, scrub_eval: ModuleType) -> None:
    build = _build(tmp_path, TUTELA_COMPILE="1")
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    texts = _texts(scrub_eval)
    child = subprocess.run(
        [sys.executable, "-P", "-c", _CHILD],
        input=json.dumps(texts),
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    compiled = json.loads(child.stdout)
    scope: dict[str, Any] = {}
    exec(_FOUND, scope)
    here = scope["found"](detect, texts)
    assert sum(len(found) for found in here) > 1000
    assert compiled == here


def test_without_a_compiler_the_build_is_pure_python(tmp_path: Path) -> None:
    build = _build(tmp_path, CC="false")
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "compiling failed" in build.stderr and "pure Python" in build.stderr
    assert not list(tmp_path.rglob("*.so"))
