"""Write docs/taxonomy.md from the taxonomy data files.

Usage: python scripts/gen_taxonomy_docs.py [--check]

With --check, write nothing and exit 1 if the page is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "taxonomy.md"

# Run from a checkout without installing the package.
sys.path.insert(0, str(ROOT))

from tutela.policy.taxonomy_docs import render_markdown  # noqa: E402


def main(argv: list[str]) -> int:
    """Generate the page, or with ``--check`` compare it; return the exit code."""
    text = render_markdown()
    if "--check" in argv:
        current = DOC.read_text("utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC.relative_to(ROOT)} is out of date; run {Path(__file__).name}")
            return 1
        return 0
    DOC.write_text(text, "utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
