"""``_toc.yml`` as the tests read it, at test time, so new chapters are covered automatically."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_tools"))
import toc  # noqa: E402  book/_tools/toc.py: _toc.yml read in one place


def toc_docnames() -> list[str]:
    """The root page, then every ``file:`` entry of ``_toc.yml`` in reading order, without suffix."""
    return [toc.root(), *toc.docnames()]
