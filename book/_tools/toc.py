"""``_toc.yml`` read in one place: the pages in reading order, and the parts of each language.

Used by ``make execute`` (book/_tools/execute.py), ``make pdf`` (book/_tools/make_pdf.py) and the
tests (tests/book_toc.py), so a new chapter in ``_toc.yml`` reaches all three at once.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
#: the books: folder under book/ -> the page language (BCP 47), as the site marks it
#: (book/_ext/lossref_site/languages.py keys the same tags by docname prefix)
LANGUAGES = {"en": "en", "zh": "zh-CN"}


def load() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def _docname(entry) -> str:
    return str(entry).removesuffix(".ipynb").removesuffix(".md")


def docnames() -> list[str]:
    """Every ``file:`` entry in reading order (the root page excluded), without suffix."""
    names: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                names.append(_docname(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in load().items() if k != "root"})
    return names


def root() -> str:
    return _docname(load()["root"])


def parts(lang: str) -> list[tuple[str, list[str]]]:
    """The parts holding chapters of one language, in order: ``(caption, docnames)``."""
    found = []
    for part in load().get("parts", []):
        names = [_docname(c["file"]) for c in part.get("chapters", []) if "file" in c]
        names = [n for n in names if n.startswith(f"book/{lang}/")]
        if names:
            found.append((str(part.get("caption", "")), names))
    return found
