"""``{diagnose-codes} en`` / ``{diagnose-codes} zh``: every code of ``lossref.diagnose``.

The table is generated from ``lossref.diagnosis.CODES`` (so a new code appears on both pages
by itself): code, severity, summary in the page's language, and a link to the section that
explains it. Sections with an ``(en-<slug>)=`` label are linked through that label (``{ref}``),
so a label that disappears is a broken reference, which the ``-W -n`` build refuses; pages
without an anchor are linked as documents.
"""

from __future__ import annotations

from typing import NamedTuple

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

HEADERS = {"en": ("Code", "Severity", "What it means", "Read more"),
           "zh": ("代码", "级别", "含义", "详见")}
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


class Row(NamedTuple):
    code: str
    severity: str
    summary: str
    docname: str          # the page, e.g. book/zh/15_troubleshooting
    label: str | None     # the section's label, e.g. zh-troubleshooting-shapes (None: the page)


def code_rows(language: str) -> list[Row]:
    """One row per code of ``lossref.diagnosis.CODES``, in the catalogue's order."""
    from lossref.diagnosis import CODES  # the package, imported when the page is read

    if language not in HEADERS:
        raise ValueError(f"unknown language {language!r}: use one of {', '.join(HEADERS)}")
    rows = []
    for code, record in CODES.items():
        page, _, anchor = record.chapter.partition("#")
        docname = f"book/{language}/" + page[len("en/"):].removesuffix(".html")
        rows.append(Row(code,
                        record.severity if language == "en" else SEVERITY_ZH[record.severity],
                        record.summary if language == "en" else record.summary_zh,
                        docname, f"{language}-{anchor}" if anchor else None))
    return rows


def _cell(*children: nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    para = nodes.paragraph()
    para.extend(children)
    entry += para
    return entry


def _link(row: Row) -> nodes.Node:
    if row.label:
        ref = addnodes.pending_xref("", refdomain="std", reftype="ref", reftarget=row.label,
                                    refexplicit=False, refwarn=True)
        ref += nodes.inline(text=row.label)
    else:
        ref = addnodes.pending_xref("", refdomain="std", reftype="doc",
                                    reftarget="/" + row.docname, refexplicit=False,
                                    refwarn=True)
        ref += nodes.inline(text=row.docname)
    return ref


class DiagnoseCodes(SphinxDirective):
    """``{diagnose-codes} en``: the table of every code, in one language."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        language = self.arguments[0].strip()
        try:
            rows = code_rows(language)
        except ValueError as exc:
            raise self.error(str(exc)) from None
        table = nodes.table(classes=["lossref-diagnose-codes"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (22, 8, 40, 30):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        header = nodes.row()
        for title in HEADERS[language]:
            header += _cell(nodes.Text(title))
        head += header
        group += head
        body = nodes.tbody()
        for row in rows:
            line = nodes.row(ids=[f"code-{row.code}"])
            line += _cell(nodes.literal(text=row.code))
            line += _cell(nodes.Text(row.severity))
            line += _cell(nodes.Text(row.summary))
            line += _cell(_link(row))
            body += line
        group += body
        self.set_source_info(table)
        return [table]


def codes_pages(app: Sphinx, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: the codes pages are rewritten on every build. Their links show the
    sections' titles, which Sphinx resolves only when the linking page is rebuilt: an
    incremental build after a chapter's heading changed would keep the old title."""
    return [d for d in env.found_docs if d.endswith("/diagnose_codes")]


def setup(app: Sphinx) -> None:
    app.add_directive("diagnose-codes", DiagnoseCodes)
    app.connect("env-get-outdated", codes_pages)
