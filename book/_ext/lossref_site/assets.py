"""What the site serves itself: offline MathJax, the site's CSS and script, the favicon.

* MathJax 3 is served from ``_static/mathjax`` (files of the PyPI package
  ``sphinx-mathjax-offline``), never from a CDN. Not the combined ``tex-chtml.js`` (1.16 MB, of
  which 426 KB is the right-click menu): ``startup.js`` loads the TeX input, the CommonHTML
  output, its font and the assistive MathML for screen readers (about 760 KB); TeX extensions
  still autoload. Only what that can load is copied.
* ``lossref-site.css``: the Chinese base font (only the base font: code, outputs and MathJax keep
  theirs), wide math and tables scrolling inside their column on a phone with a visible cue,
  wrapped solutions.
* ``lossref-site.js``: the phone menus (pydata-sphinx-theme 0.17 wires its sidebar toggles to
  the first, hidden ``.primary-toggle``; see pydata-sphinx-theme issue 2451), the language
  switch carrying the reader's ``#anchor``, search forms telling the search page their language,
  the search page in the reader's language (``chinese_ui.search_page_ui``), and a fade at the
  edge past which a wide equation, table, code or output box scrolls on a phone.
* ``favicon.svg`` (``html: favicon:`` in ``_config.yml``): no 404 on every page view.
* Inline scripts that sphinx-book-theme/Sphinx 7.4 put on every page twice (Thebe's
  ``const THEBE_JS_URL`` and togglebutton's selector) are deduplicated, otherwise every
  page logs "Identifier 'THEBE_JS_URL' has already been declared".
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

STATIC = Path(__file__).resolve().parent.parent / "static"

#: MathJax's components for the book's pages: what the combined tex-chtml.js holds, less the
#: menu (ui/menu.js, 426 KB, and the speech tools it would load on demand)
MATHJAX_LOAD = ["input/tex", "output/chtml", "a11y/assistive-mml"]
#: what those can load at run time: the loader, the components, TeX extensions (autoload), fonts
MATHJAX_KEEP = ["startup.js", "core.js", "input", "output/chtml.js", "output/chtml",
                "a11y/assistive-mml.js"]


def mathjax_source() -> Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise ExtensionError(
            "lossref_site: MathJax is served from the site itself; "
            "install it with 'pip install sphinx-mathjax-offline' (see requirements.txt)"
        )
    return Path(spec.origin).parent / "static" / "mathjax"


def configure(app: Sphinx, config: Any) -> None:
    """``config-inited``: local MathJax and our static files (the favicon is set in _config.yml)."""
    source = mathjax_source()
    if not (source / "startup.js").is_file():
        raise ExtensionError(f"lossref_site: no startup.js under {source}")
    config.mathjax_path = "mathjax/startup.js"
    mathjax = dict(config.mathjax3_config or {})
    mathjax["loader"] = {**mathjax.get("loader", {}), "load": MATHJAX_LOAD}
    mathjax["options"] = {"enableMenu": False, "enableAssistiveMml": True,
                          **mathjax.get("options", {})}
    config.mathjax3_config = mathjax
    config.html_static_path = list(config.html_static_path) + [str(STATIC)]
    app.add_css_file("lossref-site.css")
    app.add_js_file("lossref-site.js", loading_method="defer")


def copy_mathjax(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: copy MathJax into ``_static/mathjax`` of HTML builds."""
    if exc is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    for entry in MATHJAX_KEEP:
        src, dst = source / entry, target / entry
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def refresh_static(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: our static files, always the current ones. Sphinx 7.4 leaves a file
    that already exists in ``_static`` alone, so an incremental ``make book`` kept serving an
    edited script's old version."""
    if exc is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static"
    target.mkdir(parents=True, exist_ok=True)
    for source in STATIC.iterdir():
        if source.is_file():
            shutil.copyfile(source, target / source.name)


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict,
                   doctree: Any) -> None:
    """``html-page-context``: every inline script once (keyed on file name and body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, Any]] = set()
    unique = []
    for js in scripts:
        key = (str(getattr(js, "filename", js) or ""), getattr(js, "attributes", {}).get("body"))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    scripts[:] = unique  # in place: the list is the builder's, reset for every page


#: In the theme's CSS, Font Awesome's glyph rules (``.fa-bars:before{content:"\\f0c9"}``, 1,881
#: of them, 72 KB) and its web fonts' ``@font-face``: the icons are inline SVG (icons.py).
FA_GLYPH_RULE = re.compile(r'\.fa-[a-z0-9-]+(?:,\.fa-[a-z0-9-]+)*:{1,2}before\{content:"[^"]*"\}')
FA_FONT_FACE = re.compile(r'@font-face\{[^}]*Font Awesome[^}]*\}')


def trim_theme_css(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: the theme's CSS without Font Awesome's glyph rules and fonts."""
    if exc is not None or app.builder.format != "html":
        return
    css = Path(app.outdir) / "_static" / "styles" / "pydata-sphinx-theme.css"
    if not css.is_file():
        return
    text = css.read_text(encoding="utf-8")
    lean = FA_FONT_FACE.sub("", FA_GLYPH_RULE.sub("", text))
    if lean != text:
        css.write_text(lean, encoding="utf-8")


#: sphinx-design (which jupyter-book loads) puts its 55 KB of CSS and its tabs script on every
#: page; a page with no sphinx-design element (no ``sd-`` class: none of the book's today)
#: goes without them.
DESIGN_ASSETS = re.compile(r'\s*<link[^>]*_static/sphinx-design\.min\.css[^>]*>'
                           r'|\s*<script[^>]*_static/design-tabs\.js[^>]*></script>')
USES_DESIGN = re.compile(r'class="[^"]*\bsd-')


def drop_unused_design(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: sphinx-design's CSS and script only on pages that use it."""
    if exc is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if USES_DESIGN.search(text):
            continue
        lean = DESIGN_ASSETS.sub("", text)
        if lean != text:
            page.write_text(lean, encoding="utf-8")


def setup(app: Sphinx) -> None:
    app.connect("config-inited", configure)
    app.connect("html-page-context", dedupe_scripts, priority=900)  # after the theme's scripts
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", refresh_static)
    app.connect("build-finished", trim_theme_css)
    app.connect("build-finished", drop_unused_design)
