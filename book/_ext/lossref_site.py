"""Small Sphinx extension for the lossref book: what a reader of the site needs.

Registered in ``_config.yml`` under ``sphinx: local_extensions: {lossref_site: book/_ext}``.

* Language switch: every ``book/en/X`` page links to its twin ``book/zh/X`` and back, with a
  visible link under the page title and ``<link rel="alternate" hreflang=...>`` in the head;
  Chinese pages get ``<html lang="zh-CN">``, the others ``lang="en"``. A page without a twin
  in the table of contents is a build warning (so ``-W`` fails the build).
* ``{chapter-list} en`` / ``{chapter-list} zh``: the chapters of one language, in table of
  contents order, as a bulleted list of links (the landing page shows both languages).
* Offline math: MathJax 3 is served from ``_static/mathjax`` (files of the PyPI package
  ``sphinx-mathjax-offline``), never from a CDN. Only what ``tex-chtml.js`` can load is copied.
* Chinese search: a jieba user dictionary of the book's terms (``jieba_dict.txt``) so that
  words such as 交叉熵 or 负对数似然 are indexed whole, not cut into 交叉 + 熵.
* Inline scripts that sphinx-book-theme/Sphinx 7.4 put on every page twice (Thebe's
  ``const THEBE_JS_URL`` and togglebutton's selector) are deduplicated, otherwise every
  page logs "Identifier 'THEBE_JS_URL' has already been declared".
* Chinese interface: a build has one UI language (English), so on Chinese pages the theme's
  own words (目录, 搜索, 上一页/下一页, 下载源文件, 启动, 显示/隐藏代码单元格内容 ...) are put
  in Chinese here: myst-nb's hide-cell prompts in the doctree, the page chrome by replacing
  exact, known markup in the written zh HTML files (``build-finished``). The copy button
  needs nothing: sphinx-copybutton already reads ``<html lang="zh-CN">`` (复制).
"""

from __future__ import annotations

import html
import importlib.util
import logging
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.search.zh import SearchChinese
from sphinx.util import logging as sphinx_logging
from sphinx.util.docutils import SphinxDirective

__version__ = "1.0"

HERE = Path(__file__).resolve().parent
JIEBA_DICT = HERE / "jieba_dict.txt"
STATIC = HERE / "static"

#: docname prefix -> (BCP 47 language tag, name of the language in itself)
LANGUAGES = {
    "book/en/": ("en", "English"),
    "book/zh/": ("zh-CN", "中文"),
}
DEFAULT_LANGUAGE = "en"

logger = sphinx_logging.getLogger(__name__)


# --------------------------------------------------------------------------- languages


def page_language(docname: str) -> tuple[str, str] | None:
    """Return ``(prefix, tag)`` of a chapter page, or ``None`` for other pages."""
    for prefix, (tag, _name) in LANGUAGES.items():
        if docname.startswith(prefix):
            return prefix, tag
    return None


def twins(docname: str) -> dict[str, str]:
    """Every language version of a chapter page, keyed by language tag (itself included)."""
    found = page_language(docname)
    if found is None:
        return {}
    prefix, _tag = found
    stem = docname[len(prefix):]
    return {tag: other_prefix + stem for other_prefix, (tag, _name) in LANGUAGES.items()}


def toc_docnames(app: Sphinx) -> list[str]:
    """Every document of the table of contents, in reading order (root first)."""
    site_map = getattr(app.config, "external_site_map", None)
    if site_map is None:
        return []
    suffixes = list(app.config.source_suffix)

    def strip(name: str) -> str:
        for suffix in suffixes:
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    ordered: list[str] = []

    def walk(docname: str) -> None:
        ordered.append(strip(docname))
        for subtree in site_map[docname].subtrees:
            for item in subtree.items:
                if type(item).__name__ == "FileItem":
                    walk(str(item))

    walk(site_map.root.docname)
    return ordered


def check_twins(app: Sphinx, env: Any) -> None:
    """Warn about a chapter whose twin is not a page of the book (``env-check-consistency``)."""
    for docname in sorted(env.found_docs):
        versions = twins(docname)
        for tag, twin in versions.items():
            if twin != docname and twin not in env.found_docs:
                logger.warning(
                    "%s has no %s twin: add %s to _toc.yml (same file name in the other language)",
                    docname, tag, twin, location=docname, type="lossref", subtype="twin",
                )


class lang_switch(nodes.General, nodes.Element):
    """Placeholder for the language switch, rendered only by HTML builders."""


def visit_lang_switch_html(self: Any, node: lang_switch) -> None:
    self.body.append(node["html"])
    raise nodes.SkipNode


def skip_node(self: Any, node: nodes.Node) -> None:
    raise nodes.SkipNode


def insert_lang_switch(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put "English · 中文" right under the title of every chapter (``doctree-resolved``)."""
    if app.builder.format != "html":
        return
    versions = twins(docname)
    if not versions:
        return
    parts = []
    for prefix, (tag, name) in LANGUAGES.items():
        target = versions[tag]
        label = html.escape(name)
        if target == docname:
            parts.append(f'<span class="lossref-lang-current" lang="{tag}" aria-current="page">{label}</span>')
        elif target in app.env.found_docs:
            href = html.escape(app.builder.get_relative_uri(docname, target))
            parts.append(
                f'<a class="lossref-twin" href="{href}" hreflang="{tag}" lang="{tag}" rel="alternate">'
                f"{label}</a>"
            )
    if len(parts) < 2:
        return  # no twin: check_twins already warned
    markup = (
        '<nav class="lossref-lang-switch" aria-label="Language / 语言">'
        '<i class="fa-solid fa-language lossref-lang-icon" aria-hidden="true"></i> '
        + ' <span class="lossref-lang-sep" aria-hidden="true">·</span> '.join(parts)
        + "</nav>\n"
    )
    node = lang_switch()
    node["html"] = markup
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, node)
    else:
        doctree.insert(0, node)


def page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Per-page ``<html lang>``, hreflang links, and no duplicated inline scripts."""
    found = page_language(pagename)
    context["language"] = found[1] if found else DEFAULT_LANGUAGE

    versions = twins(pagename)
    if versions and all(doc in app.env.found_docs for doc in versions.values()):
        here = posixpath.dirname(app.builder.get_target_uri(pagename))
        links = "".join(
            '<link rel="alternate" hreflang="{}" href="{}" />\n'.format(
                tag, html.escape(posixpath.relpath(app.builder.get_target_uri(doc), here or "."))
            )
            for tag, doc in versions.items()
        )
        context["metatags"] = context.get("metatags", "") + links

    scripts = context.get("script_files")
    if scripts:
        seen: set[tuple[str, Any]] = set()
        unique = []
        for js in scripts:
            key = (str(getattr(js, "filename", js) or ""), getattr(js, "attributes", {}).get("body"))
            if key in seen:
                continue
            seen.add(key)
            unique.append(js)
        scripts[:] = unique  # in place: the list is the builder's, reset for every page


# --------------------------------------------------------------------------- Chinese interface

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
    (r'(class="page-toc tocsection onthispage">\s*<i class="fa-solid fa-list"></i>) Contents(\s*</div>)',
     r"\1 目录\2"),
    (r"(<div id=\"jb-print-toc\">\s*<div>\s*<h2>) Contents (</h2>)", r"\1 目录 \2"),
    (r'(<p class="component-author">\s*)By (\S[^<]*?)(\s*</p>)', r"\1作者：\2\3"),
    (r'(<p class="copyright">\s*)© Copyright ([^<]*?)\.(\s*<br/>)', r"\1© 版权所有 \2。\3"),
    # sphinx-togglebutton's hints (used by .toggle / dropdown admonitions)
    (r"(<script>let toggleHintShow = )'Click to show';", r"\1'点击显示';"),
    (r"(<script>let toggleHintHide = )'Click to hide';", r"\1'点击隐藏';"),
]]


def is_chinese(docname: str) -> bool:
    found = page_language(docname)
    return found is not None and found[1].startswith("zh")


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


# --------------------------------------------------------------------------- Chinese line breaks

#: Han characters, CJK punctuation, full-width forms; Chinese quotation marks on one side only.
_HAN = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_QUOTE = "\u2018\u2019\u201c\u201d"
_CJK_BREAK = re.compile(
    rf"(?<=[{_HAN}])[ \t]*\n[ \t]*(?=[{_HAN}{_QUOTE}])|(?<=[{_HAN}{_QUOTE}])[ \t]*\n[ \t]*(?=[{_HAN}])"
)
_VERBATIM = (nodes.literal, nodes.literal_block, nodes.math, nodes.math_block, nodes.raw,
             nodes.comment, nodes.doctest_block)


def join_cjk_lines(app: Sphinx, doctree: nodes.document) -> None:
    """Drop the line breaks of wrapped Chinese prose (``doctree-read``).

    A soft line break in Markdown becomes a space in HTML, and a space between two Chinese
    characters is a visible gap ("代码 单元格"). English text and code keep theirs.
    """
    for block in list(doctree.findall(nodes.TextElement)):
        if isinstance(block, _VERBATIM) or isinstance(block.parent, nodes.TextElement):
            continue
        texts = list(block.findall(nodes.Text))
        before = ""  # last visible character so far (after the joins already made)
        for i, text in enumerate(texts):
            value = str(text)
            if "\n" in value and not any(isinstance(a, _VERBATIM) for a in _ancestors(text, block)):
                after = "".join(str(t) for t in texts[i + 1: i + 4]).lstrip()[:1]
                joined = _CJK_BREAK.sub("", before + value + after)
                joined = joined[len(before): len(joined) - len(after)]
                if joined != value:  # by identity: Text is a str, and list.index() compares values
                    parent = text.parent
                    position = next(k for k, child in enumerate(parent.children) if child is text)
                    parent[position] = nodes.Text(joined)
                    value = joined
            if value.strip():
                before = value.rstrip()[-1:]


def _ancestors(node: nodes.Node, stop: nodes.Node):
    node = node.parent
    while node is not None and node is not stop:
        yield node
        node = node.parent
    yield stop


# --------------------------------------------------------------------------- chapter lists


class chapter_list(nodes.General, nodes.Element):
    """Placeholder replaced by the chapters of one language once every title is known."""


class ChapterList(SphinxDirective):
    """``{chapter-list} en``: the chapters of one language, as links, in toc order."""

    required_arguments = 1
    has_content = False
    option_spec = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        language = self.arguments[0].strip()
        prefix = f"book/{language}/"
        if prefix not in LANGUAGES:
            raise self.error(f"unknown language {language!r}: use one of "
                             + ", ".join(p.split("/")[1] for p in LANGUAGES))
        node = chapter_list(prefix=prefix, classes=["lossref-chapter-list"] + self.options.get("class", []))
        self.set_source_info(node)
        return [node]


def resolve_chapter_lists(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    order = toc_docnames(app)
    for node in list(doctree.findall(chapter_list)):
        prefix = node["prefix"]
        tag = LANGUAGES[prefix][0]
        items = nodes.bullet_list(classes=node["classes"])
        for target in order:
            if not target.startswith(prefix) or target not in app.env.found_docs:
                continue
            title = app.env.titles[target].astext()
            ref = nodes.reference("", "", internal=True)
            if app.builder.format == "html":
                ref["refuri"] = app.builder.get_relative_uri(docname, target)
            else:
                ref["refdocname"] = target
                ref["refuri"] = app.builder.get_relative_uri(docname, target)
            ref += nodes.Text(title)
            para = nodes.paragraph()
            para += ref
            items += nodes.list_item("", para, classes=[f"language-{tag}"])
        if not len(items):
            node.replace_self(nodes.paragraph(text="…"))
        else:
            node.replace_self(items)


def root_always_outdated(app: Sphinx, env: Any, added: set, changed: set, removed: set) -> list[str]:
    """The landing page lists chapter titles: rebuild it whenever any page changed."""
    if added or changed or removed:
        return [app.config.root_doc]
    return []


# --------------------------------------------------------------------------- offline assets


def mathjax_source() -> Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise ExtensionError(
            "lossref_site: MathJax is served from the site itself; "
            "install it with 'pip install sphinx-mathjax-offline' (see requirements.txt)"
        )
    return Path(spec.origin).parent / "static" / "mathjax"


#: What tex-chtml.js can load at run time: its input/output components, TeX extensions
#: (autoload), fonts, the menu and its accessibility tools (speech rule engine maps).
MATHJAX_KEEP = ["tex-chtml.js", "input", "output/chtml", "ui", "a11y", "sre"]


def configure(app: Sphinx, config: Any) -> None:
    """``config-inited``: local MathJax, the jieba dictionary, our CSS."""
    source = mathjax_source()
    if not (source / "tex-chtml.js").is_file():
        raise ExtensionError(f"lossref_site: no tex-chtml.js under {source}")
    config.mathjax_path = "mathjax/tex-chtml.js"

    options = dict(config.html_search_options or {})
    options.setdefault("dict", str(JIEBA_DICT))
    config.html_search_options = options
    try:  # jieba logs "Building prefix dict ..." at import; keep the build log for warnings
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:
        pass

    config.html_static_path = list(config.html_static_path) + [str(STATIC)]
    app.add_css_file("lossref-site.css")


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


# --------------------------------------------------------------------------- Chinese search


#: Replaces searchtools.js's splitQuery for the zh index. Chinese readers type phrases without
#: spaces ("二元交叉熵的权重"); Sphinx would look that up as one word and find nothing. Runs of
#: Han characters are cut by forward maximum matching against the words of the index itself
#: (the ones jieba produced at build time); unknown single characters such as 的 are dropped.
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


# --------------------------------------------------------------------------- setup


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", configure)
    app.add_search_language(SearchChineseBook)
    app.add_node(
        lang_switch,
        html=(visit_lang_switch_html, None),
        latex=(skip_node, None),
        text=(skip_node, None),
        man=(skip_node, None),
        texinfo=(skip_node, None),
    )
    app.add_node(chapter_list)
    app.add_directive("chapter-list", ChapterList)
    app.connect("env-check-consistency", check_twins)
    app.connect("env-get-outdated", root_always_outdated)
    app.connect("doctree-read", join_cjk_lines)
    app.connect("doctree-resolved", insert_lang_switch)
    app.connect("doctree-resolved", resolve_chapter_lists)
    app.connect("doctree-resolved", translate_cell_prompts)
    app.connect("html-page-context", page_context, priority=900)  # after the theme added its scripts
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", translate_zh_pages)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
