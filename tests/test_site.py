"""The built site as readers use it, checked in a real browser (Debian's chromium via Playwright).

The site is built ONCE per session (``jupyter-book build -W -n --keep-going`` into a temporary
folder), served on 127.0.0.1, and every page listed in ``_toc.yml`` is opened with every request
routed: anything that leaves 127.0.0.1 is aborted and recorded, so the tests prove the book
works offline (MathJax, fonts, scripts). Screenshots land in ``_build/screenshots/``.

chromium is required: where it is missing these tests fail (``apt-get install -y chromium``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from book_toc import ROOT, toc_docnames

SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LANG_OF = {"book/en/": "en", "book/zh/": "zh-CN"}
#: The theme's interface words as a reader of each language sees them (the extension puts the
#: Chinese ones into book/zh/* pages; sphinx-copybutton picks 复制 from <html lang="zh-CN">).
UI_WORDS = {
    "en": {"contents": "Contents", "search": "Search", "previous": "previous", "next": "next",
           "download": "Download source file", "binder": "Launch on Binder", "copy": "Copy",
           "show": "Show code cell content", "hide": "Hide code cell content", "author": "By "},
    "zh-CN": {"contents": "目录", "search": "搜索", "previous": "上一页", "next": "下一页",
              "download": "下载源文件", "binder": "在 Binder 上启动", "copy": "复制",
              "show": "显示代码单元格内容", "hide": "隐藏代码单元格内容", "author": "作者："},
}
#: English interface markup that must not be left on a Chinese page (and is on English ones).
ENGLISH_CHROME = [
    r'title="Search"', r'>Search</span>', r'placeholder="Search this book\.\.\."',
    r'</i> Contents\s*</div>', r'<h2> Contents </h2>', r'>Skip to main content<', r'</i>Back to top<',
    r'title="(Toggle primary sidebar|Toggle secondary sidebar|Launch on Binder|Launch on Colab|'
    r'Source repository|Open an issue|Download source file|Print to PDF|Fullscreen mode|'
    r'Light|Dark|System Settings|Link to this heading|previous page)"',
    r'aria-label="(Launch interactive content|Source repositories|Download this page|Color mode|'
    r'Site navigation|On this page)"',
    r'>(Show|Hide) code cell content<', r'aria-label="Toggle hidden content"',
    r'<p class="prev-next-subtitle">(previous|next)</p>', r'>Repository<', r'>Open issue<',
    r'<p class="component-author">\s*By ', r'© Copyright ', r"toggleHintShow = 'Click to show'",
]
TIMEOUT_MS = 30_000


# --------------------------------------------------------------------------- the table of contents


DOCNAMES = toc_docnames()
CHAPTERS = [d for d in DOCNAMES if any(d.startswith(p) for p in LANG_OF)]


def language_of(docname: str) -> str:
    return next((tag for prefix, tag in LANG_OF.items() if docname.startswith(prefix)), "en")


def twin_of(docname: str) -> str:
    if docname.startswith("book/en/"):
        return "book/zh/" + docname[len("book/en/"):]
    return "book/en/" + docname[len("book/zh/"):]


def notebook(docname: str) -> dict | None:
    path = ROOT / f"{docname}.ipynb"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def markdown_text(docname: str) -> str:
    nb = notebook(docname)
    if nb is None:
        path = ROOT / f"{docname}.md"
        return path.read_text(encoding="utf-8") if path.exists() else ""
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return re.sub(r"\]\([^)]*\)", "]", text)  # link targets (file names) are not indexed words


# --------------------------------------------------------------------------- fixtures


@dataclass
class Site:
    html: Path
    log: str
    seconds: float
    base: str = ""
    server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)

    def url(self, docname: str) -> str:
        return f"{self.base}/{quote(docname)}.html"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """Build the book once into a temporary folder and serve it on 127.0.0.1 (free port)."""
    out = tmp_path_factory.mktemp("site")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(ROOT), "--path-output", str(out),
           "--builder", "html", "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace",
                          timeout=1800, env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    seconds = time.perf_counter() - start
    log = proc.stdout + "\n" + proc.stderr
    html = out / "_build" / "html"
    if proc.returncode != 0 or not (html / "index.html").exists():
        problems = "\n".join(line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR)\b", line))
        pytest.fail(f"jupyter-book build failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                    f"--- warnings and errors ---\n{problems}\n--- end of the build log ---\n{log[-6000:]}",
                    pytrace=False)
    built = Site(html=html, log=log, seconds=seconds)
    handler = functools.partial(QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    built.server = server
    built.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield built
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Debian's chromium, driven by Playwright; a CJK font from mplfonts so Chinese is legible."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.fail("chromium is not installed: the browser tests need it. "
                    "Install it with: apt-get install -y chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    env = dict(os.environ)
    try:  # fonts for the screenshots only; readers' systems have their own CJK fonts
        import mplfonts

        conf = tmp_path_factory.mktemp("fonts") / "fonts.conf"
        conf.write_text(
            '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
            "<include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include>"
            f"<dir>{Path(mplfonts.__file__).parent / 'fonts'}</dir></fontconfig>",
            encoding="utf-8",
        )
        env["FONTCONFIG_FILE"] = str(conf)
    except ImportError:
        pass
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=CHROMIUM_ARGS, env=env, headless=True,
        )
        yield chromium
        chromium.close()


@dataclass
class Visit:
    page: object
    status: int
    console_errors: list[str]
    outside: list[str]
    failed: list[str]


@pytest.fixture()
def visit(site, browser):
    """Open a page with every request routed: non-local requests are aborted and recorded."""
    contexts = []

    def open_page(path: str) -> Visit:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                      service_workers="block")
        contexts.append(context)
        outside: list[str] = []
        failed: list[str] = []
        errors: list[str] = []

        def route(r):
            url = r.request.url
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
                r.continue_()
            else:
                outside.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: errors.append(f"{m.type}: {m.text} @ {m.location}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        response = page.goto(site.base + path, wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        return Visit(page, response.status if response else 0, errors, outside, failed)

    yield open_page
    for context in contexts:
        context.close()


# --------------------------------------------------------------------------- checks shared by pages


def typeset_math(v: Visit, what: str) -> None:
    """Wait until MathJax has typeset every ``.math`` node; fail on TeX errors."""
    page = v.page
    count = page.evaluate("document.querySelectorAll('.math').length")
    if count:
        try:
            page.wait_for_function(
                "[...document.querySelectorAll('.math')].every(e => e.querySelector('mjx-container, .katex'))",
                timeout=TIMEOUT_MS,
            )
        except Exception:  # playwright's TimeoutError: say why
            left = page.evaluate("[...document.querySelectorAll('.math')]"
                                 ".filter(e => !e.querySelector('mjx-container, .katex')).length")
            pytest.fail(f"{what}: {left} of {count} math nodes not typeset; requests outside "
                        f"127.0.0.1: {v.outside}; console errors: {v.console_errors}", pytrace=False)
        version = page.evaluate("window.MathJax && window.MathJax.version")
        assert version and version.startswith("3."), f"MathJax 3 expected, got {version!r}"
    errors = page.evaluate(
        "[...document.querySelectorAll('mjx-merror, .katex-error')].map(e => e.textContent)")
    assert not errors, f"TeX errors on the page: {errors}"


def loaded_images(v: Visit, what: str) -> None:
    page = v.page
    page.evaluate("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function("[...document.images].every(i => i.complete)", timeout=TIMEOUT_MS)
    broken = page.evaluate("[...document.images].filter(i => !(i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"{what}: images that did not load: {broken}; failed requests: {v.failed}"


def assert_clean(v: Visit, what: str) -> None:
    assert v.status == 200, f"{what}: HTTP {v.status}"
    assert not v.outside, f"{what}: requests outside 127.0.0.1 (the site must work offline): {v.outside}"
    assert not v.failed, f"{what}: failed requests: {v.failed}"
    assert not v.console_errors, f"{what}: console errors: {v.console_errors}"


def html_file(site: Site, url: str) -> Path:
    path = urlsplit(url).path
    return site.html / path.lstrip("/")


# --------------------------------------------------------------------------- the build


def test_build_is_clean(site):
    """-W already fails the build on any warning; say so plainly and keep the numbers visible."""
    warnings = [line for line in site.log.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", line)]
    assert not warnings, "\n".join(warnings)
    size = sum(p.stat().st_size for p in site.html.rglob("*") if p.is_file())
    print(f"\nsite: built in {site.seconds:.0f} s, {len(DOCNAMES)} toc pages, "
          f"_build/html = {size / 1e6:.1f} MB")
    assert (site.html / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is not bundled"
    for docname in DOCNAMES:
        assert (site.html / f"{docname}.html").is_file(), f"{docname} is in _toc.yml but was not built"


def test_chapters_come_in_pairs():
    for docname in CHAPTERS:
        assert twin_of(docname) in CHAPTERS, f"{docname}: its twin {twin_of(docname)} is not in _toc.yml"


def test_no_missing_glyphs_in_outputs():
    """Chapters call use_cjk_font(): matplotlib must not have reported a missing glyph (tofu)."""
    for docname in CHAPTERS:
        nb = notebook(docname)
        if nb is None:
            continue
        for i, cell in enumerate(nb["cells"]):
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
                assert not re.search(r"Glyph \d+.*missing from (current )?font", text), \
                    f"{docname} cell {i}: missing glyph in a figure: {text[:300]}"


def test_interface_language(site):
    """Chinese pages carry none of the theme's English interface words; English pages keep them."""
    for docname in CHAPTERS:
        text = (site.html / f"{docname}.html").read_text(encoding="utf-8")
        found = [p for p in ENGLISH_CHROME if re.search(p, text)]
        if language_of(docname).startswith("zh"):
            assert not found, f"{docname}: English interface markup left on a Chinese page: {found}"
            assert 'aria-label="显示/隐藏内容"' in text or "hide-cell" not in text
        else:
            missing = [p for p in ENGLISH_CHROME if not re.search(p, text)]
            assert not missing, f"{docname}: English interface markup missing from an English page: {missing}"
            assert not re.search(r"目录|上一页|下一页|下载源文件", text), f"{docname}: Chinese chrome on an English page"


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page(site, visit, docname):
    v = visit(f"/{quote(docname)}.html")
    page = v.page
    typeset_math(v, docname)
    loaded_images(v, docname)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    assert_clean(v, docname)
    lang = page.evaluate("document.documentElement.lang")
    assert lang == language_of(docname), f"{docname}: <html lang={lang!r}>"
    gaps = page.evaluate(r"""[...document.querySelectorAll('article p, article li')]
        .map(e => e.textContent).join(' ')
        .match(/.{0,8}[\u4e00-\u9fff]\n[\u4e00-\u9fff].{0,8}/gu)""")
    assert not gaps, f"{docname}: line breaks between Chinese characters show as gaps: {gaps[:5]}"

    if docname not in CHAPTERS:  # the landing page offers both languages
        hrefs = page.eval_on_selector_all("ul.lossref-chapter-list a", "as => as.map(a => a.href)")
        expected = {site.url(d) for d in CHAPTERS}
        assert expected <= set(hrefs), f"landing page misses chapters: {sorted(expected - set(hrefs))}"
        assert page.evaluate("document.querySelector('#intro-zh').lang") == "zh-CN"
        return

    # language switch: a visible link to the twin near the top, and hreflang links in <head>
    twin = twin_of(docname)
    link = page.locator("article nav.lossref-lang-switch a.lossref-twin")
    assert link.count() == 1, f"{docname}: no language switch"
    assert link.is_visible()
    assert link.get_attribute("hreflang") == language_of(twin)
    href = link.evaluate("a => a.href")
    assert href == site.url(twin), f"{docname}: twin link {href}"
    assert html_file(site, href).is_file(), f"{docname}: twin {href} does not exist"
    top = link.evaluate("a => a.getBoundingClientRect().top")
    assert top < 600, f"{docname}: the language switch is not near the top ({top:.0f}px)"
    alternates = dict(page.eval_on_selector_all(
        "head link[rel=alternate][hreflang]", "ls => ls.map(l => [l.hreflang, l.href])"))
    assert alternates == {language_of(docname): site.url(docname), language_of(twin): site.url(twin)}

    # the theme's interface words are in the page's language
    ui = UI_WORDS[language_of(docname)]
    toc_title = page.locator("#pst-secondary-sidebar .page-toc.tocsection").first.text_content().strip()
    assert toc_title == ui["contents"], f"{docname}: page TOC titled {toc_title!r}"
    search = page.locator("#pst-primary-sidebar .search-button__default-text").first.text_content().strip()
    assert search == ui["search"], f"{docname}: search button says {search!r}"
    subtitles = page.eval_on_selector_all("footer.prev-next-footer .prev-next-subtitle",
                                          "ps => ps.map(p => p.textContent.trim())")
    assert subtitles and set(subtitles) <= {ui["previous"], ui["next"]}, f"{docname}: footer {subtitles}"
    tips = page.eval_on_selector_all(
        "a.btn-download-source-button, .dropdown-launch-buttons a.dropdown-item",
        "as => as.map(a => a.getAttribute('data-bs-original-title') || a.getAttribute('title'))")
    assert ui["download"] in tips and ui["binder"] in tips, f"{docname}: button tooltips {tips}"
    author = page.locator("p.component-author").text_content().strip()
    assert author.startswith(ui["author"]), f"{docname}: footer author {author!r}"

    # interactive: launch buttons for this very notebook, .ipynb download, repository/issues,
    # copy buttons, toggled solutions
    ipynb = f"{docname}.ipynb"
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
    assert any(h.startswith("https://mybinder.org/") and h.endswith(f"urlpath=lab/tree/{ipynb}") for h in hrefs), \
        f"{docname}: no Binder button for {ipynb}"
    assert any(h.startswith("https://colab.research.google.com/github/") and h.endswith(f"/blob/main/{ipynb}")
               for h in hrefs), f"{docname}: no Colab button for {ipynb}"
    download = site.url("_sources/" + docname)[: -len(".html")] + ".ipynb"
    assert download in hrefs and html_file(site, download).is_file(), f"{docname}: no .ipynb download"
    assert any(re.fullmatch(r"https://github\.com/[^/]+/[^/]+/?", h) for h in hrefs), "no repository button"
    assert any(re.match(r"https://github\.com/[^/]+/[^/]+/issues/new", h) for h in hrefs), "no issues button"

    nb = notebook(docname)
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"] if nb else []
    if code_cells:
        assert page.locator("div.cell div.highlight button.copybtn").count() >= 1, f"{docname}: no copy buttons"
        tooltip = page.locator("div.cell div.highlight button.copybtn").first.get_attribute("data-tooltip")
        assert tooltip == ui["copy"], f"{docname}: copy button tooltip {tooltip!r}"
    hidden = sum("hide-cell" in c.get("metadata", {}).get("tags", []) for c in code_cells)
    toggles = page.locator("div.cell.tag_hide-cell > details.hide")
    assert toggles.count() == hidden, f"{docname}: {hidden} hide-cell cells, {toggles.count()} toggles"
    if hidden:
        first = toggles.first
        assert first.evaluate("d => !d.open"), f"{docname}: exercise solution shown by default"
        summary = first.locator("summary")
        assert summary.inner_text().strip() == ui["show"], f"{docname}: toggle says {summary.inner_text()!r}"
        summary.click()
        assert first.evaluate("d => d.open")
        assert summary.inner_text().strip() == ui["hide"], f"{docname}: toggle says {summary.inner_text()!r}"
    assert not v.console_errors, f"{docname}: console errors after interaction: {v.console_errors}"


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize(("query", "words", "prefix"), [
    ("交叉熵", ["交叉熵"], "book/zh/"),
    ("权重", ["权重"], "book/zh/"),
    ("label smoothing", ["label smoothing"], "book/en/"),
    # a phrase typed without spaces, as Chinese readers do: the site's splitter segments it
    ("交叉熵的权重", ["交叉熵", "权重"], "book/zh/"),
])
def test_search(site, visit, query, words, prefix):
    """Sphinx's search (zh + jieba) finds the chapters that talk about the query, in each language."""
    expected = {d for d in CHAPTERS if d.startswith(prefix)
                and all(w in markdown_text(d).lower() for w in words)}
    if not expected:
        pytest.skip(f"no {prefix} chapter in _toc.yml mentions {query!r} yet")
    v = visit(f"/search.html?q={quote(query)}")
    page = v.page
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && /found|did not match/.test(s.textContent); }", timeout=TIMEOUT_MS)
    time.sleep(0.3)  # results are appended one by one after the summary
    summary = page.text_content("#search-results .search-summary")
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    found = {urlsplit(h).path.lstrip("/").removesuffix(".html") for h in hrefs}
    assert_clean(v, f"search {query!r}")
    missing = expected - found
    assert not missing, f"search {query!r} ({summary.strip()}) misses {sorted(missing)}; found {sorted(found)}"
    for h in hrefs:
        assert html_file(site, h.split("?")[0].split("#")[0]).is_file(), f"search result {h} does not exist"


# --------------------------------------------------------------------------- screenshots


def test_screenshots(site, visit):
    """The landing page and one chapter in each language, for humans to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    targets = [DOCNAMES[0]]
    for prefix in LANG_OF:
        targets += [d for d in CHAPTERS if d.startswith(prefix)][:1]
    for docname in targets:
        v = visit(f"/{quote(docname)}.html")
        typeset_math(v, docname)
        loaded_images(v, docname)
        name = docname.replace("/", "_")
        v.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        v.page.screenshot(path=str(SCREENSHOTS / f"{name}_full.png"), full_page=True)
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
        assert_clean(v, docname)
