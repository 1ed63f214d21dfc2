"""The theme's icons without its 1.5 MB ``fontawesome.js``: a few kilobytes of inline SVG.

pydata-sphinx-theme puts Font Awesome's whole SVG+JS bundle (every icon of three styles,
1.49 MB) on every page, for the dozen or so icons its header and buttons show. Here:

* ``config-inited``: a template override of the theme's ``webpack-macros.html`` (generated from
  the installed theme's own file, so its asset digests stay right) loads
  ``_static/lossref-icons.js`` instead of ``scripts/fontawesome.js``;
* ``build-finished``: ``lossref-icons.js`` is written from the theme's bundle itself — the path
  data of every icon the theme's templates and scripts mention, plus every icon found in the
  built pages, with Font Awesome's own CSS for ``svg-inline--fa``. It swaps each
  ``<i class="fa-solid fa-bars">`` for the ``<svg>`` Font Awesome would have drawn, also for
  icons the theme's scripts add later (a MutationObserver);
* a page that uses an icon the bundle does not have is a build warning (``-W`` fails).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging as sphinx_logging

logger = sphinx_logging.getLogger(__name__)

#: an icon of the bundle: ``name:[width,height,[aliases],"unicode","path"]``
ICON = re.compile(r'(?:"([a-z0-9-]+)"|\b([a-z0-9]+)):\[(\d+),(\d+),\[([^\]]*)\],"[0-9a-f]+",'
                  r'("(?:[^"\\]|\\.)*"|\[[^\]]*\])\]')
FA_CLASS = re.compile(r"\bfa-([a-z0-9]+(?:-[a-z0-9]+)*)")
STYLES = {"fa-solid": "fas", "fas": "fas", "fa-regular": "far", "far": "far",
          "fa-brands": "fab", "fab": "fab"}
#: the bundle's three blocks of icons, in the order it defines them
BLOCK_ORDER = ("fab", "far", "fas")


def theme_dirs() -> list[Path]:
    import pydata_sphinx_theme
    import sphinx_book_theme

    return [Path(pydata_sphinx_theme.__file__).parent, Path(sphinx_book_theme.__file__).parent]


def bundle_path() -> Path:
    return theme_dirs()[0] / "theme" / "pydata_sphinx_theme" / "static" / "scripts" / "fontawesome.js"


@lru_cache(maxsize=1)
def bundle() -> tuple[dict[str, dict[str, list]], str]:
    """(style -> name -> [width, height, path], Font Awesome's CSS) read from the bundle."""
    js = bundle_path().read_text(encoding="utf-8")
    matches = list(ICON.finditer(js))
    blocks: list[list[re.Match]] = [[]]
    for previous, match in zip([None, *matches], matches):
        if previous is not None and match.start() - previous.end() > 50:
            blocks.append([])
        blocks[-1].append(match)
    if len(blocks) != len(BLOCK_ORDER):
        raise RuntimeError(f"{bundle_path()}: {len(blocks)} icon blocks, expected brands, "
                           "regular and solid: the theme's Font Awesome changed; update icons.py")
    icons: dict[str, dict[str, list]] = {}
    for style, block in zip(BLOCK_ORDER, blocks):
        table = icons.setdefault(style, {})
        for m in block:
            name = m.group(1) or m.group(2)
            entry = [int(m.group(3)), int(m.group(4)), json.loads(m.group(6))]
            table[name] = entry
            for alias in re.findall(r'"([a-z0-9-]+)"', m.group(5)):
                table.setdefault(alias, entry)
    start = js.find(".svg-inline--fa")
    css = js[js.rfind("'", 0, start) + 1: js.find("'", start)]
    return icons, css


def names_in(text: str) -> set[str]:
    return set(FA_CLASS.findall(text))


def theme_icon_names() -> set[str]:
    """Every ``fa-…`` name in the themes' templates, Python and (non-bundle) scripts."""
    found: set[str] = set()
    for top in theme_dirs():
        for path in top.rglob("*"):
            if path.suffix in (".html", ".py", ".js") and path.name != "fontawesome.js" \
                    and path.is_file():
                found |= names_in(path.read_text(encoding="utf-8", errors="replace"))
    return found


def subset(names: set[str]) -> dict[str, list]:
    icons, _ = bundle()
    return {f"{style}:{name}": icons[style][name]
            for style in BLOCK_ORDER for name in sorted(names) if name in icons[style]}


SCRIPT = """/* The site's Font Awesome icons as inline SVG: written by book/_ext/lossref_site/icons.py
   from the theme's fontawesome.js (Font Awesome Free, icons CC BY 4.0, code MIT), which it
   replaces: the same <svg> markup and CSS for the few icons the pages use. */
(() => {
  const ICONS = %(icons)s;
  const STYLES = %(styles)s;
  const style = document.createElement("style");
  style.textContent = %(css)s;
  document.head.appendChild(style);
  const NS = "http://www.w3.org/2000/svg";
  function draw(el) {
    let prefix = "fas", found = null;
    for (const c of el.classList) if (STYLES[c]) prefix = STYLES[c];
    for (const c of el.classList) {
      if (c.startsWith("fa-") && ICONS[prefix + ":" + c.slice(3)]) { found = c.slice(3); break; }
    }
    if (!found) return;
    const [w, h, d] = ICONS[prefix + ":" + found];
    const svg = document.createElementNS(NS, "svg");
    const keep = [...el.classList].filter((c) => !STYLES[c]);
    svg.setAttribute("class", ["svg-inline--fa", ...keep].join(" "));
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("role", "img");
    svg.dataset.prefix = prefix;
    svg.dataset.icon = found;
    for (const a of ["title", "style", "id"]) if (el.hasAttribute(a)) svg.setAttribute(a, el.getAttribute(a));
    for (const part of Array.isArray(d) ? d : [d]) {
      const path = document.createElementNS(NS, "path");
      path.setAttribute("fill", "currentColor");
      path.setAttribute("d", part);
      svg.appendChild(path);
    }
    el.replaceWith(svg);
  }
  const SELECTOR = 'i[class*="fa-"], span[class*="fa-"]';
  const drawAll = (root) => root.querySelectorAll(SELECTOR).forEach(draw);
  const start = () => {
    drawAll(document);
    new MutationObserver((changes) => {
      for (const change of changes) {
        for (const node of change.addedNodes) {
          if (node.nodeType !== 1) continue;
          if (node.matches(SELECTOR)) draw(node);
          drawAll(node);
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
"""


def override_templates(app: Sphinx, config) -> None:
    """``config-inited``: the theme's webpack macros, loading our icons instead of the bundle."""
    source = theme_dirs()[0] / "theme" / "pydata_sphinx_theme" / "static" / "webpack-macros.html"
    text = source.read_text(encoding="utf-8")
    line = re.search(r'<script defer src="\{\{ pathto\(\'_static/scripts/fontawesome\.js\', 1\) '
                     r'\}\}[^"]*"></script>', text)
    if not line:
        logger.warning("lossref-icons: the theme's webpack-macros.html no longer loads "
                       "fontawesome.js as icons.py expects; icons are left to the theme")
        return
    text = text.replace(line.group(0), "<script defer src=\"{{ pathto('_static/"
                        "lossref-icons.js', 1) }}\"></script>")
    target = Path(app.doctreedir).parent / "lossref_templates"
    (target / "static").mkdir(parents=True, exist_ok=True)
    out = target / "static" / "webpack-macros.html"
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    config.templates_path = [str(target), *config.templates_path]


def write_icons(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: ``_static/lossref-icons.js``, and a warning for a missing icon."""
    if exc is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    used: set[str] = set()
    for page in outdir.rglob("*.html"):
        used |= names_in(page.read_text(encoding="utf-8", errors="replace"))
    icons, css = bundle()
    modifiers = names_in(css) | {s.removeprefix("fa-") for s in STYLES}
    known = set().union(*(set(t) for t in icons.values()))
    for name in sorted(used - modifiers - known):
        logger.warning(f"lossref-icons: a page uses fa-{name}, which Font Awesome does not have")
    chosen = subset((used | theme_icon_names()) - modifiers)
    script = SCRIPT % {"icons": json.dumps(chosen, separators=(",", ":")),
                       "styles": json.dumps(STYLES), "css": json.dumps(css)}
    (outdir / "_static" / "lossref-icons.js").write_text(script, encoding="utf-8")


def setup(app: Sphinx) -> None:
    app.connect("config-inited", override_templates)
    app.connect("build-finished", write_icons)
