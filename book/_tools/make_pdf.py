"""``make pdf``: one PDF per language, printed from the built site by Debian's chromium.

    python book/_tools/make_pdf.py [--html _build/html] [--out _build/pdf] [--check-only]

Why this route (STYLE §6 lists two): the site is already the typeset book — MathJax, figures,
code cells with their outputs, the Chinese interface — and the browser tests already drive
Debian's chromium through Playwright. Printing that HTML costs a few seconds per language and no
TeX installation (texlive-xetex + texlive-lang-chinese is about a gigabyte, and the LaTeX route
would need every MyST/myst-nb construct to survive a second writer). What you see on the site
is what you get on paper.

For each language the chapters of ``_toc.yml`` are put, in order, into one print document (the
``<article>`` of each built page, ids prefixed per chapter so links inside the book still work).
Chromium prints it once with its outline (bookmarks from the headings); the front matter (a cover
and the contents: the part captions of ``_toc.yml``, each followed by its chapters with the page on
which each starts, read from that outline) is printed separately; pypdf joins the two, rebuilds the
bookmarks named after the headings with one top-level bookmark per part holding its chapters
(Part I / 第一部分 ...), numbers the pages as
their footers do (i, ii, then 1, 2, ...) and makes the contents' entries links. Fonts are
embedded as subsets; the Chinese text is set in Debian's WenQuanYi Micro Hei (``make pdf``
installs ``fonts-wqy-microhei`` when run as root): chromium embeds the CFF-based Noto CJK fonts as
Type 3 glyphs whose text extracts as Kangxi radicals (⽬ for 目), so the PDF could not be searched.

``check()`` then opens each PDF with pypdf and fails (exit 1) when a file is missing or broken:
too few pages, a chapter title missing from the text or the bookmarks, a part caption of
``_toc.yml`` missing from the printed contents or not a top-level bookmark holding its chapters
in order, raw TeX in the text, a
font not embedded, Chinese text that extracts as radicals, no CJK font or too little Chinese text
in the Chinese PDF, fewer images than the chapters' figures, no code.
"""

from __future__ import annotations

import argparse
import functools
import html as html_lib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

import toc  # book/_tools/toc.py, beside this script: _toc.yml and the languages in one place

ROOT = toc.ROOT
CHROMIUM = "/usr/bin/chromium"
#: where the PDFs are published in the built site (book/intro.md links them there)
PUBLISHED = "pdf"
LANGS = toc.LANGUAGES
WORDS = {
    "en": {"contents": "Contents", "subtitle": "Loss functions, exact to the last digit",
           "note": "Printed from the lossref book. Every number in it is computed in a cell."},
    "zh": {"contents": "目录", "subtitle": "损失函数，精确到最后一位",
           "note": "由 lossref 网站版印制。书中每个数字都由代码单元格算出。"},
}
PRINT_CSS = """
html, body { background: #fff; }
body { margin: 0; font-size: 10pt; }
.bd-article { max-width: none !important; padding: 0 !important; }
.lossref-cover { height: 240mm; display: flex; flex-direction: column; justify-content: center;
  text-align: center; break-after: page; }
.lossref-cover h1 { font-size: 34pt; margin: 0 0 6mm; border: 0; }
.lossref-cover p { font-size: 15pt; color: #444; margin: 0 0 4mm; }
.lossref-cover p.lossref-note { font-size: 10pt; color: #777; margin-top: 18mm; }
.lossref-toc { break-after: page; }
.lossref-toc h1 { font-size: 20pt; }
.lossref-toc ol { list-style: none; padding: 0; }
.lossref-toc li { display: flex; align-items: baseline; margin: 0 0 2.5mm; font-size: 11.5pt; }
.lossref-toc li a { color: inherit; text-decoration: none; }
.lossref-toc li .lossref-dots { flex: 1; border-bottom: 1px dotted #999; margin: 0 2mm; }
.lossref-toc li.lossref-toc-chapter { padding-left: 5mm; }
.lossref-toc li.lossref-toc-part { font-size: 13pt; font-weight: 700; margin: 5mm 0 2.5mm;
  break-after: avoid; }
.lossref-chapter { break-before: page; }
.lossref-chapter h1 { font-size: 20pt; }
pre, .highlight pre, .cell_output pre { white-space: pre-wrap !important; word-break: normal;
  overflow-wrap: anywhere; overflow: visible !important; font-size: 7.5pt; line-height: 1.35; }
.cell_output, .cell_output .output, div.math, mjx-container[display="true"],
table { overflow: visible !important; max-width: 100% !important; }
img { max-width: 100% !important; height: auto; break-inside: avoid; }
figure, .cell_output img, table, pre { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
details > summary { list-style: none; font-weight: 600; }
details[open] > summary .collapsed { display: block !important; }
details > summary::marker, details > summary::-webkit-details-marker { display: none; }
a { color: #1f5f8b; }
/* Chinese: a TrueType CJK font (Debian's fonts-wqy-microhei). Chromium embeds the OpenType/CFF
   Noto CJK fonts as Type 3 glyphs whose text maps to Kangxi radicals (⽬ for 目), which breaks
   copying and searching the PDF; WenQuanYi's TrueType glyphs map to the ideographs. */
html[lang="zh-CN"] {
  --pst-font-family-base: "Liberation Sans", "DejaVu Sans", "WenQuanYi Micro Hei", sans-serif;
  --pst-font-family-heading: "Liberation Sans", "DejaVu Sans", "WenQuanYi Micro Hei", sans-serif;
  --pst-font-family-monospace: "DejaVu Sans Mono", "WenQuanYi Micro Hei Mono", monospace;
}
"""
CJK_FONT = "WenQuanYi Micro Hei"
MARGIN_MM = {"top": 14, "bottom": 16, "left": 14, "right": 14}
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#777;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


# --------------------------------------------------------------------------- the book's contents


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def chapters(lang: str) -> list[str]:
    """The chapters of one language, in ``_toc.yml`` order (docnames without suffix)."""
    return [name for _, names in toc.parts(lang) for name in names]


def parts(lang: str) -> list[tuple[str, list[str]]]:
    """The parts of one language, in ``_toc.yml`` order: ``(caption, chapters)``."""
    return toc.parts(lang)


def site_title(lang: str) -> str:
    cfg = config()
    titles = cfg.get("sphinx", {}).get("config", {}).get("lossref_site_titles", {})
    return titles.get(LANGS[lang], cfg["title"])


def figure_count(docnames: list[str]) -> int:
    """Image outputs of the chapters' shown code cells (what the PDF must contain at least)."""
    count = 0
    for docname in docnames:
        path = ROOT / f"{docname}.ipynb"
        if not path.exists():
            continue
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] != "code" or "remove-cell" in tags:
                continue
            for out in cell.get("outputs", []):
                count += any(k.startswith("image/") for k in out.get("data", {}))
    return count


def normalize(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- the print document


def print_document(html_dir: Path, lang: str, docnames: list[str]) -> tuple[str, str, list[str]]:
    """The print documents of one language: front matter (cover and contents, page numbers
    filled in later), the body (every chapter, in order) and the chapter titles."""
    from bs4 import BeautifulSoup

    def read(docname: str) -> BeautifulSoup:
        return BeautifulSoup((html_dir / f"{docname}.html").read_text(encoding="utf-8"),
                             "html.parser")

    first = read(docnames[0])
    head = [str(link) for link in first.head.find_all("link", rel="stylesheet")]
    head += [str(s) for s in first.head.find_all("script")
             if "MathJax" in (s.string or "") or "mathjax" in (s.get("src") or "")]

    stems = {d.rsplit("/", 1)[1]: f"ch-{d.rsplit('/', 1)[1]}" for d in docnames}
    titles, bodies = [], []
    for docname in docnames:
        stem = docname.rsplit("/", 1)[1]
        soup = read(docname)
        article = soup.find("article", class_="bd-article")
        for junk in article.select("nav.lossref-lang-switch, a.headerlink, .tag_remove-cell, "
                                   "script, button.copybtn"):
            junk.decompose()
        for details in article.find_all("details"):
            details["open"] = "open"  # solutions printed, under their "Solution" / "解答" label
            for expanded in details.select("summary .expanded"):
                expanded.decompose()
        for node in article.find_all(id=True):
            node["id"] = f"{stem}--{node['id']}"
        for a in article.find_all("a", href=True):
            href = a["href"]
            target, _, anchor = href.partition("#")
            if not target:
                a["href"] = f"#{stem}--{anchor}"
            elif target.removesuffix(".html") in stems and "/" not in target:
                page = target.removesuffix(".html")
                a["href"] = f"#{page}--{anchor}" if anchor else f"#{stems[page]}"
        h1 = article.find("h1")
        titles.append(h1.get_text(" ", strip=True) if h1 else stem)
        bodies.append(f'<div class="lossref-chapter" id="{stems[stem]}">'
                      f"{article.decode_contents()}</div>")

    document_head = f"""<!DOCTYPE html>
<html lang="{LANGS[lang]}" data-theme="light"><head><meta charset="utf-8">
<base href="__BASE__/book/{lang}/">
<title>{html_lib.escape(site_title(lang))}</title>
{"".join(head)}
<style>{PRINT_CSS}</style>
</head><body>
"""
    body = f"""{document_head}<main class="lossref-print"><article class="bd-article" role="main">
{''.join(bodies)}
</article></main></body></html>
"""
    # no .bd-main/.bd-content around the article: the theme's print CSS hides the first h1
    # of ".bd-main .bd-content .bd-article" (it prints its own title block instead)
    words = WORDS[lang]
    first_of = {names[0]: caption for caption, names in parts(lang)}
    contents = "".join(
        (f'<li class="lossref-toc-part">{html_lib.escape(first_of[d])}</li>'
         if d in first_of else "")
        + f'<li class="lossref-toc-chapter"><span class="lossref-toc-title">{html_lib.escape(t)}'
        f'</span><span class="lossref-dots"></span><span class="lossref-toc-page">00</span></li>'
        for d, t in zip(docnames, titles)
    )
    front = f"""{document_head}<div class="lossref-cover"><h1>lossref</h1><p>{html_lib.escape(words['subtitle'])}</p>
<p class="lossref-note">{html_lib.escape(words['note'])}</p></div>
<section class="lossref-toc"><h1>{words['contents']}</h1><ol>{contents}</ol></section>
</body></html>
"""
    return front, body, titles


# --------------------------------------------------------------------------- printing


def fonts_env(tmp: Path) -> dict:
    """Chromium's environment. Without Debian's WenQuanYi (``make pdf`` installs it as root),
    fontconfig is shown mplfonts' Noto Sans CJK SC so Chinese is not blank (check() then flags
    the radicals in its text)."""
    env = dict(os.environ)
    listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else ""
    if CJK_FONT in listed:
        return env
    print(f"make_pdf: font {CJK_FONT!r} missing (apt-get install fonts-wqy-microhei); "
          "falling back to mplfonts' Noto Sans CJK SC", file=sys.stderr)
    try:
        import mplfonts

        conf = tmp / "fonts.conf"
        conf.write_text(
            '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
            f"<dir>{Path(mplfonts.__file__).parent / 'fonts'}</dir></fontconfig>",
            encoding="utf-8",
        )
        env["FONTCONFIG_FILE"] = str(conf)
    except ImportError:
        pass
    return env


#: Heading texts as a reader sees them (math as its assistive MathML text), in document order.
HEADINGS_JS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
  .filter((h) => h.getClientRects().length)
  .map((h) => {
    const copy = h.cloneNode(true);
    copy.querySelectorAll('mjx-container').forEach((m) => {
      const mml = m.querySelector('mjx-assistive-mml');
      m.replaceWith(document.createTextNode(mml ? mml.textContent : ''));
    });
    copy.querySelectorAll('.headerlink').forEach((e) => e.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  })"""


def chapter_pages(pdf: Path, titles: list[str], headings: list[str]) -> list[int]:
    """1-based page of each chapter: chromium's bookmarks follow the headings in document order
    (their own titles are unreliable: see merge), so the chapter's h1 is found by position."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    items = []

    def walk(outline) -> None:
        for item in outline:
            if isinstance(item, list):
                walk(item)
            else:
                items.append(item)

    walk(reader.outline)
    if len(items) != len(headings):
        raise SystemExit(f"make_pdf: {pdf.name}: {len(items)} bookmarks for {len(headings)} "
                         "headings")
    page_of = {}
    for item, heading in zip(items, headings):
        page_of.setdefault(normalize(heading), reader.get_destination_page_number(item) + 1)
    missing = [t for t in titles if normalize(t) not in page_of]
    if missing:
        raise SystemExit(f"make_pdf: chapters without a heading in the PDF: {missing}")
    return [page_of[normalize(t)] for t in titles]


def wait_until_typeset(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.math') || (window.MathJax && MathJax.startup"
        " && MathJax.startup.promise && [...document.querySelectorAll('.math')]"
        ".every(e => e.querySelector('mjx-container')))", timeout=180_000)
    page.evaluate("(window.MathJax && MathJax.startup ? MathJax.startup.promise"
                  " : Promise.resolve())"
                  ".then(() => document.fonts.ready).then(() => true)")
    page.wait_for_function("[...document.images].every(i => i.complete)", timeout=60_000)
    errors = page.evaluate("document.querySelectorAll('mjx-merror').length")
    if errors:
        raise SystemExit(f"make_pdf: {errors} TeX errors while typesetting {page.url}")


#: the rectangles of the contents' entries, in CSS px from the top of the contents (which
#: starts the second page, after the cover)
TOC_RECTS_JS = """() => {
  const top = document.querySelector('.lossref-toc').getBoundingClientRect().top;
  return [...document.querySelectorAll('.lossref-toc li.lossref-toc-chapter')].map((li) => {
    const r = li.getBoundingClientRect();
    return [r.left, r.top - top, r.right, r.bottom - top];
  });
}"""


def merge(front: Path, body: Path, target: Path, headings: list[str], pages: list[int],
          toc_rects: list[list[float]], page_height_px: float,
          part_starts: dict[int, str]) -> int:
    """Front matter + body in one file: the bookmarks rebuilt from chromium's (named after the
    headings) under one top-level bookmark per part (``part_starts``: index of a part's first
    chapter -> its caption), page labels i, ii, then 1, 2, ... as printed in the footers, the
    contents' entries as links. Returns the number of bookmarks."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import Link
    from pypdf.generic import Fit, NullObject

    writer = PdfWriter()
    writer.append(PdfReader(str(front)), import_outline=False)
    n_front = len(writer.pages)
    body_reader = PdfReader(str(body))
    writer.append(body_reader, import_outline=False)

    items: list[tuple[int, Any]] = []  # (depth, destination) in document order

    def walk(outline, depth: int) -> None:
        for item in outline:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                items.append((depth, item))

    walk(body_reader.outline, 0)
    if len(items) != len(headings):
        raise SystemExit(f"make_pdf: {target.name}: {len(items)} bookmarks for {len(headings)} "
                         "headings; cannot name them")

    def fit(dest: Any) -> Fit:
        left, top = dest.get("/Left"), dest.get("/Top")
        if top is None or isinstance(top, NullObject):
            return Fit.fit()
        return Fit.xyz(left=None if left is None or isinstance(left, NullObject) else float(left),
                       top=float(top))

    # chromium's titles are its line boxes glued together ("…weightsof the", math dropped):
    # each bookmark is named after its heading. Chapters (depth 0) go under their part.
    parents: list[Any] = []
    part = None
    chapter = -1
    for (depth, dest), title in zip(items, headings):
        page = n_front + body_reader.get_destination_page_number(dest)
        if depth == 0:
            chapter += 1
            if chapter in part_starts:
                part = writer.add_outline_item(title=part_starts[chapter], page_number=page,
                                               fit=fit(dest))
        del parents[depth:]
        parent = parents[-1] if parents else part
        parents.append(writer.add_outline_item(title=title, page_number=page, parent=parent,
                                                fit=fit(dest)))
    if chapter + 1 != len(pages):
        raise SystemExit(f"make_pdf: {target.name}: {chapter + 1} top-level headings for "
                         f"{len(pages)} chapters")

    writer.set_page_label(0, n_front - 1, style="/r")
    writer.set_page_label(n_front, len(writer.pages) - 1, style="/D", start=1)

    width_pt, height_pt = (float(v) for v in writer.pages[0].mediabox.upper_right)
    left_pt, top_pt = MARGIN_MM["left"] * 72 / 25.4, MARGIN_MM["top"] * 72 / 25.4
    for (x0, y0, x1, y1), page in zip(toc_rects, pages):
        index = 1 + int(y0 // page_height_px)
        y0, y1 = y0 - (index - 1) * page_height_px, y1 - (index - 1) * page_height_px
        rect = (left_pt + x0 * 0.75, height_pt - top_pt - y1 * 0.75,
                left_pt + x1 * 0.75, height_pt - top_pt - y0 * 0.75)
        writer.add_annotation(index, Link(rect=rect, target_page_index=n_front + page - 1))
    writer.page_mode = "/UseOutlines"
    with open(target, "wb") as out:
        writer.write(out)
    return len(items) + len(part_starts)


def build(html_dir: Path, out_dir: Path, langs: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if executable is None:
        raise SystemExit("make_pdf: chromium is not installed (apt-get install -y chromium)")
    if not (html_dir / "index.html").exists():
        raise SystemExit(f"make_pdf: no built site in {html_dir}: run 'make book' first")
    out_dir.mkdir(parents=True, exist_ok=True)
    documents: dict[str, str] = {}
    titles_of: dict[str, list[str]] = {}
    for lang in langs:
        front, body, titles = print_document(html_dir, lang, chapters(lang))
        documents[f"/__lossref_front_{lang}.html"] = front
        documents[f"/__lossref_body_{lang}.html"] = body
        titles_of[lang] = titles

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # the print documents are served from memory
            document = documents.get(self.path.split("?")[0])
            if document is None:
                super().do_GET()
                return
            data = document.replace("__BASE__", base).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_dir)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    margin = {k: f"{v}mm" for k, v in MARGIN_MM.items()}
    # the printed area in CSS px (A4 210 x 297 mm; 96 px per inch)
    area = {"width": round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96),
            "height": (297 - MARGIN_MM["top"] - MARGIN_MM["bottom"]) / 25.4 * 96}
    try:
        with tempfile.TemporaryDirectory(prefix="lossref-pdf-") as tmp_name, \
                sync_playwright() as pw:
            tmp = Path(tmp_name)
            browser = pw.chromium.launch(
                executable_path=executable, env=fonts_env(tmp), headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update"])
            outside: list[str] = []

            def route(r) -> None:
                if r.request.url.startswith(base) or r.request.url.startswith("data:"):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            for lang in langs:
                start = time.perf_counter()
                page = browser.new_page(viewport={"width": area["width"], "height": 1200})
                page.route("**/*", route)
                page.emulate_media(media="print")

                page.goto(f"{base}/__lossref_body_{lang}.html", wait_until="load", timeout=180_000)
                wait_until_typeset(page)
                headings = page.evaluate(HEADINGS_JS)
                body = tmp / f"body-{lang}.pdf"
                page.pdf(path=str(body), format="A4", print_background=True, outline=True,
                         tagged=True, display_header_footer=True, header_template="<span></span>",
                         footer_template=FOOTER, margin=margin)
                pages = chapter_pages(body, titles_of[lang], headings)

                page.goto(f"{base}/__lossref_front_{lang}.html", wait_until="load", timeout=60_000)
                page.evaluate("pages => document.querySelectorAll('.lossref-toc-page')"
                              ".forEach((e, i) => { e.textContent = pages[i]; })", pages)
                page.evaluate("document.fonts.ready.then(() => true)")
                rects = page.evaluate(TOC_RECTS_JS)
                front = tmp / f"front-{lang}.pdf"
                page.pdf(path=str(front), format="A4", print_background=True, margin=margin)
                page.close()

                target = out_dir / f"lossref-{lang}.pdf"
                docnames = chapters(lang)
                part_starts = {docnames.index(names[0]): caption
                               for caption, names in parts(lang)}
                bookmarks = merge(front, body, target, headings, pages, rects, area["height"],
                                  part_starts)
                shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
                print(f"make_pdf: {shown} ({len(pages)} chapters, {bookmarks} bookmarks, "
                      f"{time.perf_counter() - start:.0f} s)")
            browser.close()
            if outside:
                raise SystemExit(f"make_pdf: requests left 127.0.0.1: {outside[:5]}")
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf")
    parser.add_argument("--lang", choices=sorted(LANGS), action="append")
    parser.add_argument("--check-only", action="store_true", help="only check existing PDFs")
    args = parser.parse_args(argv)
    langs = args.lang or sorted(LANGS)
    if not args.check_only:
        build(args.html.resolve(), args.out.resolve(), langs)
        # published with the site: the landing page links pdf/lossref-<lang>.pdf
        published = args.html.resolve() / PUBLISHED
        published.mkdir(parents=True, exist_ok=True)
        for lang in langs:
            shutil.copy2(args.out.resolve() / f"lossref-{lang}.pdf", published)
    from pdf_check import check  # book/_tools/pdf_check.py (it imports this module)

    failed = 0
    for lang in langs:
        problems = check(args.out / f"lossref-{lang}.pdf", lang, args.html)
        for problem in problems:
            print("pdf check FAILED:", problem, file=sys.stderr)
        failed += bool(problems)
    sys.stderr.flush()
    print(f"pdf-check: {len(langs) - failed} passed, {failed} failed")  # one line per run, for CI
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
