"""Chinese prose wrapped over several source lines reads without gaps.

A soft line break in Markdown becomes a space in HTML, and a space between two Chinese
characters is a visible gap ("代码 单元格"). ``doctree-read`` drops those breaks; English
text and code keep theirs.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx

#: Han characters, CJK punctuation, full-width forms; Chinese quotation marks on one side only.
_HAN = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_QUOTE = "\u2018\u2019\u201c\u201d"
_CJK_BREAK = re.compile(
    rf"(?<=[{_HAN}])[ \t]*\n[ \t]*(?=[{_HAN}{_QUOTE}])"
    rf"|(?<=[{_HAN}{_QUOTE}])[ \t]*\n[ \t]*(?=[{_HAN}])"
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


def setup(app: Sphinx) -> None:
    app.connect("doctree-read", join_cjk_lines)
