"""Two books in one build: each language has its own navigation, title and section anchors.

* ``book/en/X`` and ``book/zh/X`` are twins: a visible "English · 中文" switch under the title,
  ``<link rel="alternate" hreflang>`` in the head, ``<html lang>`` per page. A chapter whose
  twin is not in the table of contents is a build warning (so ``-W`` fails the build).
* The sidebar of a chapter lists only the parts of its own language (the landing page lists
  both); Previous/Next stay within the language; a Chinese page carries the Chinese site
  name (``lossref_site_titles`` in ``_config.yml``) in its ``<title>`` and header.
* Shared anchors: authors put ``(en-<slug>)=`` / ``(zh-<slug>)=`` before each heading (labels
  are unique across the project, hence the prefix). The section's HTML id becomes ``<slug>``
  in both twins, so ``#<slug>`` means the same place in either language and the switch can
  carry it; the prefixed id stays on the section as a second anchor, so ``{ref}`` links work.
"""

from __future__ import annotations

import html
import posixpath
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging as sphinx_logging

logger = sphinx_logging.getLogger(__name__)

#: docname prefix -> (BCP 47 language tag, name of the language in itself)
LANGUAGES = {
    "book/en/": ("en", "English"),
    "book/zh/": ("zh-CN", "中文"),
}
DEFAULT_LANGUAGE = "en"
#: label prefix of a section target in each language: ``(en-regression-huber)=``
LABEL_PREFIX = {"book/en/": "en-", "book/zh/": "zh-"}


def page_language(docname: str) -> tuple[str, str] | None:
    """Return ``(prefix, tag)`` of a chapter page, or ``None`` for other pages."""
    for prefix, (tag, _name) in LANGUAGES.items():
        if docname.startswith(prefix):
            return prefix, tag
    return None


def language_tag(docname: str) -> str:
    found = page_language(docname)
    return found[1] if found else DEFAULT_LANGUAGE


def is_chinese(docname: str) -> bool:
    found = page_language(docname)
    return found is not None and found[1].startswith("zh")


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


def language_chain(app: Sphinx, docname: str) -> list[str]:
    """The reading order a reader of ``docname``'s language follows: landing page, then chapters."""
    order = toc_docnames(app)
    found = page_language(docname)
    if found is None or not order:
        return order
    return [order[0]] + [d for d in order[1:] if d.startswith(found[0])]


def check_twins(app: Sphinx, env: Any) -> None:
    """Warn about a chapter whose twin is not a page of the book (``env-check-consistency``)."""
    for docname in sorted(env.found_docs):
        for tag, twin in twins(docname).items():
            if twin != docname and twin not in env.found_docs:
                logger.warning(
                    "%s has no %s twin: add %s to _toc.yml (same file name in the other language)",
                    docname, tag, twin, location=docname, type="lossref", subtype="twin",
                )


# --------------------------------------------------------------------------- shared anchors


def share_section_ids(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read`` (before the toc collector): ``(en-x)=`` gives its section the id ``x``.

    The new id goes first, so the page's own table of contents and the heading's ¶ link use
    it; the prefixed id stays as a second anchor. An id already used in the page is left alone.
    """
    found = page_language(app.env.docname)
    if found is None:
        return
    prefix = LABEL_PREFIX[found[0]]
    for section in doctree.findall(nodes.section):
        ids = section["ids"]
        labelled = [i for i in ids if i.startswith(prefix) and len(i) > len(prefix)]
        if not labelled:
            continue
        shared = labelled[0][len(prefix):]
        if shared in ids:
            ids.remove(shared)
        elif shared in doctree.ids:
            logger.warning("%s: section id %r is already used in the page; the twin's anchor "
                           "cannot be shared", app.env.docname, shared, location=section,
                           type="lossref", subtype="anchor")
            continue
        ids.insert(0, shared)
        doctree.ids[shared] = section


# --------------------------------------------------------------------------- language switch


class lang_switch(nodes.General, nodes.Element):
    """Placeholder for the language switch, rendered only by HTML builders."""


def visit_lang_switch_html(self: Any, node: lang_switch) -> None:
    self.body.append(node["html"])
    raise nodes.SkipNode


def skip_node(self: Any, node: nodes.Node) -> None:
    raise nodes.SkipNode


def insert_lang_switch(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put "English · 中文" right under the title of every chapter (``doctree-resolved``).

    ``lossref-site.js`` carries the reader's ``#anchor`` over when the link is followed.
    """
    if app.builder.format != "html":
        return
    versions = twins(docname)
    if not versions:
        return
    parts = []
    for tag, name in LANGUAGES.values():
        target = versions[tag]
        label = html.escape(name)
        if target == docname:
            parts.append(f'<span class="lossref-lang-current" lang="{tag}" aria-current="page">'
                         f"{label}</span>")
        elif target in app.env.found_docs:
            href = html.escape(app.builder.get_relative_uri(docname, target))
            parts.append(
                f'<a class="lossref-twin" href="{href}" hreflang="{tag}" lang="{tag}" '
                f'rel="alternate">{label}</a>'
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


# --------------------------------------------------------------------------- page context


def _link(app: Sphinx, pagename: str, target: str | None) -> dict[str, str] | None:
    if target is None:
        return None
    title = app.env.titles[target].astext() if target in app.env.titles else target
    return {"link": app.builder.get_relative_uri(pagename, target), "title": html.escape(title)}


def _filter_sidebar(app: Sphinx, pagename: str, soup: Any) -> Any:
    """Drop the parts (caption + list) whose chapters are all in another language."""
    prefix = page_language(pagename)[0]
    here = posixpath.dirname(app.builder.get_target_uri(pagename))
    for caption in list(soup.find_all("p", attrs={"class": "caption"})):
        chapters = caption.find_next_sibling("ul")
        if chapters is None:
            continue
        # the current page links to itself as "#": a part holding only it (the API reference)
        # is this language's part
        targets = [posixpath.normpath(posixpath.join(here, a["href"].split("#")[0]))
                   if a["href"].split("#")[0] else pagename
                   for a in chapters.find_all("a", href=True)]
        if targets and not any(t.startswith(prefix) for t in targets):
            holder = caption.parent if caption.parent.name == "li" else None
            if holder is not None and "toctree-l0" in holder.get("class", []):
                holder.decompose()
            else:
                chapters.decompose()
                caption.decompose()
    return soup


def page_context(app: Sphinx, pagename: str, templatename: str, context: dict,
                 doctree: Any) -> None:
    """Per-page language: ``<html lang>``, hreflang links, title, sidebar, Previous/Next."""
    tag = language_tag(pagename)
    context["language"] = tag

    versions = twins(pagename)
    if versions and all(doc in app.env.found_docs for doc in versions.values()):
        here = posixpath.dirname(app.builder.get_target_uri(pagename))
        links = "".join(
            '<link rel="alternate" hreflang="{}" href="{}" />\n'.format(
                t, html.escape(posixpath.relpath(app.builder.get_target_uri(doc), here or "."))
            )
            for t, doc in versions.items()
        )
        context["metatags"] = context.get("metatags", "") + links

    if page_language(pagename) is None:
        return
    titles = app.config.lossref_site_titles or {}
    if tag in titles:
        context["docstitle"] = titles[tag]

    chain = language_chain(app, pagename)
    if pagename in chain:
        i = chain.index(pagename)
        context["prev"] = _link(app, pagename, chain[i - 1] if i > 0 else None)
        context["next"] = _link(app, pagename, chain[i + 1] if i + 1 < len(chain) else None)

    generate = context.get("generate_toctree_html")
    if generate is not None:
        def generate_for_language(kind: str, *args: Any, **kwargs: Any) -> Any:
            soup = generate(kind, *args, **kwargs)
            return _filter_sidebar(app, pagename, soup) if kind == "sidebar" else soup

        context["generate_toctree_html"] = generate_for_language


def setup(app: Sphinx) -> None:
    app.add_config_value("lossref_site_titles", {}, "html", [dict])
    app.add_node(
        lang_switch,
        html=(visit_lang_switch_html, None),
        latex=(skip_node, None),
        text=(skip_node, None),
        man=(skip_node, None),
        texinfo=(skip_node, None),
    )
    app.connect("env-check-consistency", check_twins)
    app.connect("doctree-read", share_section_ids, priority=100)  # before the toc collector
    app.connect("doctree-resolved", insert_lang_switch)
    app.connect("html-page-context", page_context, priority=900)  # after the theme's handlers
