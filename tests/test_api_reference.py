"""The API reference covers every public name, and the chapters link to it (issue 27).

Without a build: the ``{lossref-api}`` directive's reST names every public function, class and
gradient (book/_ext/lossref_site/api.py), and ``book/_tools/link_api.py --check`` finds every
chapter already linked — each family chapter to every function it is about, its gradient and
class, and every backticked ``lossref.NAME`` in prose. The built pages are checked by
test_site.py (the reference's anchors exist and chapter links reach them).
"""

from __future__ import annotations

import re
import sys

import nbformat

import lossref
from book_toc import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from lossref_site import api  # noqa: E402

import link_api  # noqa: E402  book/_tools/link_api.py (book_toc puts book/_tools on sys.path)

ROLE = re.compile(r"\{py:(?:func|class)\}`(lossref\.[\w.]+)`")


def test_reference_names_every_public_object():
    text = "\n".join(line for lines in api.reference_lines().values() for line in lines)
    documented = set(re.findall(r":: (lossref\.[\w.]+)", text))
    public = {f"lossref.{n}" for n in lossref.__all__ if n != "grad"}
    public |= {f"lossref.grad.{n}" for n in lossref.grad.__all__}
    assert public - documented == set(), "not in the API reference"


def test_chapters_are_linked(capsys):
    # `python book/_tools/link_api.py --check`, called here: a second interpreter would import
    # NumPy, lossref and nbformat again (2 core-s) to run the same main()
    code = link_api.main(["--check"])
    assert code == 0, ("run `python book/_tools/link_api.py` (then `make execute` "
                       "is not needed: only markdown changes)\n" + capsys.readouterr().out)


def links_by_chapter() -> dict[str, set[str]]:
    found = {}
    for path in link_api.chapters():
        nb = nbformat.read(path, as_version=4)
        found[f"{path.parent.name}/{path.name}"] = {
            m for cell in nb.cells if cell.cell_type == "markdown"
            for m in ROLE.findall(cell.source)}
    return found


def test_each_family_chapter_links_each_of_its_functions():
    links = links_by_chapter()
    total = 0
    for name, targets in links.items():
        lang, file = name.split("/")
        total += len(targets)
        for function in link_api.CHAPTER_FUNCTIONS.get(file[:2], []):
            assert f"lossref.{function}" in targets, f"{name} does not link lossref.{function}"
            if function in lossref.grad.__all__:
                assert f"lossref.grad.{function}" in targets, f"{name}: no lossref.grad.{function}"
    assert total >= 100, f"only {total} distinct links to the API reference across the book"
