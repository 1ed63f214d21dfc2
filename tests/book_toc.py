"""``_toc.yml`` as the tests read it, at test time, so new chapters are covered automatically."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_tools"))
import toc  # noqa: E402  book/_tools/toc.py: _toc.yml read in one place


def toc_docnames() -> list[str]:
    """The root page, then every ``file:`` entry of ``_toc.yml`` in reading order, without suffix.

    Read again only when ``_toc.yml`` changed (its size and mtime): test_notebook_guard asks
    once per notebook, and each reading parses the YAML twice (~20 ms)."""
    stat = (ROOT / "_toc.yml").stat()
    return list(_docnames(stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=1)
def _docnames(mtime_ns: int, size: int) -> tuple[str, ...]:
    return (toc.root(), *toc.docnames())
