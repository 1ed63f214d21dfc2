"""The PDF check that `make pdf` / `make pdf-check` (and so CI) relies on rejects broken files.

The PDFs themselves are printed and checked by `make pdf` after `make test` (it needs the built
site and a minute of chromium); here the checker is shown a missing file and a blank one.
"""

from __future__ import annotations

import importlib.util

from pypdf import PdfWriter

from book_toc import ROOT

spec = importlib.util.spec_from_file_location("make_pdf", ROOT / "book" / "_ext" / "make_pdf.py")
make_pdf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_pdf)


def fake_site(tmp_path, lang: str):
    """A built site whose chapter pages hold only their titles."""
    html = tmp_path / "html"
    for i, docname in enumerate(make_pdf.chapters(lang), 1):
        page = html / f"{docname}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f'<html><head></head><body><article class="bd-article"><section>'
                        f"<h1>{i}. Chapter {i}</h1><p>text</p></section></article></body></html>",
                        encoding="utf-8")
    return html


def test_a_missing_pdf_fails_the_check(tmp_path):
    problems = make_pdf.check(tmp_path / "lossref-en.pdf", "en", fake_site(tmp_path, "en"))
    assert problems and "missing" in problems[0]


def test_a_blank_pdf_fails_every_content_check(tmp_path):
    html = fake_site(tmp_path, "zh")
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    pdf = tmp_path / "lossref-zh.pdf"
    with open(pdf, "wb") as out:
        writer.write(out)
    problems = "\n".join(make_pdf.check(pdf, "zh", html))
    for expected in ("pages for", "not in the text", "has no bookmark", "code cells missing",
                     "no CJK font", "Chinese characters"):
        assert expected in problems, f"the check did not flag {expected!r}:\n{problems}"
    if make_pdf.figure_count(make_pdf.chapters("zh")):
        assert "images for" in problems
