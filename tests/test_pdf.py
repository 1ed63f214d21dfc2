"""The PDF check that `make pdf` / `make pdf-check` (and so CI) relies on rejects broken files.

The PDFs themselves are printed and checked by `make pdf` after `make test` (it needs the built
site and a minute of chromium); here the checker is shown a missing file and a blank one.
"""

from __future__ import annotations

from pypdf import PdfWriter

import book_toc  # noqa: F401  puts book/_tools on sys.path

import make_pdf  # noqa: E402  book/_tools/make_pdf.py (book_toc puts book/_tools on sys.path)
import pdf_check  # noqa: E402  book/_tools/pdf_check.py


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
    problems = pdf_check.check(tmp_path / "lossref-en.pdf", "en", fake_site(tmp_path, "en"))
    assert problems and "missing" in problems[0]


def test_a_blank_pdf_fails_every_content_check(tmp_path):
    html = fake_site(tmp_path, "zh")
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    pdf = tmp_path / "lossref-zh.pdf"
    with open(pdf, "wb") as out:
        writer.write(out)
    problems = "\n".join(pdf_check.check(pdf, "zh", html))
    for expected in ("pages for", "not in the text", "has no bookmark", "code cells missing",
                     "no CJK font", "Chinese characters", "is not a top-level bookmark",
                     "(printed contents)"):
        assert expected in problems, f"the check did not flag {expected!r}:\n{problems}"
    if make_pdf.figure_count(make_pdf.chapters("zh")):
        assert "images for" in problems


def outline_pdf(path, parts: list[tuple[str | None, list[str]]]):
    """A one-page PDF whose bookmarks are ``parts``: (caption or None for top level, titles)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for caption, titles in parts:
        parent = writer.add_outline_item(title=caption, page_number=0) if caption else None
        for title in titles:
            writer.add_outline_item(title=title, page_number=0, parent=parent)
    with open(path, "wb") as out:
        writer.write(out)
    return path


def part_problems(problems: list[str]) -> list[str]:
    return [p for p in problems if ": part " in p or "under part" in p]


def test_the_check_requires_the_parts_as_bookmarks_holding_their_chapters(tmp_path):
    """Parts of _toc.yml must be top-level bookmarks with their chapters, in order, under them."""
    for lang in ("en", "zh"):
        html = fake_site(tmp_path / lang, lang)
        parts = make_pdf.parts(lang)
        assert len(parts) >= 2 and sum(len(n) for _, n in parts) == len(make_pdf.chapters(lang))
        title = {d: f"{make_pdf.chapters(lang).index(d) + 1}. Chapter "
                    f"{make_pdf.chapters(lang).index(d) + 1}" for _, names in parts for d in names}

        flat = outline_pdf(tmp_path / f"flat-{lang}.pdf",
                           [(None, [title[d] for _, names in parts for d in names])])
        problems = part_problems(pdf_check.check(flat, lang, html))
        assert sum("is not a top-level bookmark" in p for p in problems) == len(parts), problems
        assert sum("not in the text" in p for p in problems) == len(parts), problems

        shuffled = outline_pdf(tmp_path / f"shuffled-{lang}.pdf",
                               [(caption, [title[d] for d in reversed(names)])
                                for caption, names in parts])
        problems = part_problems(pdf_check.check(shuffled, lang, html))
        assert any("under part" in p for p in problems), problems

        nested = outline_pdf(tmp_path / f"nested-{lang}.pdf",
                             [(caption, [title[d] for d in names]) for caption, names in parts])
        problems = part_problems(pdf_check.check(nested, lang, html))
        # only the printed contents are missing from this blank page: the bookmarks are right
        assert all("not in the text" in p for p in problems), problems


def test_the_landing_page_links_both_pdfs_where_make_pdf_publishes_them():
    """make pdf copies the PDFs into the site's pdf/ folder; both languages' sections of the
    landing page (book/intro.md, built as book/intro.html) link them there."""
    intro = (book_toc.ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    for lang in ("en", "zh"):
        assert intro.count(f'href="../{make_pdf.PUBLISHED}/lossref-{lang}.pdf"') == 2, lang
