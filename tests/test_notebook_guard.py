"""Guard for the book's notebooks: nbval passes trivially on a notebook that was never run, so
check here that every notebook is stored executed 1..n without errors, is in _toc.yml, and has
a twin in the other language with the same code (only comments and strings may differ), laid out
line for line the same, and the same numbers in its outputs."""

from __future__ import annotations

import io
import json
import re
import tokenize
from itertools import zip_longest
from pathlib import Path

import pytest

from book_toc import ROOT, toc_docnames

BOOK = ROOT / "book"
LANGS = ("en", "zh")


def notebooks() -> list[Path]:
    return sorted(p for lang in LANGS for p in (BOOK / lang).rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def code_tokens(src: str) -> list[str]:
    """The cell's Python tokens with comments dropped and string contents blanked."""
    src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        if tok.type == tokenize.STRING:
            out.append("<str>")
        elif tok.type in (getattr(tokenize, "FSTRING_START", -1), getattr(tokenize, "FSTRING_MIDDLE", -1),
                          getattr(tokenize, "FSTRING_END", -1)):
            out.append("<fstr>")
        else:
            out.append(tok.string)
    return out


FSTRING_START, FSTRING_END = (getattr(tokenize, n, -1) for n in ("FSTRING_START", "FSTRING_END"))


def code_layout(src: str) -> str:
    """The cell's source with each string literal masked as <str> and each comment masked as
    # <comment>; a run of comment-only lines at one indentation is one comment (a translation may
    wrap it into more or fewer lines). Everything else stays: line breaks, indentation, spaces."""
    lines = src.splitlines(keepends=True)
    code = "".join("\n" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    spans, depth, fbegin = [], 0, 0  # [begin, end, mask, (row, col) of a comment line or None]
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        begin = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        if tok.type == FSTRING_START:  # Python 3.12+: an f-string is several tokens
            fbegin = begin if depth == 0 else fbegin
            depth += 1
        elif tok.type == FSTRING_END:
            depth -= 1
            if depth == 0:
                spans.append([fbegin, end, "<str>", None])
        elif depth:
            continue
        elif tok.type == tokenize.STRING:
            spans.append([begin, end, "<str>", None])
        elif tok.type == tokenize.COMMENT:
            whole_line = lines[tok.start[0] - 1].lstrip().startswith("#")
            if whole_line and spans and spans[-1][3] == (tok.start[0] - 1, tok.start[1]):
                spans[-1][1], spans[-1][3] = end, tok.start  # the comment block goes on
            else:
                spans.append([begin, end, "# <comment>", tok.start if whole_line else None])
    out, prev = [], 0
    for begin, end, mask, _ in spans:
        out += [src[prev:begin], mask]
        prev = end
    return "".join(out) + src[prev:]


DECIMAL = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def output_numbers(path: Path) -> list[str]:
    """Every decimal number in the notebook's text outputs, in order."""
    numbers = []
    for cell in code_cells(path):
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = text if isinstance(text, str) else "".join(text)
            numbers += DECIMAL.findall(text)
    return numbers


ALL = notebooks()
IDS = [str(p.relative_to(BOOK)) for p in ALL]


def test_book_has_notebooks():
    assert ALL, "no notebooks under book/en or book/zh"


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_stored_executed_in_order_without_errors(path):
    cells = code_cells(path)
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), \
        f"{path.name}: execution counts {counts}; run `make execute` and commit the outputs"
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: stored error output {errors[0].get('ename')}"
    stderr = [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not stderr, f"{path.name}: stderr output: {''.join(stderr[0].get('text', ''))[:200]}"


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_listed_in_toc(path):
    assert str(path.relative_to(ROOT).with_suffix("")) in toc_docnames(), \
        f"{path.relative_to(ROOT)} is not in _toc.yml"


@pytest.mark.parametrize("path", [p for p in ALL if p.parent.name == "en"],
                         ids=[i for i, p in zip(IDS, ALL) if p.parent.name == "en"])
def test_twin_has_same_code_and_numbers(path):
    twin = BOOK / "zh" / path.relative_to(BOOK / "en")
    assert twin.exists(), f"{path.name} has no Chinese twin at {twin.relative_to(ROOT)}"
    ours, theirs = code_cells(path), code_cells(twin)
    assert len(ours) == len(theirs), f"{path.name}: {len(ours)} code cells vs {len(theirs)} in zh"
    for i, (a, b) in enumerate(zip(ours, theirs), 1):
        assert code_tokens(source(a)) == code_tokens(source(b)), \
            f"{path.name}: code cell {i} differs from its twin beyond comments and strings"
        assert a.get("metadata", {}).get("tags", []) == b.get("metadata", {}).get("tags", []), \
            f"{path.name}: code cell {i} has different tags in its twin"
    assert output_numbers(path) == output_numbers(twin), f"{path.name}: outputs' numbers differ"


@pytest.mark.parametrize("path", [p for p in ALL if p.parent.name == "en"],
                         ids=[i for i, p in zip(IDS, ALL) if p.parent.name == "en"])
def test_twin_has_same_code_layout(path):
    """Token-equal is not enough: a reader diffing the twins should see only strings and comments
    change, not lines that ruff format wrapped differently around a longer translation."""
    twin = BOOK / "zh" / path.relative_to(BOOK / "en")
    assert twin.exists(), f"{path.name} has no Chinese twin at {twin.relative_to(ROOT)}"
    for i, (a, b) in enumerate(zip(code_cells(path), code_cells(twin)), 1):
        ours, theirs = code_layout(source(a)).splitlines(), code_layout(source(b)).splitlines()
        diff = next(((n, x, y) for n, (x, y) in enumerate(zip_longest(ours, theirs), 1)
                     if x != y), None)
        assert diff is None, (
            f"{path.name}: code cell {i} is laid out differently in its twin, line {diff[0]} "
            f"(strings/comments masked): {diff[1]!r} vs {diff[2]!r}; lay out the zh cell like the "
            "en one (wrap or move a comment in both if a line gets too long)")


@pytest.mark.parametrize("path", [p for p in ALL if p.parent.name == "zh"],
                         ids=[i for i, p in zip(IDS, ALL) if p.parent.name == "zh"])
def test_chinese_page_has_english_twin(path):
    assert (BOOK / "en" / path.relative_to(BOOK / "zh")).exists()


def test_toc_lists_no_missing_file():
    missing = [f for f in toc_docnames() if not any((ROOT / (f + ext)).exists()
                                                  for ext in (".ipynb", ".md"))]
    assert not missing, f"_toc.yml lists missing files: {missing}"
