"""The check behind ``make pdf`` and ``make pdf-check``: is each printed book complete?

    python book/_tools/make_pdf.py --check-only     # what ``make pdf-check`` runs

For one language's PDF: a page count that fits the chapters, every chapter title in the text
and as a bookmark, the parts of ``_toc.yml`` in the printed contents and as top-level bookmarks
holding their chapters in order, no raw TeX, the code cells present, every font embedded, at
least as many images as the chapters have figures, and text in the book's language (Chinese
characters that extract as ideographs, not radicals). Returns the problems; none means complete.
"""

from __future__ import annotations

import re
from pathlib import Path

from make_pdf import ROOT, chapters, figure_count, normalize, parts, print_document

RAW_TEX = re.compile(r"\\(frac|sum|begin\{|end\{|mathrm|text\{|ell|log|qquad|left|right)\b")
HAN = re.compile(r"[\u4e00-\u9fff]")


def check(pdf: Path, lang: str, html_dir: Path) -> list[str]:
    """Problems of one PDF (empty when it is complete)."""
    if not pdf.exists():
        return [f"{pdf}: missing (run 'make pdf')"]
    from pypdf import PdfReader

    problems: list[str] = []
    try:
        reader = PdfReader(str(pdf))
        pages = reader.pages
        text = "\n".join(p.extract_text() or "" for p in pages)
    except Exception as exc:  # a broken file: say so instead of a traceback
        return [f"{pdf}: cannot be read: {exc}"]
    docnames = chapters(lang)
    if not (html_dir / f"{docnames[0]}.html").exists():
        return [f"{html_dir}: no built site to compare {pdf.name} with (run 'make book')"]
    _, _, titles = print_document(html_dir, lang, docnames)
    if len(pages) < 2 + 2 * len(docnames):
        problems.append(f"{pdf.name}: {len(pages)} pages for {len(docnames)} chapters")
    flat = normalize(text)
    outline: list[str] = []

    def walk(items) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                outline.append(normalize(item.title))

    walk(reader.outline)
    for title in titles:
        if normalize(title) not in flat:
            problems.append(f"{pdf.name}: chapter {title!r} not in the text")
        if normalize(title) not in outline:
            problems.append(f"{pdf.name}: chapter {title!r} has no bookmark")
    if len(outline) < len(docnames):
        problems.append(f"{pdf.name}: {len(outline)} bookmarks for {len(docnames)} chapters")
    # the parts of _toc.yml: in the printed contents, and as the top-level bookmarks with their
    # chapters nested under them
    top = [item for item in reader.outline if not isinstance(item, list)]
    top_titles = [normalize(item.title) for item in top]
    for caption, names in parts(lang):
        if normalize(caption) not in flat:
            problems.append(f"{pdf.name}: part {caption!r} not in the text (printed contents)")
        if normalize(caption) not in top_titles:
            problems.append(f"{pdf.name}: part {caption!r} is not a top-level bookmark")
            continue
        k = reader.outline.index(top[top_titles.index(normalize(caption))])
        nested = reader.outline[k + 1] if k + 1 < len(reader.outline) else None
        children = ([normalize(i.title) for i in nested if not isinstance(i, list)]
                    if isinstance(nested, list) else [])
        expected = [normalize(titles[docnames.index(n)]) for n in names]
        if children != expected:
            problems.append(f"{pdf.name}: the bookmarks under part {caption!r} are not its "
                            f"{len(expected)} chapters in order ({len(children)} found)")
    tex = sorted(set(RAW_TEX.findall(text)))
    if tex:
        problems.append(f"{pdf.name}: raw TeX in the text: {tex}")
    notebooks = [d for d in docnames if (ROOT / f"{d}.ipynb").exists()]
    if text.count("import lossref") < len(notebooks):
        problems.append(f"{pdf.name}: code cells missing ('import lossref' "
                        f"{text.count('import lossref')} times for {len(notebooks)} notebooks)")

    fonts, not_embedded, images = set(), set(), 0
    for page in pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            name = str(font.get("/BaseFont", "?"))
            fonts.add(name)
            descriptors = [font.get("/FontDescriptor")]
            for child in font.get("/DescendantFonts") or []:
                descriptors.append(child.get_object().get("/FontDescriptor"))
            embedded = any(d is not None and any(k in d.get_object() for k in
                                                 ("/FontFile", "/FontFile2", "/FontFile3"))
                           for d in descriptors)
            if not embedded and str(font.get("/Subtype")) != "/Type3":
                not_embedded.add(name)
        for xobject in (resources.get("/XObject") or {}).values():
            images += xobject.get_object().get("/Subtype") == "/Image"
    if not_embedded:
        problems.append(f"{pdf.name}: fonts not embedded: {sorted(not_embedded)}")
    figures = figure_count(docnames)
    if images < figures:
        problems.append(f"{pdf.name}: {images} images for {figures} figures in the chapters")
    han = len(HAN.findall(text))
    radicals = len(re.findall(r"[\u2e80-\u2fdf]", text))
    if radicals > 20:
        problems.append(f"{pdf.name}: {radicals} characters extract as Kangxi/CJK radicals "
                        f"(a CFF CJK font printed as Type 3; install fonts-wqy-microhei)")
    if lang == "zh":
        if not any(re.search(r"CJK|Han|SC|Hei|Song|WenQuanYi", f) for f in fonts):
            problems.append(f"{pdf.name}: no CJK font embedded (fonts: {sorted(fonts)})")
        if han < 300 * len(docnames):
            problems.append(f"{pdf.name}: only {han} Chinese characters")
    elif len(re.findall(r"\b(the|and|of)\b", text)) < 100 * len(docnames):
        problems.append(f"{pdf.name}: too little English text")
    print(f"check: {pdf.name}: {len(pages)} pages, {pdf.stat().st_size / 1e6:.1f} MB, "
          f"{len(outline)} bookmarks, {images} images, {len(fonts)} fonts, {han} Han characters")
    return problems
