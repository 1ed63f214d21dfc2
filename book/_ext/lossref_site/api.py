"""``{lossref-api}``: the API reference, generated from lossref's docstrings (autodoc + napoleon).

One section per loss family, in the book's order; in each, every public function of that family
followed by its gradient ``lossref.grad.NAME`` (formula and derivative together, as in the
source). Then the classes, ``diagnose`` with ``Finding``, ``watch`` and the building blocks.
The list is read from ``lossref.__all__`` at build time, so a new public function appears by
itself; one from a module this file does not know is a build warning (``-W`` fails), so the
reference never silently leaves a name out.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging as sphinx_logging
from sphinx.util.docutils import SphinxDirective

logger = sphinx_logging.getLogger(__name__)

#: the defining module of a public name -> its section (title, anchor), in reading order
SECTIONS = {
    "lossref.binary": ("Binary cross-entropy", "api-binary"),
    "lossref.classification": ("Cross-entropy and NLL", "api-classification"),
    "lossref.regression": ("Regression", "api-regression"),
    "lossref.distributions": ("Distributions", "api-distributions"),
    "lossref.margin": ("Margins", "api-margin"),
    "lossref.ranking": ("Rankings and triplets", "api-ranking"),
    "lossref.multilabel": ("Multi-class and multi-label margins", "api-multilabel"),
    "lossref.sequence": ("CTC", "api-sequence"),
    "lossref.vocabulary": ("Cross-entropy at vocabulary scale", "api-vocabulary"),
    "lossref.parallel": ("Vocabulary-parallel cross-entropy", "api-parallel"),
    "lossref.modules": ("Classes", "api-classes"),
    "diagnosis": ("Diagnosis", "api-diagnosis"),
    "watch": ("Watching a training run", "api-watch"),
    "blocks": ("Building blocks", "api-blocks"),
}


#: modules split out of a family's module for length: their names go to that family's section
SPLIT_OUT = {"lossref.huber": "lossref.regression",
             "lossref.multilabel_margin": "lossref.multilabel"}


def section_of(name: str, obj: Any) -> str:
    module = getattr(obj, "__module__", "") or ""
    if name in ("diagnose", "Finding") or module.startswith("lossref.diagnos"):
        return "diagnosis"
    if name == "watch" or module.startswith("lossref.watch"):
        return "watch"
    if module in ("lossref.activations", "lossref._reduction"):
        return "blocks"
    return SPLIT_OUT.get(module, module)


def reference_lines() -> dict[str, list[str]]:
    """reST lines (autodoc directives) of each section, keyed like ``SECTIONS``."""
    import lossref

    grads = set(getattr(lossref.grad, "__all__", ()))
    lines: dict[str, list[str]] = {key: [] for key in SECTIONS}
    for name in lossref.__all__:
        if name == "grad":
            continue
        obj = getattr(lossref, name)
        key = section_of(name, obj)
        if key not in lines:
            logger.warning(f"lossref-api: {name} is defined in {key}, which has no section in "
                           "book/_ext/lossref_site/api.py: add one")
            continue
        if key == "watch":   # a callable module: its docstring, the Watch class, the CLI
            lines[key] += [f".. automodule:: lossref.{name}",
                           "   :members: " + ", ".join(getattr(obj, "__all__", ())), ""]
            continue
        kind = "autoclass" if isinstance(obj, type) else "autofunction"
        lines[key] += [f".. {kind}:: lossref.{name}", ""]
        if kind == "autoclass":
            lines[key][-1:] = ["   :members:", ""] if key == "diagnosis" else [""]
        if name in grads:
            lines[key] += [f".. autofunction:: lossref.grad.{name}", ""]
    return lines


class ApiReference(SphinxDirective):
    """``{lossref-api}``: every public object of lossref, one section per family."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for key, body in reference_lines().items():
            if not body:
                continue
            title, anchor = SECTIONS[key]
            section = nodes.section(ids=[anchor], names=[anchor])
            section += nodes.title(text=title)
            # the page is MyST: autodoc's directives (and the reST of the docstrings they
            # read) go through MyST's {eval-rst}, which parses its content as reST
            content = StringList(["```{eval-rst}", *body, "```"], source="lossref-api")
            self.state.nested_parse(content, self.content_offset, section)
            self.state.document.note_implicit_target(section, section)
            out.append(section)
        return out


def setup(app: Sphinx) -> None:
    app.add_directive("lossref-api", ApiReference)
