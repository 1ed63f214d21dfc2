"""The theme's interface words in Chinese on Chinese pages.

A Sphinx build has one UI language (English), so on ``book/zh/*`` pages the theme's own words
(目录, 搜索, 上一页/下一页, 下载源文件, 启动, 显示/隐藏代码单元格内容 ...) are put in Chinese here:
myst-nb's default hide-cell prompts in the doctree (a notebook's own prompt, such as 解答, is
left alone), the page chrome by replacing exact, known markup in the written zh HTML files
(``build-finished``). The copy button needs nothing: sphinx-copybutton already reads
``<html lang="zh-CN">`` (复制).

The search page serves both books: the search form of a Chinese page sends ``lang=zh-CN``, and
``lossref-site.js`` then puts the page's interface in Chinese in the browser, from the same
tables (``ZH_ATTRIBUTES``) plus ``ZH_WORDS``, given to it as ``window.LOSSREF_ZH_UI`` on that
page only: the site name in the header and ``<title>``, the theme's words, the sidebar's parts.
Without JavaScript the search page's notice is in both languages. There is no other
language-neutral page: the general index would be empty (the book has no index entries), so it
is not built (``html_use_index: false`` in ``_config.yml``), and there is no 404 page.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

from .languages import is_chinese

#: myst-nb's prompts of hidden code cells ("Show code cell {type}", type = content/source/output).
ZH_CELL_PROMPTS = {
    f"{verb} code cell {kind}": f"{zh_verb}代码单元格{zh_kind}"
    for verb, zh_verb in (("Show", "显示"), ("Hide", "隐藏"))
    for kind, zh_kind in (("content", "内容"), ("source", "源代码"), ("output", "输出"), ("outputs", "输出"))
}

#: (attribute, English value) -> Chinese value: tooltips and labels of the theme's chrome.
ZH_ATTRIBUTES = {
    ("title", "Search"): "搜索",
    ("aria-label", "Search"): "搜索",
    ("title", "Index"): "索引",
    ("placeholder", "Search this book..."): "在本书中搜索…",
    ("aria-label", "Search this book..."): "在本书中搜索",
    ("aria-label", "Version warning"): "版本提示",
    ("aria-label", "Site navigation"): "网站导航",
    ("aria-label", "On this page"): "本页目录",
    ("aria-label", "Main"): "主导航",
    ("aria-label", "Page"): "本页目录",
    ("title", "Toggle primary sidebar"): "显示/隐藏导航栏",
    ("title", "Toggle secondary sidebar"): "显示/隐藏本页目录",
    ("aria-label", "Launch interactive content"): "启动交互式环境",
    ("title", "Launch on Binder"): "在 Binder 上启动",
    ("title", "Launch on Colab"): "在 Colab 上启动",
    ("title", "Launch on JupyterHub"): "在 JupyterHub 上启动",
    ("alt", "Binder logo"): "Binder 标志",
    ("alt", "Colab logo"): "Colab 标志",
    ("alt", "JupyterHub logo"): "JupyterHub 标志",
    ("aria-label", "Source repositories"): "源代码仓库",
    ("title", "Source repository"): "源代码仓库",
    ("title", "Open an issue"): "提交问题",
    ("title", "Edit this page"): "编辑本页",
    ("aria-label", "Download this page"): "下载本页",
    ("title", "Download source file"): "下载源文件",
    ("title", "Download notebook file"): "下载笔记本文件",
    ("title", "Print to PDF"): "打印为 PDF",
    ("title", "Fullscreen mode"): "全屏模式",
    ("aria-label", "Color mode"): "颜色模式",
    ("data-bs-title", "Color mode"): "颜色模式",
    ("title", "Light"): "浅色",
    ("title", "Dark"): "深色",
    ("title", "System Settings"): "跟随系统",
    ("title", "Link to this heading"): "链接到此标题",
    ("aria-label", "Toggle hidden content"): "显示/隐藏内容",
    ("title", "previous page"): "上一页",
    ("title", "next page"): "下一页",
    ("aria-label", "Section Navigation"): "章节导航",
    ("aria-label", "Breadcrumb"): "导航路径",
    ("title", "Home"): "首页",
    ("aria-label", "Home"): "首页",
}

_ZH_ATTRIBUTE = re.compile(
    r'(?<=\s)(title|aria-label|placeholder|data-bs-title|alt)="([^"<>]*)"'
)

#: Text of known elements: (pattern, replacement), applied once each, in order.
ZH_TEXT = [(re.compile(pattern), replacement) for pattern, replacement in [
    (r'(<a href="#main-content">)Skip to main content(</a>)', r"\1跳到正文\2"),
    (r'(<i class="fa-solid fa-arrow-up"></i>)Back to top(</button>)', r"\1回到顶部\2"),
    (r'(<span class="search-button__default-text">)Search(</span>)', r"\1搜索\2"),
    (r'(<span class="btn__text-container">)Repository(</span>)', r"\1仓库\2"),
    (r'(<span class="btn__text-container">)Open issue(</span>)', r"\1提交问题\2"),
    (r'(<span class="btn__text-container">)Edit(</span>)', r"\1编辑\2"),
    (r'(<p class="prev-next-subtitle">)previous(</p>)', r"\1上一页\2"),
    (r'(<p class="prev-next-subtitle">)next(</p>)', r"\1下一页\2"),
    # the page table of contents: its title in the right sidebar, and in the printed page
    (r'(class="page-toc tocsection onthispage">\s*<i class="fa-solid fa-list"></i>) '
     r'Contents(\s*</div>)',
     r"\1 目录\2"),
    (r"(<div id=\"jb-print-toc\">\s*<div>\s*<h2>) Contents (</h2>)", r"\1 目录 \2"),
    (r'(<p class="component-author">\s*)By (\S[^<]*?)(\s*</p>)', r"\1作者：\2\3"),
    (r'(<p class="copyright">\s*)© Copyright ([^<]*?)\.(\s*<br/>)', r"\1© 版权所有 \2。\3"),
    # sphinx-togglebutton's hints (used by .toggle / dropdown admonitions)
    (r"(<script>let toggleHintShow = )'Click to show';", r"\1'点击显示';"),
    (r"(<script>let toggleHintHide = )'Click to hide';", r"\1'点击隐藏';"),
]]


#: Whole texts of the theme's elements on the search page, English -> Chinese (the browser
#: puts them in Chinese for a reader who came from a Chinese page; see ``search_page_ui``).
ZH_WORDS = {
    "Skip to main content": "跳到正文",
    "Back to top": "回到顶部",
    "Search": "搜索",
    "Repository": "仓库",
    "Open issue": "提交问题",
    "Edit": "编辑",
    "Contents": "目录",
    "Error": "错误",
    "Please activate JavaScript to enable the search functionality.":
        "请启用 JavaScript 以使用搜索功能。",
}
#: (CSS selector, JavaScript regular expression, replacement) for texts with a variable part.
ZH_PATTERNS = [
    ("p.component-author", r"^(\s*)By (\S.*?)(\s*)$", "$1作者：$2$3"),
    ("p.copyright", r"© Copyright (.*?)\.", "© 版权所有 $1。"),
]
#: The search page's notice without JavaScript, in both languages (no script can translate it).
NOSCRIPT = (
    '<p class="admonition-title">Error</p>\n'
    "        <p>Please activate JavaScript to enable the search functionality.</p>",
    '<p class="admonition-title">Error · 错误</p>\n'
    "        <p>Please activate JavaScript to enable the search functionality.</p>\n"
    '        <p lang="zh-CN">请启用 JavaScript 以使用搜索功能。</p>',
)


def search_page_ui(app: Sphinx, pagename: str, templatename: str, context: dict,
                   doctree: Any) -> None:
    """``html-page-context``: the Chinese interface of the search page, for lossref-site.js.

    The page is shared by both books; the reader's language arrives as ``?lang=``.
    """
    if pagename != "search":
        return
    titles = app.config.lossref_site_titles or {}
    attributes: dict[str, dict[str, str]] = {}
    for (name, english), chinese in ZH_ATTRIBUTES.items():
        attributes.setdefault(name, {})[english] = chinese
    attributes.setdefault("data-bs-original-title", {}).update(attributes.get("title", {}))
    ui = {
        "siteName": {app.config.html_title or app.config.project: titles.get("zh-CN", "")},
        "attributes": attributes,
        "words": ZH_WORDS,
        "patterns": ZH_PATTERNS,
    }
    payload = json.dumps(ui, ensure_ascii=False).replace("</", "<\\/")
    app.add_js_file(None, body=f"window.LOSSREF_ZH_UI = {payload};")


def bilingual_noscript(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: the search page's no-JavaScript notice in both languages."""
    if exc is not None or app.builder.format != "html":
        return
    path = Path(app.outdir) / "search.html"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if NOSCRIPT[0] in text:
            path.write_text(text.replace(NOSCRIPT[0], NOSCRIPT[1]), encoding="utf-8")


def translate_cell_prompts(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: myst-nb's "Show code cell content" prompts, in Chinese pages."""
    if not is_chinese(docname):
        return
    for node in doctree.findall(nodes.Element):
        if type(node).__name__ != "HideCodeCellNode":
            continue
        for key in ("prompt_show", "prompt_hide"):
            if node.get(key) in ZH_CELL_PROMPTS:  # a notebook's own prompt is left alone
                node[key] = ZH_CELL_PROMPTS[node[key]]


def translate_chrome(markup: str) -> str:
    """The theme's English interface words of one written zh page, put in Chinese.

    Only exact, known attribute values and the text of known elements are replaced, so the
    chapter's own text is never touched; a page already translated is left as it is.
    """
    def attribute(match: re.Match) -> str:
        chinese = ZH_ATTRIBUTES.get((match[1], html.unescape(match[2])))
        return match[0] if chinese is None else f'{match[1]}="{html.escape(chinese)}"'

    markup = _ZH_ATTRIBUTE.sub(attribute, markup)
    for pattern, replacement in ZH_TEXT:
        markup = pattern.sub(replacement, markup)
    return markup


def translate_zh_pages(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: rewrite the interface words of every written Chinese page."""
    if exc is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for docname in sorted(app.env.found_docs):
        if not is_chinese(docname):
            continue
        uri = app.builder.get_target_uri(docname)
        path = outdir / (uri + "index.html" if uri.endswith("/") or not uri else uri)
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        translated = translate_chrome(text)
        if translated != text:
            path.write_text(translated, encoding="utf-8")


def setup(app: Sphinx) -> None:
    app.connect("doctree-resolved", translate_cell_prompts)
    app.connect("build-finished", translate_zh_pages)
    app.connect("html-page-context", search_page_ui)
    app.connect("build-finished", bilingual_noscript)
