"""Local Sphinx extension for the lossref book: what a reader of the site needs.

Registered in ``_config.yml`` under ``sphinx: local_extensions: {lossref_site: book/_ext}``.
One module per concern:

* ``languages``: the two books in one build (twin switch, ``<html lang>``, per-language sidebar,
  title and Previous/Next, section anchors shared between twins).
* ``chinese_ui``: the theme's interface words in Chinese on Chinese pages.
* ``cjk_lines``: wrapped Chinese prose without gaps between characters.
* ``chapter_lists``: the ``{chapter-list}`` directive of the landing page.
* ``assets``: offline MathJax, the site's CSS/JS, favicon, deduplicated inline scripts.
* ``search``: Chinese tokenization, query splitting, ranking and snippets.
* ``codes``: the ``{diagnose-codes}`` table of every ``lossref.diagnose`` code.
* ``api``: the ``{lossref-api}`` directive of the API reference (autodoc of lossref).
* ``icons``: the theme's icons as a few KB of inline SVG instead of its 1.5 MB Font Awesome.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from . import api, assets, chapter_lists, chinese_ui, cjk_lines, codes, icons, languages, search

__version__ = "2.0"


def setup(app: Sphinx) -> dict[str, Any]:
    for module in (languages, chinese_ui, cjk_lines, chapter_lists, codes, assets, search, api,
                   icons):
        module.setup(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
