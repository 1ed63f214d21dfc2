"""``{chapter-list} en`` / ``{chapter-list} zh``: the chapters of one language, as links.

The landing page shows both lists, in table of contents order, with each chapter's title.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .languages import LANGUAGES, toc_docnames


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
        classes = ["lossref-chapter-list"] + self.options.get("class", [])
        node = chapter_list(prefix=prefix, classes=classes)
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


def root_always_outdated(app: Sphinx, env: Any, added: set, changed: set,
                         removed: set) -> list[str]:
    """The landing page lists chapter titles: rebuild it whenever any page changed."""
    if added or changed or removed:
        return [app.config.root_doc]
    return []


def setup(app: Sphinx) -> None:
    app.add_node(chapter_list)
    app.add_directive("chapter-list", ChapterList)
    app.connect("env-get-outdated", root_always_outdated)
    app.connect("doctree-resolved", resolve_chapter_lists)
