"""Search that works for both books: Chinese words, one-character terms, ranking, snippets.

* The index: Sphinx's Chinese search (jieba) with a user dictionary of the book's terms
  (``jieba_dict.txt``), so that 交叉熵 or 负对数似然 are indexed whole, not cut into 交叉 + 熵.
* The query: Chinese readers type phrases without spaces ("二元交叉熵的权重"); ``splitQuery``
  cuts runs of Han characters by forward maximum matching against the words of the index.
* ``lossref-search.js`` (search page only) replaces the full-text part of Sphinx's search:
  a title or heading match ranks above a body match; a word found nowhere (a reader's whole
  question, "熵 权重") narrows nothing instead of emptying the results, pages matching more
  words rank first; a term that is not an index word (熵, one character) matches the index
  words that contain it (交叉熵, 二元交叉熵); pages in the reader's language (the search form
  of each page sends ``lang``) come first, and each result is labelled with its language;
  snippets come from the prose, not from the page's contents list, code or raw LaTeX.
"""

from __future__ import annotations

import re

import logging
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.search.zh import SearchChinese

JIEBA_DICT = Path(__file__).resolve().parent.parent / "jieba_dict.txt"

#: Replaces searchtools.js's splitQuery for the zh index. Runs of Han characters are cut by
#: forward maximum matching against the words of the index itself (the ones jieba produced
#: at build time); unknown single characters such as 的 are dropped. A run that matches no
#: index word at all (熵) is kept whole: lossref-search.js looks it up inside index words.
JS_SPLITTER = r"""
var splitQuery = (query) => {
  const index = (typeof Search !== "undefined" && Search._index) ? Search._index : null;
  const known = (w) => index !== null && (w in index.terms || w in index.titleterms);
  const words = [];
  query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu).forEach((chunk) => {
    (chunk.match(/\p{Script=Han}+|[^\p{Script=Han}]+/gu) || []).forEach((part) => {
      if (index === null || !/\p{Script=Han}/u.test(part) || known(part)) {
        words.push(part);
        return;
      }
      const found = [];
      let start = 0;
      while (start !== part.length) {
        let end = part.length;
        while (end - start !== 1 && !known(part.slice(start, end))) end -= 1;
        if (end - start !== 1 || known(part.slice(start, end))) found.push(part.slice(start, end));
        start = end;
      }
      words.push(...(found.length ? found : [part]));
    });
  });
  return words.filter((word) => word);
};
"""


class SearchChineseBook(SearchChinese):
    """Sphinx's Chinese search (jieba) with a query splitter that segments Chinese phrases."""

    js_splitter_code = JS_SPLITTER


def configure(app: Sphinx, config: Any) -> None:
    """``config-inited``: the jieba dictionary of the book's terms."""
    options = dict(config.html_search_options or {})
    options.setdefault("dict", str(JIEBA_DICT))
    config.html_search_options = options
    try:  # jieba logs "Building prefix dict ..." at import; keep the build log for warnings
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:
        pass


def search_page_script(app: Sphinx, pagename: str, templatename: str, context: dict,
                       doctree: Any) -> None:
    """``html-page-context``: the ranking and snippets script, on the search page only.

    ``defer``: it runs after searchtools.js (a plain script) and before Search.init.
    """
    if pagename == "search":
        app.add_js_file("lossref-search.js", loading_method="defer")


#: pydata-sphinx-theme puts Sphinx's search tools and the whole index (about 300 KB) on every
#: page, for its search-as-you-type field; with that option off (the default, and ours) the
#: header's search form just opens search.html, and only that page needs them.
SEARCH_SCRIPTS = re.compile(r'\s*<script src="[^"]*(?:_static/searchtools\.js|'
                            r'_static/language_data\.js|searchindex\.js)[^"]*"></script>')


def index_on_search_page_only(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: drop the search tools and index from every page but search.html."""
    if exc is not None or app.builder.format != "html":
        return
    if app.config.html_theme_options.get("search_as_you_type"):
        return
    for page in Path(app.outdir).rglob("*.html"):
        if page.name == "search.html" and page.parent == Path(app.outdir):
            continue
        text = page.read_text(encoding="utf-8")
        lean = SEARCH_SCRIPTS.sub("", text)
        if lean != text:
            page.write_text(lean, encoding="utf-8")


def setup(app: Sphinx) -> None:
    app.connect("config-inited", configure)
    app.add_search_language(SearchChineseBook)
    app.connect("html-page-context", search_page_script)
    app.connect("build-finished", index_on_search_page_only)
