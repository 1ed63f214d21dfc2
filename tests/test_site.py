"""The built site as readers use it, checked in a real browser (Debian's chromium via Playwright).

The site is built ONCE per session (``jupyter-book build -W -n --keep-going`` into
``_build/html`` by book/_tools/build_site.py: incrementally after a clean build, not at all when
nothing it is built from changed since that build, from scratch on a fresh clone, as in CI) and
served on 127.0.0.1; ONE chromium serves every test, with one desktop (1280×900) and one phone
(390×844, touch) context. Every page listed in ``_toc.yml`` is opened once with
chromium resolving no host but 127.0.0.1: any request that leaves it fails and is recorded, so the tests prove
the book works offline (MathJax, fonts, scripts). Each chapter is judged at desktop size, then
resized to a phone in the same tab. Screenshots of the landing page and the first chapter of
each language (desktop, phone, phone menu open) land in ``_build/screenshots/``.

What the notebooks must say (install cell tagged, heading targets, alt text, solution labels)
is checked without a build by ``test_chapter_conventions.py``; here we check the site renders it.

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
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml

from book_toc import ROOT, toc_docnames

import build_site  # noqa: E402  book/_tools/build_site.py (book_toc puts book/_tools on sys.path)

SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # nothing but the test server resolves: the site must work offline. (Not page.route():
    # routing switches off the HTTP cache, and every page would fetch MathJax again.)
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
LANG_OF = {"book/en/": "en", "book/zh/": "zh-CN"}
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
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
#: Every text and tooltip of a page outside its content (the search results, the chapter list):
#: what is left in the reader's language when the page is put in it.
INTERFACE_TEXTS = """() => {
  const skip = 'script, style, noscript, #search-results, nav.bd-docs-nav, article .cell';
  const found = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, t = n.textContent.trim();
    if (t && !n.parentElement.closest(skip)) found.add(t);
  }
  const names = ['title', 'aria-label', 'placeholder', 'alt', 'data-bs-title', 'data-bs-original-title'];
  document.querySelectorAll(names.map((a) => `[${a}]`).join(', ')).forEach((el) => {
    if (el.closest(skip)) return;
    names.forEach((a) => { if (el.getAttribute(a)) found.add(el.getAttribute(a)); });
  });
  return [...found];
}"""


# --------------------------------------------------------------------------- the table of contents


DOCNAMES = toc_docnames()
CHAPTERS = [d for d in DOCNAMES if any(d.startswith(p) for p in LANG_OF)]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
SITE_NAME = {"en": CONFIG["title"],
             **CONFIG["sphinx"]["config"].get("lossref_site_titles", {})}
#: Latin letters a Chinese interface keeps: names, and the key on the search shortcut.
NOT_WORDS = ["lossref", CONFIG["author"], "Ctrl"]


#: pages photographed at desktop and phone size (for humans), while test_page has them open
SHOT = [DOCNAMES[0]] + [next(d for d in CHAPTERS if d.startswith(p)) for p in LANG_OF
                        if any(d.startswith(p) for d in CHAPTERS)]


def screenshot(page, docname: str, device: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{docname.replace('/', '_')}_{device}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{path}: a blank screenshot?"


def language_of(docname: str) -> str:
    return next((tag for prefix, tag in LANG_OF.items() if docname.startswith(prefix)), "en")


def prefix_of(docname: str) -> str:
    return docname[: len("book/en/")]


def twin_of(docname: str) -> str:
    if docname.startswith("book/en/"):
        return "book/zh/" + docname[len("book/en/"):]
    return "book/en/" + docname[len("book/zh/"):]


@functools.cache  # read-only, and read by several checks of every page: parse each file once
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


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def rendered_code_cells(docname: str) -> list[dict]:
    """The code cells of a chapter that the HTML shows, in order (remove-cell ones are gone)."""
    nb = notebook(docname)
    return [c for c in (nb["cells"] if nb else [])
            if c["cell_type"] == "code" and "remove-cell" not in tags(c)]


# --------------------------------------------------------------------------- fixtures


@dataclass
class Site:
    html: Path
    log: str
    seconds: float
    kind: str = "given"  # build_site.build(): "full", "incremental" or "up to date"
    base: str = ""
    server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)

    def url(self, docname: str) -> str:
        return f"{self.base}/{quote(docname)}.html"

    def docname(self, url: str) -> str:
        return urlsplit(url).path.lstrip("/").removesuffix(".html")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def end_headers(self) -> None:  # the build does not change while the tests run
        self.send_header("Cache-Control", "max-age=3600")
        super().end_headers()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """Build the book once (book/_tools/build_site.py: into _build/html, incrementally when the
    last build was clean) and serve it on 127.0.0.1 (free port).

    ``LOSSREF_SITE_HTML=<folder>``: test an existing ``_build/html`` instead of building (while
    working on the tests themselves; the build checks then read that build's log, if any).
    """
    given = os.environ.get("LOSSREF_SITE_HTML")
    if given:
        html = Path(given).resolve()
        log_file = html.parent / "build.log"  # <folder>/../build.log: _build/build.log
        log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
        yield from serve(Site(html=html, log=log, seconds=0.0))
        return
    # _build/html, as `make book` builds it: incremental after a clean build with the same
    # config, toc and extension; no Sphinx run at all when nothing the build reads changed
    # since that clean build (its log stands); from scratch otherwise (a fresh clone, CI)
    code, log, seconds, kind = build_site.build()
    html = build_site.BUILD / "html"
    if code != 0 or not (html / "index.html").exists():
        problems = "\n".join(line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR)\b", line))
        pytest.fail(f"jupyter-book build failed (exit {code}; {kind} build): "
                    f"book/_tools/build_site.py\n--- warnings and errors ---\n{problems}\n"
                    f"--- end of the build log ---\n{log[-6000:]}", pytrace=False)
    yield from serve(Site(html=html, log=log, seconds=seconds, kind=kind))


def serve(built: Site):
    handler = functools.partial(QuietHandler, directory=str(built.html))
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


@pytest.fixture(scope="session")
def contexts(browser):
    """One desktop and one phone context for the whole session (opening a context is slow)."""
    made = {
        "desktop": browser.new_context(viewport=DESKTOP, locale="en-US", service_workers="block"),
        "phone": browser.new_context(viewport=PHONE, locale="en-US", service_workers="block",
                                     is_mobile=True, has_touch=True, device_scale_factor=2),
    }
    yield made
    for context in made.values():
        context.close()


VIEWPORT = {"desktop": DESKTOP, "phone": PHONE}


class Tabs:
    """Pages opened in the session's contexts. ``prefetch`` starts loading the page the next test
    will open, so that its loading overlaps this test's checks (the suite's time is mostly page
    loads: MathJax and the theme's scripts).

    A tab is not closed after its test: the next page is opened in it (a new tab costs chromium
    a window and a renderer process, ~0.4 core-s each, more than many pages' checks). Each
    visit starts as in a new tab: before the tab navigates, its session storage is cleared and
    its viewport is the device's again (the old page hidden first, so that it is not laid out
    again at that size); what the tab reports (requests, failed responses, console errors)
    goes to the visit that navigated it last."""

    def __init__(self, site: Site, contexts: dict) -> None:
        self.site, self.contexts, self.pending = site, contexts, {}
        self.idle: dict[str, list] = {device: [] for device in contexts}
        self.current: dict = {}  # page -> the Visit its events are recorded for

    def new_tab(self, device: str):
        page = self.contexts[device].new_page()

        def request(r) -> None:
            parts = urlsplit(r.url)
            if parts.scheme not in ("data", "blob", "about") and parts.hostname != "127.0.0.1":
                self.current[page].outside.append(r.url)

        def console(m) -> None:
            if m.type == "error":
                self.current[page].console_errors.append(f"{m.type}: {m.text} @ {m.location}")

        def response(r) -> None:
            if r.status >= 400:
                self.current[page].failed.append(f"{r.status} {r.url}")

        page.on("request", request)
        page.on("console", console)
        page.on("pageerror", lambda e: self.current[page].console_errors.append(f"pageerror: {e}"))
        page.on("response", response)
        return page

    def start(self, path: str, device: str) -> Visit:
        url = self.site.base + path
        # not a tab showing this very page: going to it with another #fragment would only scroll
        idle = [p for p in self.idle[device] if p.url.split("#")[0] != url.split("#")[0]]
        reused = bool(idle)
        if reused:
            self.idle[device].remove(idle[-1])
        page = idle[-1] if reused else self.new_tab(device)
        if reused:
            from playwright.sync_api import Error as PlaywrightError

            try:  # session storage as a new tab has it; the old page hidden: not laid out again
                page.evaluate("sessionStorage.clear(); document.documentElement.style.display = 'none'")
                if page.viewport_size != VIEWPORT[device]:  # test_page turned it into a phone
                    page.set_viewport_size(VIEWPORT[device])
            except PlaywrightError:  # the last test left it navigating or crashed: a new tab
                page.close()
                page = self.new_tab(device)
        v = Visit(page, 0, [], [], [])
        self.current[page] = v
        response = page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
        v.status = response.status if response else 0
        return v

    def open(self, path: str, device: str) -> Visit:
        v = self.pending.pop((path, device), None) or self.start(path, device)
        # the tab under test in front, as a new tab would be (chromium sends a tab behind
        # another its frames, and so its resize events and animation frames, seconds late)
        v.page.bring_to_front()
        v.page.wait_for_load_state("load", timeout=TIMEOUT_MS)
        return v

    def prefetch(self, path: str, device: str) -> None:
        if (path, device) not in self.pending:
            self.pending[(path, device)] = self.start(path, device)

    def release(self, v: Visit, device: str) -> None:
        """The test is done with the page: its tab serves the next visit."""
        if v.page.is_closed():
            return
        self.idle[device].append(v.page)

    def close(self) -> None:
        for page in self.current:
            if not page.is_closed():
                page.close()
        self.pending.clear()


@pytest.fixture(scope="session")
def tabs(site, contexts):
    made = Tabs(site, contexts)
    yield made
    made.close()


@pytest.fixture()
def visit(tabs):
    """Open a page, recording every request that leaves 127.0.0.1 (chromium cannot resolve
    any other host), failed responses and console errors; ``then``: the path the next test
    opens, loaded meanwhile."""
    opened = []

    def open_page(path: str, device: str = "desktop", then: str | None = None) -> Visit:
        v = tabs.open(path, device)
        opened.append((v, device))
        if then is not None:
            tabs.prefetch(then, device)
        return v

    yield open_page
    for v, device in opened:
        tabs.release(v, device)


# --------------------------------------------------------------------------- checks shared by pages


def typeset_math(v: Visit, what: str) -> None:
    """Wait until MathJax has typeset every ``.math`` node and its fonts are in; no TeX errors."""
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
    page.evaluate("document.fonts.ready.then(() => true)")
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


#: Elements that may be wider than the column on a phone, if they scroll inside themselves.
WIDE_CONTENT = """() => {
  const article = document.querySelector('article.bd-article');
  const column = article.getBoundingClientRect();
  const scrolls = (e) => {
    for (let x = e; x && x !== article; x = x.parentElement) {
      const o = getComputedStyle(x).overflowX;
      if ((o === 'auto' || o === 'scroll') && x.getBoundingClientRect().right <= column.right + 1)
        return true;
    }
    return false;
  };
  const bad = [];
  article.querySelectorAll('mjx-container[display="true"], table, pre, img, .cell_output')
    .forEach((e) => {
      const r = e.getBoundingClientRect();
      if (r.width === 0) return;
      const tooWide = r.right > column.right + 1 || e.scrollWidth > e.clientWidth + 1;
      if (tooWide && !scrolls(e))
        bad.push(`${e.tagName.toLowerCase()}.${e.className} ${Math.round(r.width)}px`);
    });
  const clipped = (e) => {
    for (let x = e.parentElement; x; x = x.parentElement)
      if (getComputedStyle(x).overflowX !== 'visible') return true;
    return false;
  };
  const past = [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e)
            && !e.closest('.bd-sidebar-secondary, .bd-sidebar-primary, dialog'))
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className} "${e.textContent.slice(0, 50)}"`);
  return {page: document.documentElement.scrollWidth, bad, past};
}"""


#: On a desktop nothing of the text is cut off at its box's edge: text outputs (printed tables
#: included) and tables fit their box (issue 26: 36 pages had outputs running off it). Code
#: fits when its lines do (88 columns, test_code_lines_fit; the CSS sizes code to fit them).
OVERFLOWING = """() => [...document.querySelectorAll(
    'article.bd-article .cell_output pre, article.bd-article table')]
  .filter((e) => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .map((e) => `${e.tagName.toLowerCase()}: ${e.scrollWidth}/${e.clientWidth}px `
              + JSON.stringify(e.textContent.trim().split('\\n')[0].slice(0, 60)))"""

#: On a phone: a text output that reads as prose wraps (it does not scroll), and a table cell
#: of prose is not crushed into a sliver (issue 26: 60 px code and meaning columns).
PHONE_TEXT = """() => {
  const prose = [...document.querySelectorAll("article.bd-article .cell_output pre")]
    .filter((e) => e.dataset.lossrefKind === "prose" && e.scrollWidth > e.clientWidth + 1)
    .map((e) => JSON.stringify(e.textContent.trim().slice(0, 60)));
  const crushed = [...document.querySelectorAll("article.bd-article td")]
    .filter((td) => td.textContent.trim().length >= 20 && td.getBoundingClientRect().width > 0
            && td.getBoundingClientRect().width < 100)
    .map((td) => `${Math.round(td.getBoundingClientRect().width)}px `
                 + JSON.stringify(td.textContent.trim().slice(0, 40)));
  return {prose, crushed};
}"""

#: Every display equation or table that scrolls sideways (content wider than itself) shows
#: it: a fade (CSS mask) on each edge it continues past, the right one at the start, the left
#: one once scrolled to the end (checked on the first box of each kind; the others at their
#: start). Returns the boxes without the cue and the ones checked.
SCROLL_CUES = r"""() => {
  // The browser sends resize and scroll events with its next frame, which a tab behind the
  // prefetched one waits seconds for: the events are sent here at once instead.
  window.dispatchEvent(new Event('resize'));
  const scrollTo = (e, x) => { e.scrollLeft = x; e.dispatchEvent(new Event('scroll')); };
  const article = document.querySelector('article.bd-article');
  const fade = (e) => {
    const s = getComputedStyle(e);
    const mask = s.maskImage && s.maskImage !== 'none' ? s.maskImage : s.webkitMaskImage;
    if (!mask || mask === 'none' || !/gradient/.test(mask)) return 'none';
    const stops = mask.match(/rgba?\([^)]*\)|transparent/g) || [];
    const clear = (c) => c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);
    const first = clear(stops[0] || ''), last = clear(stops[stops.length - 1] || '');
    const toLeft = /to left/.test(mask);
    const left = toLeft ? last : first, right = toLeft ? first : last;
    return left && right ? 'both' : left ? 'left' : right ? 'right' : 'none';
  };
  const missing = [], checked = [], seen = new Set();
  const boxes = 'div.math, mjx-container[display="true"], table, .cell_output pre[data-lossref-kind="table"]';
  for (const e of article.querySelectorAll(boxes)) {
    const o = getComputedStyle(e).overflowX;
    if (!(o === 'auto' || o === 'scroll') || e.scrollWidth <= e.clientWidth + 1) continue;
    const kind = e.matches('table') ? 'table' : e.matches('pre') ? 'output' : 'math';
    const what = `${e.tagName.toLowerCase()}.${e.className} ${e.scrollWidth}/${e.clientWidth}px`;
    checked.push(what);
    const atStart = fade(e);
    if (atStart !== 'right') { missing.push(`${what}: fade ${atStart} at the start`); continue; }
    if (seen.has(kind)) continue;
    seen.add(kind);
    scrollTo(e, e.scrollWidth);
    const atEnd = fade(e);
    scrollTo(e, 0);
    if (atEnd !== 'left') missing.push(`${what}: fade ${atEnd} when scrolled to the end`);
  }
  return {missing, checked};
}"""


SCROLL_CUE_SHOT: list[Path] = []  # the one screenshot of a wide box on a phone, per session


# --------------------------------------------------------------------------- the build


def test_build_is_clean(site):
    """-W already fails the build on any warning; say so plainly and keep the numbers visible."""
    warnings = [line for line in site.log.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", line)]
    assert not warnings, "\n".join(warnings)
    size = sum(p.stat().st_size for p in site.html.rglob("*") if p.is_file())
    built = ("up to date: no rebuild, nothing it is built from changed since its last clean build"
             if site.kind == "up to date" else f"{site.kind} build in {site.seconds:.0f} s")
    print(f"\nsite: {built}, "
          f"{len(DOCNAMES)} toc pages, "
          f"_build/html = {size / 1e6:.1f} MB")
    for part in ("startup.js", "core.js", "input/tex.js", "output/chtml.js"):
        assert (site.html / "_static" / "mathjax" / part).is_file(), f"MathJax {part} is not bundled"
    assert (site.html / "_static" / "favicon.svg").is_file(), "no favicon"
    for docname in DOCNAMES:
        assert (site.html / f"{docname}.html").is_file(), f"{docname} is in _toc.yml but was not built"
    # no page in one language for both books besides the landing and search pages: the general
    # index would be empty and English (html_use_index: false), and nothing points to it
    assert not (site.html / "genindex.html").exists(), "an (empty, English) genindex.html is built"
    linking = [p.name for p in site.html.rglob("*.html") if "genindex.html" in p.read_text("utf-8")]
    assert not linking, f"pages link to genindex.html: {linking[:5]}"


def test_chapters_come_in_pairs():
    for docname in CHAPTERS:
        assert twin_of(docname) in CHAPTERS, f"{docname}: its twin {twin_of(docname)} is not in _toc.yml"


def test_toc_parts_hold_one_language():
    """Each part of _toc.yml is one language's (the sidebar of a chapter shows its own parts)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc["parts"]:
        langs = {language_of(str(c["file"])) for c in part["chapters"]}
        assert len(langs) == 1, f"part {part['caption']!r} mixes languages: {langs}"
        chinese = bool(re.search(r"[\u4e00-\u9fff]", part["caption"]))
        assert chinese == (langs == {"zh-CN"}), f"part {part['caption']!r}: caption not in its language"


def test_no_missing_glyphs_in_outputs():
    """Chapters call use_book_figures() (which sets the CJK font): matplotlib must not have
    reported a missing glyph (tofu)."""
    for docname in CHAPTERS:
        nb = notebook(docname)
        if nb is None:
            continue
        for i, cell in enumerate(nb["cells"]):
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
                assert not re.search(r"Glyph \d+.*missing from (current )?font", text), \
                    f"{docname} cell {i}: missing glyph in a figure: {text[:300]}"


#: A code line the page shows without scrolling sideways at 1366 px (STYLE.md §4; ruff format).
CODE_COLUMNS = 88


def test_code_lines_fit():
    """Every code line of every chapter fits 88 columns (issue 26: 1,361 lines did not)."""
    long = []
    for docname in CHAPTERS:
        nb = notebook(docname)
        for i, cell in enumerate(nb["cells"] if nb else []):
            if cell["cell_type"] != "code":
                continue
            long += [f"{docname} cell {i}: {len(line)} columns: {line[:60]!r}"
                     for line in "".join(cell["source"]).splitlines() if len(line) > CODE_COLUMNS]
    assert not long, f"{len(long)} code lines longer than {CODE_COLUMNS} (ruff format the notebook):\n" \
        + "\n".join(long[:20])


def test_interface_language(site):
    """Chinese pages carry none of the theme's English interface words; English pages keep them."""
    for docname in CHAPTERS:
        text = (site.html / f"{docname}.html").read_text(encoding="utf-8")
        found = [p for p in ENGLISH_CHROME if re.search(p, text)]
        if language_of(docname).startswith("zh"):
            assert not found, f"{docname}: English interface markup left on a Chinese page: {found}"
            assert 'aria-label="显示/隐藏内容"' in text or "hide-cell" not in text
        else:
            # toggles only where a chapter hides cells; their prompt only where a notebook gives
            # none (Solution)
            # the page's contents only on pages with sections (not a one-section page)
            missing = [p for p in ENGLISH_CHROME if not re.search(p, text)
                       and "code cell" not in p and "Toggle hidden content" not in p
                       and not ("Contents" in p and 'class="page-toc' not in text)]
            assert not missing, f"{docname}: English interface markup missing from an English page: {missing}"
            assert not re.search(r"目录|上一页|下一页|下载源文件", text), f"{docname}: Chinese chrome on an English page"


def test_no_install_cell_in_the_html(site):
    """The Colab install cell stays in the notebook (nbval runs it) but not on the page."""
    shown = [d for d in CHAPTERS if re.search(r"%\s*pip\s+install", re.sub(
        r"<[^>]+>", "", (site.html / f"{d}.html").read_text(encoding="utf-8")))]
    assert not shown, f"install cells shown on {shown} (tag them remove-cell)"


def labelled_ids(site: Site, docname: str) -> list[str]:
    """Section ids made from the page's ``(en-x)=`` / ``(zh-x)=`` targets, in page order."""
    text = (site.html / f"{docname}.html").read_text(encoding="utf-8")
    prefix = "en-" if docname.startswith("book/en/") else "zh-"
    found = []
    for match in re.finditer(r'<section[^>]*\sid="([^"]+)"[^>]*>((?:\s*<span id="[^"]*"></span>)*)', text):
        spans = re.findall(r'id="([^"]+)"', match[2])
        labels = [s for s in spans if s.startswith(prefix)]
        if labels:
            assert match[1] == labels[0][len(prefix):], \
                f"{docname}: section labelled {labels[0]} has id {match[1]!r}, not the shared one"
            found.append(match[1])
    return found


def test_twins_share_section_anchors(site):
    """(en-x)= and (zh-x)= give both twins' sections the id x, so #x means the same place."""
    for docname in CHAPTERS:
        if docname.startswith("book/en/"):
            ours, theirs = labelled_ids(site, docname), labelled_ids(site, twin_of(docname))
            assert ours == theirs, f"{docname}: anchors differ from the twin's: {ours} vs {theirs}"


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page(site, visit, docname):
    following = DOCNAMES.index(docname) + 1
    v = visit(f"/{quote(docname)}.html",
              then=f"/{quote(DOCNAMES[following])}.html" if following < len(DOCNAMES) else None)
    page = v.page
    typeset_math(v, docname)
    loaded_images(v, docname)
    if docname in SHOT:
        screenshot(page, docname, "desktop")
    lang = page.evaluate("document.documentElement.lang")
    assert lang == language_of(docname), f"{docname}: <html lang={lang!r}>"
    gaps = page.evaluate(r"""[...document.querySelectorAll('article p, article li')]
        .map(e => e.textContent).join(' ')
        .match(/.{0,8}[\u4e00-\u9fff]\n[\u4e00-\u9fff].{0,8}/gu)""")
    assert not gaps, f"{docname}: line breaks between Chinese characters show as gaps: {gaps[:5]}"
    assert page.evaluate("!!document.querySelector('link[rel=icon]')"), f"{docname}: no favicon link"

    # the site name in the page's language, in <title> and in the header
    name = SITE_NAME[language_of(docname)]
    assert page.title().endswith(name), f"{docname}: <title> {page.title()!r} does not end in {name!r}"
    logo = page.locator(".navbar-brand .logo__title").first.text_content().strip()
    assert logo == name, f"{docname}: header says {logo!r}"

    # the sidebar: this language's book only (the landing page lists both)
    sidebar = {site.docname(h) for h in page.eval_on_selector_all(
        "#pst-primary-sidebar nav.bd-docs-nav a.reference", "as => as.map(a => a.href)")}
    sidebar.discard(DOCNAMES[0])
    if docname in CHAPTERS:
        own = {d for d in CHAPTERS if d.startswith(prefix_of(docname))}
        assert sidebar == own, (f"{docname}: sidebar lists {sorted(sidebar - own)} besides its language; "
                                f"misses {sorted(own - sidebar)}")
        for caption in page.eval_on_selector_all("#pst-primary-sidebar .caption-text",
                                                 "cs => cs.map(c => c.textContent)"):
            assert bool(re.search(r"[\u4e00-\u9fff]", caption)) == lang.startswith("zh"), \
                f"{docname}: part caption {caption!r} not in the page's language"
        # Previous / Next stay in the language (or go back to the landing page)
        for href in page.eval_on_selector_all("footer .prev-next-area a", "as => as.map(a => a.href)"):
            target = site.docname(href)
            assert target == DOCNAMES[0] or target.startswith(prefix_of(docname)), \
                f"{docname}: Previous/Next leads to {target}"
    else:
        assert sidebar == set(CHAPTERS), f"landing page sidebar: {sorted(set(CHAPTERS) ^ sidebar)}"

    if docname not in CHAPTERS:  # the landing page offers both languages
        page.set_viewport_size(PHONE)
        screenshot(page, docname, "phone")
        assert_clean(v, docname)
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
    over = page.evaluate(OVERFLOWING)
    assert not over, f"{docname}: at {DESKTOP['width']} px, text runs off its box: {over[:8]}"

    # the theme's interface words are in the page's language
    ui = UI_WORDS[language_of(docname)]
    is_notebook = notebook(docname) is not None  # not the API reference or the codes page
    if page.locator("#pst-secondary-sidebar .page-toc.tocsection").count():
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
    assert ui["download"] in tips and (ui["binder"] in tips or not is_notebook), \
        f"{docname}: button tooltips {tips}"
    author = page.locator("p.component-author").text_content().strip()
    assert author.startswith(ui["author"]), f"{docname}: footer author {author!r}"

    # interactive: launch buttons for this very notebook, .ipynb download, repository/issues
    ipynb = f"{docname}.ipynb"
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
    assert any(not is_notebook or h.startswith("https://mybinder.org/") and h.endswith(f"urlpath=lab/tree/{ipynb}") for h in hrefs), \
        f"{docname}: no Binder button for {ipynb}"
    assert any(not is_notebook or h.startswith("https://colab.research.google.com/github/")
               and h.endswith(f"/blob/main/{ipynb}") for h in hrefs), f"{docname}: no Colab button for {ipynb}"
    download = site.url("_sources/" + docname)[: -len(".html")] + (".ipynb" if is_notebook else ".md")
    assert download in hrefs and html_file(site, download).is_file(), f"{docname}: no .ipynb download"
    assert any(re.fullmatch(r"https://github\.com/[^/]+/[^/]+/?", h) for h in hrefs), "no repository button"
    assert any(re.match(r"https://github\.com/[^/]+/[^/]+/issues/new", h) for h in hrefs), "no issues button"

    # the notebook's cells as rendered: remove-cell cells (the Colab install cell) are gone,
    # figures carry the alt text of their cell's metadata, code keeps a monospace font
    shown = rendered_code_cells(docname)
    cells = page.locator("article div.cell")
    assert cells.count() == len(shown), \
        f"{docname}: {cells.count()} code cells in the HTML, {len(shown)} in the notebook without remove-cell"
    for k, cell in enumerate(shown):
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
        if alt:
            alts = cells.nth(k).locator("img").evaluate_all("is => is.map(i => i.alt)")
            assert alts and all(a == alt for a in alts), f"{docname} figure {k}: alt {alts}, expected {alt!r}"
    if shown:
        assert page.locator("div.cell div.highlight button.copybtn").count() >= 1, f"{docname}: no copy buttons"
        tooltip = page.locator("div.cell div.highlight button.copybtn").first.get_attribute("data-tooltip")
        assert tooltip == ui["copy"], f"{docname}: copy button tooltip {tooltip!r}"
        fonts = page.evaluate("""() => ({
            code: getComputedStyle(document.querySelector('div.cell_input pre')).fontFamily,
            mono: getComputedStyle(document.documentElement).getPropertyValue('--pst-font-family-monospace'),
            body: getComputedStyle(document.body).fontFamily})""")
        assert re.sub(r"[\s\"']", "", fonts["code"]) == re.sub(r"[\s\"']", "", fonts["mono"]), \
            f"{docname}: code is set in {fonts['code']!r}, not the monospace font {fonts['mono']!r}"
        if lang.startswith("zh"):
            assert "PingFang SC" in fonts["body"], f"{docname}: Chinese base font missing: {fonts['body']!r}"
    math_fonts = page.evaluate("[...document.querySelectorAll('mjx-container mjx-c')].slice(0, 50)"
                               ".map(c => getComputedStyle(c).fontFamily)")
    assert all(f.startswith("MJX") for f in math_fonts), f"{docname}: MathJax text in {set(math_fonts)}"

    # toggled cells: closed, labelled by the cell's own prompt (Solution / 解答) or the theme's
    hidden = [c for c in shown if "hide-cell" in tags(c)]
    toggles = page.locator("div.cell.tag_hide-cell > details.hide")
    assert toggles.count() == len(hidden), f"{docname}: {len(hidden)} hide-cell cells, {toggles.count()} toggles"
    if hidden:
        meta = hidden[0].get("metadata", {}).get("mystnb", {})
        first = toggles.first
        assert first.evaluate("d => !d.open"), f"{docname}: exercise solution shown by default"
        summary = first.locator("summary")
        expected = meta.get("code_prompt_show", ui["show"])
        assert summary.inner_text().strip() == expected, f"{docname}: toggle says {summary.inner_text()!r}"
        summary.click()
        assert first.evaluate("d => d.open")
        expected = meta.get("code_prompt_hide", ui["hide"])
        assert summary.inner_text().strip() == expected, f"{docname}: toggle says {summary.inner_text()!r}"

    # on a phone: nothing wider than the screen unless it scrolls inside its own box
    page.set_viewport_size(PHONE)
    page.wait_for_function(f"document.documentElement.clientWidth === {PHONE['width']}")
    wide = page.evaluate(WIDE_CONTENT)
    assert wide["page"] <= PHONE["width"], \
        f"{docname}: the page is {wide['page']} px wide on a phone, because of {wide['past']}"
    assert not wide["bad"], f"{docname}: content wider than a phone's column, not scrollable: {wide['bad']}"
    cues = page.evaluate(SCROLL_CUES)
    assert not cues["missing"], f"{docname}: wide math/tables with no visible cue: {cues['missing']}"
    text = page.evaluate(PHONE_TEXT)
    assert not text["prose"], f"{docname}: prose-like outputs scroll instead of wrapping: {text['prose'][:5]}"
    if has_figures(docname):
        assert_figures_sharp(page, docname)
    assert not text["crushed"], f"{docname}: table cells crushed on a phone: {text['crushed'][:5]}"
    switch = page.locator("article nav.lossref-lang-switch a.lossref-twin").bounding_box()
    assert switch and switch["width"] >= 44 and switch["height"] >= 44, \
        f"{docname}: the language switch is a {switch} tap target on a phone (44 × 44 px at least)"
    if cues["checked"] and not SCROLL_CUE_SHOT:
        box = page.locator("article.bd-article mjx-container[display='true'], article.bd-article table")
        wide_box = next((box.nth(i) for i in range(box.count())
                         if box.nth(i).evaluate("e => e.scrollWidth > e.clientWidth + 1")), None)
        if wide_box is not None:  # one wide equation or table as a reader sees it, for humans
            wide_box.scroll_into_view_if_needed()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            SCROLL_CUE_SHOT.append(SCREENSHOTS / f"{docname.replace('/', '_')}_phone_scroll_cue.png")
            page.screenshot(path=str(SCROLL_CUE_SHOT[0]))
    if docname in SHOT:
        screenshot(page, docname, "phone")
    assert_clean(v, docname)


# --------------------------------------------------------------------------- phone and desktop menus


#: Resolves once nothing in ``root`` moves (the drawer's slide, a scroll into view): no
#: animation or transition running in it and the box of ``target`` the same for three frames;
#: after 5 s at the latest (the checks that follow then say what is wrong).
SETTLED = """([root, target]) => new Promise((resolve) => {
  const el = document.querySelector(root);
  let last = '', same = 0;
  const frame = () => {
    const r = (el.querySelector(target) || el).getBoundingClientRect();
    const now = [r.x, r.y, r.width, r.height].join();
    const moving = el.getAnimations({subtree: true}).some((a) => a.playState === 'running');
    same = !moving && now === last ? same + 1 : 0;
    last = now;
    if (same >= 3) resolve(true); else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  setTimeout(() => resolve(false), 5000);
})"""


def settle(page, root: str, target: str) -> None:
    """Wait for the slide to end (instead of a fixed pause)."""
    page.evaluate(SETTLED, [root, target])


@pytest.mark.parametrize("docname", [d for d in CHAPTERS if d.endswith("/" + CHAPTERS[0].split("/")[-1])])
def test_menus_open_on_a_phone(site, visit, docname):
    """Tapping ☰ brings the chapter list into view, the outline button the page's contents."""
    v = visit(f"/{quote(docname)}.html", device="phone")
    page = v.page
    for button, dialog, item in [
        (".bd-header-article .primary-toggle", "#pst-primary-sidebar-modal", "nav.bd-docs-nav a.reference"),
        (".bd-header-article .secondary-toggle", "#pst-secondary-sidebar-modal", "nav.page-toc a"),
    ]:
        toggle = page.locator(button).first
        assert toggle.is_visible(), f"{docname}: no visible {button} on a phone"
        toggle.tap()
        page.wait_for_function(f"document.querySelector('{dialog}').open", timeout=5_000)
        link = page.locator(f"{dialog} {item}").first
        link.wait_for(state="visible", timeout=5_000)
        if dialog == "#pst-primary-sidebar-modal":
            settle(page, dialog, item)  # the panel slides in
            screenshot(page, docname, "phone_menu")
        box = link.bounding_box()
        assert box and 0 <= box["x"] < PHONE["width"] and 0 <= box["y"] < PHONE["height"], \
            f"{docname}: {dialog} opened but its links are off-screen: {box}"
        page.keyboard.press("Escape")
        page.wait_for_function(f"!document.querySelector('{dialog}').open", timeout=5_000)
    assert_clean(v, docname)


def test_phone_drawer_shows_the_chapter_and_closes(site, visit):
    """On a phone the contents drawer opens scrolled to the current chapter (the last one, far
    down the list) and closes when the reader taps an entry."""
    docname = [d for d in CHAPTERS if d.startswith("book/zh/")][-2]
    v = visit(f"/{quote(docname)}.html", device="phone")
    page = v.page
    dialog = "#pst-primary-sidebar-modal"
    page.locator(".bd-header-article .primary-toggle").first.tap()
    page.wait_for_function(f"document.querySelector('{dialog}').open", timeout=5_000)
    current = page.locator(f"{dialog} nav.bd-docs-nav li.current > a.reference")
    current.first.wait_for(state="visible", timeout=5_000)
    settle(page, dialog, "nav.bd-docs-nav li.current > a.reference")  # slides in, scrolls to it
    box = current.first.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], \
        f"{docname}: the drawer opens without the current chapter in view: {box}"
    # an entry: the drawer closes (a link within the page would otherwise leave it open)
    current.first.evaluate("a => { a.href = a.href.split('#')[0] + '#' + "
                           "document.querySelector('article section[id]').id; }")
    current.first.tap()
    page.wait_for_function(f"!document.querySelector('{dialog}').open", timeout=5_000)
    assert_clean(v, docname)


def test_menu_hides_the_sidebar_on_a_desktop(site, visit):
    """On a desktop ☰ hides the chapter list and brings it back."""
    v = visit(f"/{quote(CHAPTERS[0])}.html")
    page = v.page
    hidden = "getComputedStyle(document.querySelector('#pst-primary-sidebar')).visibility === 'hidden'"
    assert page.locator("#pst-primary-sidebar nav.bd-docs-nav").is_visible()
    page.locator(".bd-header-article .primary-toggle").first.click()
    page.wait_for_function(hidden, timeout=5_000)
    page.locator(".bd-header-article .primary-toggle").first.click()
    page.wait_for_function(f"!({hidden})", timeout=5_000)
    assert page.locator("#pst-primary-sidebar nav.bd-docs-nav").is_visible()
    assert_clean(v, CHAPTERS[0])


def test_language_switch_keeps_the_place(site, visit):
    """From a section of an English chapter to the same section of its Chinese twin, and back."""
    pairs = [(d, twin_of(d)) for d in CHAPTERS if d.startswith("book/en/")]
    shared = next(((d, t, ids[-1]) for d, t in pairs
                   if (ids := [i for i in labelled_ids(site, d) if i in labelled_ids(site, t)])), None)
    if shared is None:  # no chapter has its targets yet: any section id both twins have
        def section_ids(docname):
            return re.findall(r'<section[^>]*\sid="([^"]+)"', (site.html / f"{docname}.html").read_text("utf-8"))
        shared = next(((d, t, common[-1]) for d, t in pairs
                       if (common := [i for i in section_ids(d)[1:] if i in section_ids(t)])))
    docname, twin, anchor = shared
    v = visit(f"/{quote(docname)}.html#{anchor}")
    page = v.page
    page.locator("article nav.lossref-lang-switch a.lossref-twin").click()
    page.wait_for_url(f"**/{quote(twin)}.html#{anchor}", timeout=TIMEOUT_MS)
    assert page.evaluate(f"!!document.getElementById({anchor!r})"), f"{twin} has no #{anchor}"
    page.locator("article nav.lossref-lang-switch a.lossref-twin").click()
    page.wait_for_url(f"**/{quote(docname)}.html#{anchor}", timeout=TIMEOUT_MS)
    assert not v.console_errors, v.console_errors


# --------------------------------------------------------------------------- search


def search_results(v: Visit) -> list[dict]:
    """Wait until every result and its snippet are shown; return them in order."""
    page = v.page
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && /found|did not match|找到|没有找到/.test(s.textContent); }", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#search-results ul.search > li')]"
        ".every(li => li.querySelector('p.context'))", timeout=TIMEOUT_MS)
    return page.eval_on_selector_all("#search-results ul.search > li", """lis => lis.map(li => ({
        href: li.querySelector('a').href, lang: li.dataset.lang || '',
        badge: (li.querySelector('.lossref-result-lang') || {}).textContent || '',
        snippet: (li.querySelector('p.context') || {}).textContent || ''}))""")


@pytest.mark.parametrize(("query", "lang", "words", "prefix"), [
    ("交叉熵", "zh-CN", ["交叉熵"], "book/zh/"),
    ("权重", "zh-CN", ["权重"], "book/zh/"),
    # one character that is not an index word by itself: found inside 交叉熵, 二元交叉熵, ...
    ("熵", "zh-CN", ["熵"], "book/zh/"),
    # a phrase typed without spaces, as Chinese readers do: the site's splitter segments it
    ("交叉熵的权重", "zh-CN", ["交叉熵", "权重"], "book/zh/"),
    ("熵 权重", "zh-CN", ["熵", "权重"], "book/zh/"),
    ("label smoothing", "en", ["label smoothing"], "book/en/"),
    # a reader's whole question: words found nowhere narrow nothing
    ("why does label smoothing change my loss xyzzy", "en", ["label smoothing"], "book/en/"),
])
def test_search(site, visit, query, lang, words, prefix):
    """Each language's chapters that use the words are found, the reader's language first."""
    expected = {d for d in CHAPTERS if d.startswith(prefix)
                and all(w in markdown_text(d).lower() for w in words)}
    assert expected, f"no {prefix} chapter in _toc.yml mentions {words}: pick another query"
    v = visit(f"/search.html?q={quote(query)}&lang={lang}")
    results = search_results(v)
    found = [site.docname(r["href"].split("#")[0]) for r in results]
    assert_clean(v, f"search {query!r}")
    missing = expected - set(found)
    assert not missing, f"search {query!r} misses {sorted(missing)}; found {found}"
    langs = [language_of(d) for d in found if d in CHAPTERS]
    first_other = next((i for i, l in enumerate(langs) if l != lang), len(langs))
    assert lang not in langs[first_other:], \
        f"search {query!r} from a {lang} page: results not in that language first: {found}"
    for r, d in zip(results, found):
        assert html_file(site, r["href"].split("?")[0].split("#")[0]).is_file(), f"{r['href']} does not exist"
        if d in CHAPTERS:
            assert r["badge"] in ("English", "中文") and r["lang"] == language_of(d), f"{d}: label {r}"
        assert not re.search(r"\\\(|\\\[|\\frac|\$\$|\\begin", r["snippet"]), f"{d}: raw TeX in {r['snippet']!r}"
        assert not r["snippet"].lstrip(". ").startswith(("Contents", "目录")), f"{d}: snippet {r['snippet']!r}"
        assert ".ipynb .pdf" not in r["snippet"], f"{d}: interface words in the snippet {r['snippet']!r}"
        # no holes where math was: "写成了 ，正确的应是 。", "the loss ( ) of"
        assert not re.search(r"\s[，。；：、）]|（\s*）|\(\s+\)|\s[,.;:](\s|$)", r["snippet"]), \
            f"{d}: a hole in the snippet {r['snippet']!r}"
    if lang.startswith("zh"):
        summary = v.page.text_content("#search-results .search-summary")
        assert re.search(r"[\u4e00-\u9fff]", summary), f"Chinese reader, English summary: {summary!r}"


def test_search_ranks_titles_first(site, visit):
    """A word in a chapter's title ranks that chapter above the chapters that only use it
    (not every chapter with the word in some section heading: issue 26, they all tied)."""
    v = visit(f"/search.html?q=weight&lang=en")
    found = [site.docname(r["href"].split("#")[0]) for r in search_results(v)]
    titled = [d for d in CHAPTERS if d.startswith("book/en/") and "weight" in
              " ".join(re.findall(r"^# (.*)$", markdown_text(d), re.M)).lower()]
    assert titled, "no English chapter has 'weight' in its title"
    others = [d for d in found if d.startswith("book/en/") and d not in titled]
    for d in titled:
        assert d in found, f"'weight' misses {d}"
        assert all(found.index(d) < found.index(o) for o in others), \
            f"'weight': {d} (title match) ranks below chapters that only use the word: {found}"
    assert_clean(v, "search 'weight'")

#: Each torch.nn loss class, its torch.nn.functional name and the options a chapter is about:
#: the chapter (file name shared by the twins) a reader who types it must get FIRST, from
#: either language's page (in the reader's language).
SEARCH_SUBJECTS = {
    "02_softmax_cross_entropy": ["CrossEntropyLoss", "cross_entropy", "log_softmax"],
    "03_weights_ignore_smoothing": ["ignore_index", "label_smoothing", "label smoothing"],
    "04_nll_loss": ["NLLLoss", "nll_loss"],
    "05_binary_cross_entropy": ["BCELoss", "binary_cross_entropy"],
    "06_bce_with_logits": ["BCEWithLogitsLoss", "binary_cross_entropy_with_logits", "pos_weight"],
    "07_reductions_legacy": ["reduction", "size_average"],
    "09_regression": ["L1Loss", "l1_loss", "MSELoss", "mse_loss", "SmoothL1Loss", "smooth_l1_loss",
                      "HuberLoss", "huber_loss"],
    "10_distributions": ["KLDivLoss", "kl_div", "log_target", "PoissonNLLLoss", "poisson_nll_loss",
                         "GaussianNLLLoss", "gaussian_nll_loss"],
    "11_margins_rankings": ["MarginRankingLoss", "margin_ranking_loss", "HingeEmbeddingLoss",
                            "hinge_embedding_loss", "SoftMarginLoss", "soft_margin_loss",
                            "CosineEmbeddingLoss", "cosine_embedding_loss", "TripletMarginLoss",
                            "triplet_margin_loss", "TripletMarginWithDistanceLoss",
                            "triplet_margin_with_distance_loss"],
    "12_multi_margins": ["MultiMarginLoss", "multi_margin_loss", "MultiLabelMarginLoss",
                         "multilabel_margin_loss", "MultiLabelSoftMarginLoss",
                         "multilabel_soft_margin_loss"],
    "13_ctc": ["CTCLoss", "ctc_loss"],
    "14_vocabulary_scale": ["LinearCrossEntropyLoss", "linear_cross_entropy"],
}
#: The common Chinese terms: their Chinese chapter first.
SEARCH_ZH_TERMS = {
    "交叉熵": "02_softmax_cross_entropy", "梯度": "08_gradients", "二元交叉熵": "05_binary_cross_entropy",
    "标签平滑": "03_weights_ignore_smoothing", "权重": "03_weights_ignore_smoothing",
    "负对数似然": "04_nll_loss", "归约": "07_reductions_legacy",
}
#: Runs the search page's own query pipeline (parse, score, sort) for many queries at once;
#: the first result of each.
RANK_QUERIES = """(queries) => queries.map((q) => {
  const parsed = Search._parseQuery(q);
  const results = Search._performSearch(...parsed).slice().reverse();
  return results.slice(0, 3).map((r) => r[0]);
})"""


def test_torch_loss_classes_are_covered():
    """Every torch.nn loss class and loss function of the installed torch has its chapter."""
    torch_nn = pytest.importorskip("torch.nn")
    import torch.nn.functional as F  # noqa: N812

    named = {w for words in SEARCH_SUBJECTS.values() for w in words}
    classes = {n for n in dir(torch_nn.modules.loss) if n.endswith("Loss") and not n.startswith("_")}
    assert classes <= named, f"loss classes without their chapter in SEARCH_SUBJECTS: {classes - named}"
    functions = {n for n in dir(F) if not n.startswith("_") and (n.endswith("_loss") or n in (
        "cross_entropy", "kl_div", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "linear_cross_entropy"))}
    assert functions <= named, f"loss functions without their chapter: {functions - named}"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_search_finds_each_loss_first(site, visit, lang):
    """Each loss class, function and option brings its chapter first, in the reader's language;
    from a Chinese page the common Chinese terms bring their Chinese chapter first."""
    prefix = "book/zh/" if lang == "zh-CN" else "book/en/"
    queries = {q: prefix + stem for stem, words in SEARCH_SUBJECTS.items() for q in words}
    if lang == "zh-CN":
        queries.update({q: prefix + stem for q, stem in SEARCH_ZH_TERMS.items()})
    queries = {q: d for q, d in queries.items() if d in CHAPTERS}
    v = visit(f"/search.html?q=&lang={lang}")
    v.page.wait_for_function("typeof Search !== 'undefined' && Search._index !== null",
                             timeout=TIMEOUT_MS)
    tops = dict(zip(queries, v.page.evaluate(RANK_QUERIES, list(queries))))
    wrong = {q: tops[q] for q, d in queries.items() if not tops[q] or tops[q][0] != d}
    assert not wrong, (f"from a {lang} page, these do not bring their chapter first "
                       f"(top three shown): {wrong}")
    assert_clean(v, f"search page ({lang})")


def test_search_form_sends_the_readers_language(site, visit):
    """Searching from a Chinese page gives Chinese results first, on a page in Chinese."""
    docname = next(d for d in CHAPTERS if d.startswith("book/zh/"))
    v = visit(f"/{quote(docname)}.html")
    page = v.page
    page.locator("button.search-button__button:visible").first.click()
    box = page.locator("#pst-search-dialog input[name=q]")
    box.fill("交叉熵")
    box.press("Enter")
    page.wait_for_url("**/search.html?*", timeout=TIMEOUT_MS)
    assert parse_qs(urlsplit(page.url).query).get("lang") == ["zh-CN"], page.url
    results = search_results(v)
    assert results and results[0]["lang"] == "zh-CN", f"first result {results[:1]}"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator(".bd-search-container h1").first.text_content().strip() == "搜索"
    # the Chinese site name in the header and the <title>, no English interface words left
    name = SITE_NAME["zh-CN"]
    logo = page.locator(".navbar-brand .logo__title").first.text_content().strip()
    assert logo == name, f"search page for a Chinese reader: header says {logo!r}"
    assert page.title().startswith("搜索") and page.title().endswith(name), page.title()
    english = [t for t in page.evaluate(INTERFACE_TEXTS) if re.search(
        r"[A-Za-z]{2,}", re.sub("|".join(map(re.escape, NOT_WORDS)), "", t))]
    assert not english, f"search page for a Chinese reader: English interface words {english}"
    sidebar = {site.docname(h) for h in page.eval_on_selector_all(
        "#pst-primary-sidebar nav.bd-docs-nav a.reference", "as => as.map(a => a.href)")}
    assert sidebar - {DOCNAMES[0]} == {d for d in CHAPTERS if d.startswith("book/zh/")}, \
        f"search page sidebar for a Chinese reader: {sorted(sidebar)}"


# --------------------------------------------------------------------------- weight


#: what a first visit to any page may transfer (issue 26: 4.2 MB before; Font Awesome's 1.5 MB
#: bundle, MathJax's menu and the search index on every page are gone)
FIRST_VISIT_LIMIT = 2_000_000


def static_weight(site: Site, docname: str) -> int:
    """The page and its images, in bytes: which pages are the heaviest to load."""
    page = site.html / f"{docname}.html"
    text = page.read_text(encoding="utf-8")
    images = {page.parent / src for src in re.findall(r'<img[^>]+src="([^"#?]+)"', text)}
    return page.stat().st_size + sum(p.stat().st_size for p in images if p.is_file())


def heaviest_pages(site: Site) -> list[str]:
    """The landing page and the two heaviest pages of each language."""
    chosen = [DOCNAMES[0]]
    for prefix in LANG_OF:
        pages = [d for d in CHAPTERS if d.startswith(prefix)]
        chosen += sorted(pages, key=lambda d: static_weight(site, d), reverse=True)[:2]
    return chosen


def test_first_visit_weight(site, browser):
    """A first visit (empty cache) to the heaviest pages, MathJax typeset, stays under 2 MB.
    The pages load side by side, each in a context of its own (its own empty cache)."""
    weights, largest, visits = {}, {}, []
    try:
        for docname in heaviest_pages(site):
            context = browser.new_context(viewport=DESKTOP, service_workers="block")  # empty cache
            page = context.new_page()
            responses: list = []
            page.on("response", lambda r, into=responses: into.append(r))
            page.goto(site.url(docname), wait_until="commit", timeout=TIMEOUT_MS)
            visits.append((docname, context, page, responses))
        for docname, _, page, responses in visits:
            page.wait_for_load_state("load", timeout=TIMEOUT_MS)
            typeset_math(Visit(page, 200, [], [], []), docname)
            page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
            sizes = {r.url: len(r.body()) for r in responses
                     if r.status == 200 and r.request.method == "GET"}
            weights[docname] = sum(sizes.values())
            largest[docname] = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    finally:
        for _, context, _, _ in visits:
            context.close()
    print("\nfirst visits: " + ", ".join(f"{d} {n / 1e6:.2f} MB" for d, n in weights.items()))
    heavy = {d: n for d, n in weights.items() if n > FIRST_VISIT_LIMIT}
    assert not heavy, "\n".join(
        f"{d}: a first visit transfers {n / 1e6:.2f} MB; the largest: "
        + ", ".join(f"{urlsplit(u).path.rsplit('/', 1)[-1]} {k / 1e3:.0f} KB"
                    for u, k in largest[d]) for d, n in heavy.items())


# --------------------------------------------------------------------------- figures on a phone


#: Every figure of a chapter, as a phone (390 px, 2 device pixels per CSS pixel) shows it: its
#: size, its intrinsic size, its place in the column.
PHONE_FIGURES = """() => [...document.querySelectorAll('article.bd-article .cell_output img')]
  .map(i => ({src: i.src.split('/').pop(), shown: i.getBoundingClientRect().width,
              shownHeight: i.getBoundingClientRect().height, natural: i.naturalWidth,
              naturalHeight: i.naturalHeight,
              width1x: parseFloat(i.style.width || i.getAttribute('width')) || null,
              column: i.closest('article').getBoundingClientRect().width}))"""


def has_figures(docname: str) -> bool:
    nb = notebook(docname)
    return bool(nb) and any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                            for c in nb["cells"] for o in c.get("outputs", []))


def assert_figures_sharp(page, docname: str) -> None:
    """Issue 26: figures were blurry on a phone (1x PNGs scaled on a 2x screen). At a phone's
    width each figure is an SVG or has at least 2 pixels per CSS pixel as shown, keeps its
    aspect ratio, fits the column, and is shown at its 1x size on a desktop (the PNG's width
    attribute). Its text stays readable there: use_book_figures() (lossref.notebook) sizes it;
    see tests/test_notebook_helpers.py. Checked by test_page at the phone's width."""
    figures = page.evaluate(PHONE_FIGURES)
    assert figures, f"{docname}: the notebook has a figure, the page shows none"
    for f in figures:
        assert f["shown"] <= f["column"] + 1, f"{docname}: {f['src']} is wider than the column: {f}"
        if f["src"].endswith(".svg"):
            continue
        assert f["natural"] >= 2 * f["shown"] - 1, \
            f"{docname}: {f['src']} has {f['natural']} px for {f['shown']:.0f} CSS px: blurry on a phone"
        assert abs(f["shownHeight"] / f["shown"] - f["naturalHeight"] / f["natural"]) < 0.02, \
            f"{docname}: {f['src']} is distorted: {f}"
        assert f["width1x"] and 2 * f["width1x"] <= f["natural"] + 2, \
            f"{docname}: {f['src']} has no 1x width (style or attribute): a desktop shows it too large"
