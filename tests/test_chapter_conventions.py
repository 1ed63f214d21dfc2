"""The chapter conventions the site relies on, checked on every book notebook (no build needed).

The site renders what the notebooks say; these tests make sure they say it:

1. cell 0 opens with the title, then the question the chapter answers and its short answer
   (``**The question.**`` / ``**The short answer.**``; zh ``**问题。**`` / ``**简短回答。**``);
2. the Colab install cell is tagged ``remove-cell`` (nbval runs it, the HTML hides it);
3. every ``##``/``###`` heading has a ``(en-<slug>)=`` / ``(zh-<slug>)=`` target on the line right
   above, with the same slugs in the same order in both twins (the site turns them into section
   ids shared by the twins, so the language switch keeps the reader's place);
4. every cell that draws a figure has alt text in the page's language
   (``"mystnb": {"image": {"alt": ...}}``);
5. every ``hide-cell`` solution is labelled ``Solution`` / ``Hide solution`` (zh 解答 / 收起解答)
   through myst-nb's ``code_prompt_show`` / ``code_prompt_hide`` cell metadata.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*/*.ipynb"))
LANGS = {"en": "en", "zh": "zh"}
OPENING = {"en": ("**The question.**", "**The short answer.**"), "zh": ("**问题。**", "**简短回答。**")}
PROMPTS = {"en": ("Solution", "Hide solution"), "zh": ("解答", "收起解答")}
HAN = re.compile(r"[\u4e00-\u9fff]")
HEADING = re.compile(r"^(#{2,3})\s+\S")
TARGET = re.compile(r"^\((en|zh)-([a-z0-9]+(?:-[a-z0-9]+)*)\)=\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def ids(paths):
    return [str(p.relative_to(ROOT / "book")) for p in paths]


def lang(path: Path) -> str:
    return path.parent.name


@cache
def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def twin(path: Path) -> Path:
    other = "zh" if lang(path) == "en" else "en"
    return path.parents[1] / other / path.name


def headings_with_targets(path: Path) -> tuple[list[str], list[str]]:
    """(slugs of the targets above headings, in order; problems found)."""
    slugs, problems = [], []
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        lines = source(cell).splitlines()
        fenced = False
        for k, line in enumerate(lines):
            if FENCE.match(line):
                fenced = not fenced
            if fenced or not HEADING.match(line):
                continue
            above = lines[k - 1] if k else ""
            match = TARGET.match(above)
            if match is None:
                problems.append(f"cell {i}: no (…)= target right above {line.strip()!r}")
            elif match[1] != lang(path):
                problems.append(f"cell {i}: target {above.strip()!r} has the wrong language prefix")
            else:
                slugs.append(match[2])
    return slugs, problems


def draws_figure(cell: dict) -> bool:
    outputs = cell.get("outputs", [])
    return any(k.startswith("image/") for out in outputs for k in out.get("data", {}))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_opens_with_question_and_short_answer(path):
    first = cells(path)[0]
    assert first["cell_type"] == "markdown", f"{path.name}: cell 0 is not the title cell"
    text = source(first)
    assert re.match(r"# \d+\. \S", text), f"{path.name}: cell 0 does not start with '# NN. Title'"
    question, answer = OPENING[lang(path)]
    assert question in text and answer in text and text.index(question) < text.index(answer), \
        f"{path.name}: cell 0 lacks {question} followed by {answer}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_install_cell_is_removed_from_the_html(path):
    install = [i for i, c in enumerate(cells(path))
               if c["cell_type"] == "code" and re.search(r"%pip install|!pip install", source(c))]
    assert install, f"{path.name}: no Colab install cell"
    assert install[0] == 1, f"{path.name}: the install cell is cell {install[0]}, not cell 1"
    untagged = [i for i in install
                if "remove-cell" not in cells(path)[i].get("metadata", {}).get("tags", [])]
    assert not untagged, f"{path.name}: install cell(s) {untagged} not tagged remove-cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_headings_have_targets_shared_with_the_twin(path):
    slugs, problems = headings_with_targets(path)
    assert not problems, f"{path.name} ({lang(path)}):\n" + "\n".join(problems)
    repeated = [s for s, n in Counter(slugs).items() if n > 1]
    assert not repeated, f"{path.name}: targets used twice: {repeated}"
    other = twin(path)
    assert other.exists(), f"{path.name}: no twin {other}"
    twin_slugs, _ = headings_with_targets(other)
    assert slugs == twin_slugs, (
        f"{path.name}: slugs differ from the twin's ({lang(path)} vs {lang(other)}):\n"
        f"  only here: {[s for s in slugs if s not in twin_slugs]}\n"
        f"  only in the twin: {[s for s in twin_slugs if s not in slugs]}\n"
        "  (same slugs, same order)")


def test_targets_are_unique_across_the_book():
    seen: dict[str, str] = {}
    for path in NOTEBOOKS:
        for slug in headings_with_targets(path)[0]:
            label = f"{lang(path)}-{slug}"
            assert label not in seen, f"({label})= is used by {seen[label]} and {path.name}"
            seen[label] = path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_figures_have_alt_text(path):
    problems = []
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "code" or not draws_figure(cell):
            continue
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        if not isinstance(alt, str) or len(alt.strip()) < 10:
            problems.append(f"cell {i}: no alt text (metadata mystnb.image.alt)")
        elif lang(path) == "zh" and not HAN.search(alt):
            problems.append(f"cell {i}: alt text not in Chinese: {alt!r}")
        elif lang(path) == "en" and HAN.search(alt):
            problems.append(f"cell {i}: alt text not in English: {alt!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_solutions_are_labelled(path):
    show, hide = PROMPTS[lang(path)]
    problems = []
    for i, cell in enumerate(cells(path)):
        if "hide-cell" not in cell.get("metadata", {}).get("tags", []):
            continue
        meta = cell["metadata"].get("mystnb", {})
        if meta.get("code_prompt_show") != show or meta.get("code_prompt_hide") != hide:
            problems.append(f"cell {i}: mystnb code_prompt_show/hide are "
                            f"{meta.get('code_prompt_show')!r}/{meta.get('code_prompt_hide')!r}, "
                            f"expected {show!r}/{hide!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
