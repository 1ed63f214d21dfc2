"""lossref.diagnosis.CODES: complete, every code tried both ways, every section on the site.

- CODES lists exactly the codes the package can emit (read from its source), and every code
  has a case in tests/diagnosis_cases.py whose findings carry a severity CODES allows.
- Every ``Finding.chapter`` is a section that exists: its ``(en-<slug>)=`` label in the English
  notebook and ``(zh-<slug>)=`` in the Chinese twin (the site gives both the id ``<slug>``).
- Printed findings fit the 88-column ``pre`` block, by display width (wcwidth) in Chinese.
- The ``{diagnose-codes}`` table of the two pages is generated from CODES.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
from diagnosis_cases import CASES, NEW_CASES
from wcwidth import wcswidth

import lossref
from lossref.diagnosis import CODES, SEVERITIES, Finding, diagnose, wrap

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "lossref" / "diagnosis"
ALL_CASES = CASES + NEW_CASES
FORBIDDEN_ZH = ("二分类交叉熵", "类别下标", "小批量", "对数几率", "屏蔽", "得分", "概率标签",
                "种子文章", "滑动平均")


def emitted_codes() -> set[str]:
    """Every code string in the package's checks (the catalogue itself left out)."""
    found = set()
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tops = [n for n in tree.body if isinstance(n, ast.FunctionDef)] \
            if path.name == "__init__.py" else [tree]
        for top in tops:
            for node in ast.walk(top):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", node.value):
                    found.add(node.value)
    return found


def all_findings() -> list[Finding]:
    out = []
    for _, _, bad, good in ALL_CASES:
        for loss, args, options in (bad, good):
            out += diagnose(loss, *args, **options)
    return out


FINDINGS = all_findings()


def test_codes_are_exactly_what_the_package_emits():
    assert emitted_codes() == set(CODES)


def test_every_code_has_a_case_both_ways():
    assert {case[0] for case in ALL_CASES} == set(CODES)


def test_severities_are_the_catalogues():
    for f in FINDINGS:
        record = CODES[f.code]
        assert f.severity in (record.severity, *record.also), (f.code, f.severity)
    for code, record in CODES.items():
        assert record.severity in SEVERITIES and set(record.also) <= set(SEVERITIES), code
        # the severity a code usually has is the one its cases meet
        assert any(case[0] == code and case[1] == record.severity for case in ALL_CASES), code


def test_summaries_in_both_languages():
    for code, record in CODES.items():
        assert record.summary.endswith(".") and record.summary_zh.endswith("。"), code
        assert re.search(r"[\u4e00-\u9fff]", record.summary_zh), code
        assert not [t for t in FORBIDDEN_ZH if t in record.summary_zh], code
        assert len(record.summary) <= 88 and wcswidth(record.summary_zh) <= 88, code


def notebook_labels(path: Path) -> set[str]:
    labels = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            labels |= set(re.findall(r"^\(([a-z0-9-]+)\)=\s*$", "".join(cell["source"]), re.MULTILINE))
    return labels


@pytest.mark.parametrize("code", sorted(CODES))
def test_chapter_is_a_section_of_both_books(code):
    chapter = CODES[code].chapter
    match = re.fullmatch(r"en/(\d\d_[a-z_]+)\.html(?:#([a-z0-9-]+))?", chapter)
    assert match, chapter
    assert len(f"  -> {chapter}") <= 88, chapter             # printed on a line of its own
    page, slug = match.groups()
    for lang in ("en", "zh"):
        notebook = ROOT / "book" / lang / f"{page}.ipynb"
        assert notebook.exists(), notebook
        if slug:
            assert f"{lang}-{slug}" in notebook_labels(notebook), (lang, chapter)
    f = Finding(code, CODES[code].severity, "m", "m", chapter)
    assert f.chapter_zh == chapter.replace("en/", "zh/", 1)


def test_findings_carry_the_catalogues_chapter():
    for f in FINDINGS:
        assert f.chapter == CODES[f.code].chapter


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_printed_findings_fit_the_column(lang):
    """Chapter 15 prints describe(LANG): 88 display columns, a single long word excepted."""
    for f in FINDINGS:
        text = f.describe(lang)
        message = f.message_zh if lang == "zh" else f.message
        assert re.sub(r"\s+", "", text).startswith(
            re.sub(r"\s+", "", f"{f.severity} {f.code}: {message}")), f.code
        for line in text.split("\n"):
            assert wcswidth(line) <= 88 or len(line.strip().split(" ")) <= 2, (f.code, line)
        assert text.split("\n")[-1].strip() == "-> " + (f.chapter_zh if lang == "zh"
                                                         else f.chapter)


def test_wrap_keeps_every_character_and_punctuation_at_line_ends():
    text = ("target 的形状 (6, 1) 与 input 的形状 (6,) 不同：torch 会把它们广播成 (6, 6)，"
            "对 36 个差值求均值，而不是 6 对；得到的数没有意义。" * 3)
    wrapped = wrap(text, 40, "  ")
    assert re.sub(r"\s+", "", wrapped) == re.sub(r"\s+", "", text)
    for line in wrapped.split("\n"):
        assert wcswidth(line) <= 40
        assert line.strip()[0] not in "，。；：）"
    assert wrap("short", 88) == "short"


sys.path.insert(0, str(ROOT / "book" / "_ext"))
codes_page = pytest.importorskip("lossref_site.codes")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_codes_page_lists_every_code_with_its_section(lang):
    rows = codes_page.code_rows(lang)
    assert [row.code for row in rows] == list(CODES)
    for row in rows:
        record = CODES[row.code]
        assert row.summary == (record.summary if lang == "en" else record.summary_zh)
        assert (ROOT / f"{row.docname}.ipynb").exists(), row.docname
        assert row.docname.startswith(f"book/{lang}/")
        if row.label:
            notebook = ROOT / f"{row.docname}.ipynb"
            assert row.label in notebook_labels(notebook), row.label
    page = (ROOT / "book" / lang / "diagnose_codes.md").read_text(encoding="utf-8")
    assert f"```{{diagnose-codes}} {lang}\n```" in page
    with pytest.raises(ValueError, match="unknown language"):
        codes_page.code_rows("fr")


def test_diagnose_is_the_function_and_torch_stays_out():
    assert lossref.diagnose is diagnose and callable(lossref.diagnose)
    assert "diagnose" in lossref.__all__ and "Finding" in lossref.__all__
    assert not (ROOT / "src" / "lossref" / "diagnose.py").exists()
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 420, path.name
        assert "import torch" not in path.read_text(encoding="utf-8"), path.name


def test_findings_in_chinese_use_the_books_terms():
    for f in FINDINGS:
        assert re.search(r"[\u4e00-\u9fff]", f.message_zh), f.code
        assert not [t for t in FORBIDDEN_ZH if t in f.message_zh], f.code
        assert "「" not in f.message_zh and "」" not in f.message_zh, f.code


def test_padding_hint():
    import torch
    found = diagnose("cross_entropy", torch.zeros(3, 4) + torch.arange(4.0),
                     torch.tensor([0, -1, 2]))
    assert "pass ignore_index=-1" in found[0].message
