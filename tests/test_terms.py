"""One Chinese term per concept: zh prose must not use a variant that STYLE §7 refuses.

What is checked: the markdown cells of every ``book/zh/*.ipynb`` and the Chinese part of
``book/intro.md`` (the paragraph after ``{.language-zh-CN}`` and everything from ``{#intro-zh``
on). What is not prose, and is therefore skipped before matching:

- code: code cells, fenced blocks (```` ``` ```` / ``~~~``, directives included) and inline ```code```;
- math: ``$$ … $$``, ``$ … $``, ``\\( … \\)``;
- link targets ``](…)``, MyST targets ``(zh-…)=``, HTML tags;
- quotations, which keep their own wording: of the source posts (原博文) above all, and of
  PyTorch's documentation. A quotation is a markdown blockquote (lines starting with ``>``) or
  “…” in a sentence or table row that says whose words they are (原博文, 原文, 原话, 文档, 写道,
  写作, 写着, 称), cites a post by its number (``| 001 |``) or heads an erratum (``### E3：``
  in chapter 16, whose headings quote the posts); other “…” are prose and are
  checked. Corner brackets ``「…」`` are refused (STYLE §7: mainland usage is “…”).

The refused variants (left) and what to write instead (right), from STYLE §7:

==========================  =============================================================
二分类交叉熵                 二元交叉熵
类别下标                     类别索引
小批量                       批次 / 批大小
the Latin word ``batch``     批次 / 批大小 (``batch``, ``batches``, ``batchsize``, ``mini-batch``)
得分 (not in 获得分/取得分)   原始分数
概率标签                     概率目标（软标签 once, as an alias）
屏蔽 as a noun               掩码; "as a noun" is checked as 的屏蔽 / 个屏蔽 / 屏蔽 followed by
                             张量, 矩阵, 数组, 向量, 码, 值 or 位 (the verb, 屏蔽掉某些元素, is allowed)
种子文章                     原博文
对数几率                     logits（未归一化的分数）. Allowed only in an explicitly binary
                             context: the same sentence (or the same table row) mentions
                             sigmoid, 二元, 二分类, logistic or 逻辑
滑动平均                     累计平均. Allowed only where a moving average is really meant:
                             the same sentence mentions 指数, 窗口 or EMA
==========================  =============================================================

A sentence is a piece of a paragraph (lines joined) between 。！？ or ；; a table row is its own
unit, without the cells of a column headed "English" (the glossary's English terms). "平均值 in
formulas' names" (STYLE §7) is not checked: the phrase has too many legitimate
uses in running prose to tell apart by pattern.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZH = ROOT / "book" / "zh"
INTRO = ROOT / "book" / "intro.md"

BINARY_CONTEXT = re.compile(r"sigmoid|二元|二分类|logistic|逻辑", re.IGNORECASE)
MOVING_CONTEXT = re.compile(r"指数|窗口|EMA")
#: a unit that says whose words its “…” are: those quotations keep their wording
QUOTING = re.compile(r"原博文|原文|原话|文档|写道|写作|写着|称|\|\s*00[0-4]\s*\||^\s*#+\s*E\d+[：:]")
QUOTED = re.compile(r"“[^”]*”")

# (refused pattern, what to use instead, context that makes it acceptable or None)
RULES = [
    (re.compile(r"[「」]"), "“…” (mainland quotation marks)", None),
    (re.compile(r"二分类交叉熵"), "二元交叉熵", None),
    (re.compile(r"类别下标"), "类别索引", None),
    (re.compile(r"小批量"), "批次 / 批大小", None),
    (re.compile(r"(?<![A-Za-z_])(?:mini-)?[Bb]atch(?:es|size)?(?![A-Za-z_])"), "批次 / 批大小", None),
    (re.compile(r"(?<![获取])得分"), "原始分数", None),
    (re.compile(r"概率标签"), "概率目标（软标签）", None),
    (re.compile(r"[的个]屏蔽|屏蔽(?:张量|矩阵|数组|向量|码|值|位)"), "掩码", None),
    (re.compile(r"种子文章"), "原博文", None),
    (re.compile(r"对数几率"), "logits（未归一化的分数）", BINARY_CONTEXT),
    (re.compile(r"滑动平均"), "累计平均", MOVING_CONTEXT),
]

NOT_PROSE = [
    re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL),   # fenced blocks
    re.compile(r"\$\$.*?\$\$", re.DOTALL),                              # display math
    re.compile(r"\\\(.*?\\\)", re.DOTALL),                              # \( inline math \)
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),                          # $inline math$
    re.compile(r"``.+?``|`[^`\n]+`"),                                   # inline code
    re.compile(r"^>.*$", re.MULTILINE),                                 # blockquotes
    re.compile(r"\]\([^)]*\)"),                                         # link targets
    re.compile(r"^\([^)\s]+\)=\s*$", re.MULTILINE),                     # MyST targets
    re.compile(r"<[^>\n]+>"),                                           # HTML tags
]


def prose(markdown: str) -> str:
    for pattern in NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def units(markdown: str) -> list[str]:
    """Sentences and table rows of the prose left after removing what is not prose."""
    out = []
    for para in re.split(r"\n\s*\n", prose(markdown)):
        lines = [line.strip() for line in para.splitlines() if line.strip()]
        out += table_rows([line for line in lines if line.startswith("|")])
        text = " ".join(line for line in lines if not line.startswith("|"))
        out += [s for s in re.split(r"(?<=[。！？；])", text) if s.strip()]
    return out


def table_rows(rows: list[str]) -> list[str]:
    """Table rows as units, without the column headed "English" (a glossary's English terms)."""
    if not rows:
        return []
    cells = [row.strip("|").split("|") for row in rows]
    english = {i for i, head in enumerate(cells[0]) if head.strip().lower() == "english"}
    return ["|".join(c for i, c in enumerate(row) if i not in english) for row in cells]


def violations(markdown: str) -> list[str]:
    found = []
    for unit in units(markdown):
        if QUOTING.search(unit):
            unit = QUOTED.sub(" ", unit)
        for pattern, use, allowed_in in RULES:
            for match in pattern.finditer(unit):
                if allowed_in is not None and allowed_in.search(unit):
                    continue
                found.append(f"{match.group(0)!r} (use {use}) in: {unit.strip()[:120]}")
    return found


def zh_markdown_cells(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cells.append((f"cell {i}", src))
    return cells


def intro_chinese_part(text: str) -> str:
    """The paragraph right after ``{.language-zh-CN}`` and the section from ``{#intro-zh`` on."""
    parts = []
    lead = re.search(r"^\{\.language-zh-CN\}\s*\n(.*?)(?:\n\s*\n|\Z)", text, re.MULTILINE | re.DOTALL)
    if lead:
        parts.append(lead.group(1))
    start = re.search(r"^\{#intro-zh", text, re.MULTILINE)
    if start:
        parts.append(text[start.start():])
    return "\n\n".join(parts)


ZH_NOTEBOOKS = sorted(p for p in ZH.glob("*.ipynb"))


@pytest.mark.parametrize("path", ZH_NOTEBOOKS, ids=[p.name for p in ZH_NOTEBOOKS])
def test_zh_chapter_uses_one_term_per_concept(path):
    bad = [f"{where}: {v}" for where, src in zh_markdown_cells(path) for v in violations(src)]
    assert not bad, f"{path.name}: refused variants (STYLE §7):\n  " + "\n  ".join(bad)


def test_intro_chinese_part_uses_one_term_per_concept():
    zh = intro_chinese_part(INTRO.read_text(encoding="utf-8"))
    assert "{#intro-zh" in zh, "book/intro.md has no {#intro-zh} section"
    bad = violations(zh)
    assert not bad, "book/intro.md: refused variants (STYLE §7):\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("text, refused", [
    ("这就是二分类交叉熵。", ["二分类交叉熵"]),
    ("一个 batch 里的样本。", ["batch"]),
    ("每个 mini-batch 和小批量。", ["小批量", "mini-batch"]),
    ("种子文章 001 的例子。", ["种子文章"]),
    ("softmax 的输入是对数几率。", ["对数几率"]),
    ("sigmoid 的输入 $z$ 正是对数几率。", []),                 # binary context: allowed
    ("| logit | 二元情形下即对数几率 |\n| softmax | 对数几率 |", ["对数几率"]),
    ("原博文写作“二分类交叉熵”和“N :batchsize”。", []),      # quotations keep their wording
    ("| E3 | 002 | “N :batchsize” |", []),                     # a row citing a post
    ("### E3：“N is the batch size”（不够准确）", []),          # an erratum's heading
    ("我们把它叫作“二分类交叉熵”。", ["二分类交叉熵"]),        # our own words in “…”: checked
    ("原博文写作「二分类交叉熵」。", ["「", "」", "二分类交叉熵"]),  # corner brackets: refused, and no quotation
    ("> 结合 Sigmoid 与二分类交叉熵", []),                     # blockquote
    ("调用 `F.binary_cross_entropy` 时传 `batch_size`。", []),   # inline code
    ("得到屏蔽张量，或者屏蔽掉这些元素。", ["屏蔽张量"]),     # noun refused, verb allowed
    ("获得分数很高；原始得分很高。", ["得分"]),
    ("取各批次均值的滑动平均。", ["滑动平均"]),
    ("指数滑动平均（EMA）平滑曲线。", []),
    ("| English | 中文 |\n|---|---|\n| batch | 批次 |\n| mini-batch | 小批量 |", ["小批量"]),
], ids=lambda v: "" if isinstance(v, list) else f"example{len(v)}")
def test_rules_catch_refused_variants_and_spare_the_rest(text, refused):
    found = [re.match(r"'(.*?)'", v).group(1) for v in violations(text)]
    assert found == refused


# ---------------------------------------------------------------------------------------------
# What a reader sees besides prose (issue 20): code comments, the strings the code prints or
# draws (figure titles, labels, legends), and the text outputs of the zh pages.
#
# Three checks, each over the chapters in CHECKED (a chapter joins once its zh page passes):
# 1. the terms of STYLE §7 hold in Chinese comments, Chinese string literals and Chinese output
#    lines (a comment, string or line with no Han character is not Chinese text: PyTorch's and
#    lossref's English messages pass untouched);
# 2. the labels the book prints are Chinese: an output line may not carry an English word that
#    is not code (an identifier, a reduction name, a dtype, torch/lossref, nan ...), unless the
#    line quotes a message (it starts with an exception or warning class name, or with a
#    finding code of lossref.diagnose);
# 3. tables that mix Han and Latin text line up by display width (a Han character is two
#    columns): the columns of every row start at the same display column;
# 4. a Chinese label ends in a full-width colon (：), not a half-width one.
# ---------------------------------------------------------------------------------------------

CHECKED = tuple(f"{n:02d}" for n in range(1, 23))   # every chapter, Part IV included
CHECKED_NOTEBOOKS = [p for p in ZH_NOTEBOOKS if p.name[:2] in CHECKED]

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Words an output line may carry on a zh page because they are code, not labels.
CODE_WORDS = {
    "torch", "lossref", "numpy", "tensor", "nan", "inf", "none", "mean", "sum", "true", "false",
    "dtype", "float16", "float32", "float64", "bfloat16", "int64", "uint8", "long", "half",
    "logits", "logit", "softmax", "sigmoid", "log_softmax", "grad_fn", "requires_grad",
    "adam", "adamw", "sgd", "bce", "bcewithlogits", "nll", "nllloss", "bceloss", "relu",
    "elementwise_mean", "reduction", "weight", "pos_weight", "ignore_index", "label_smoothing",
    "size_average", "reduce", "target", "input", "cpu", "max", "min", "exp", "log", "std",
    "var", "abs", "cat", "argmax", "argmin", "ones", "zeros", "ema", "autocast", "eps",
    "logsumexp", "autograd", "pytorch", "dim", "momentum", "lbfgs",
    # names of system software and calls (a library, a system call), not words to translate
    "glibc", "malloc", "mmap", "madvise", "blas", "openblas",
    # reduction and method names, and the stems of F.*_loss names used as row names (the names
    # of losses are proper names: R14 mse, R16 huber, R29 ctc)
    "batchmean", "squeeze", "unsqueeze", "stdout", "stderr", "mse", "huber", "ctc", "triplet",
    # a parameter name of PyTorch's own docs (BCELoss: "a manual rescaling weight ... of size nbatch")
    "nbatch",
    # "smooth L1" is a loss's proper name (F.smooth_l1_loss), like MSE and Huber; Python's type
    # names (var 形状 float: a Python float passed as var)
    "smooth", "float", "int", "bool",
    # Part IV's proper names: the distributed backend and wrapper, the library whose loss is
    # compared, the GPU platform, a collective, units and options of assert_allclose
    "gloo", "ddp", "megatron", "cuda", "all", "reduce", "ulp", "rtol", "atol",
}
WORD = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z]{2,}(?![\w(])")
# A quoted message runs from an exception or warning class name to the end of the line; a
# diagnose finding starts with its code (bce-log-clamped); a quoted docstring line is a run of
# five or more English words with no Han character; matplotlib's <Figure size …> is not a label.
MESSAGE = re.compile(r"\b[A-Z]\w*(?:Error|Warning|Exception)\b.*$"
                     r"|\"\w+\" not implemented for\b.*$"    # torch's dtype refusal, verbatim
                     r"|^\s*(?:\S+\.py:\d+: )?(?:(?:error|warning|info)\s+)?[a-z]+(?:-[a-z]+)+\b.*$"
                     r"|^\s*->\s*\S+\s*$|^\s*<Figure size [^>]*>\s*$")
# (lossref.diagnose prints a finding as "<severity> <code>: <message>" followed by "-> <page>":
# the code, the message and the page it points to are lossref's own text, not labels.)
# "torch：<message>", "lossref -2：<message>": a short label naming the library, a full-width
# colon, then the library's own (English, Han-free) message, quoted verbatim.
QUOTE_LABEL = r"^\s*(?:torch|lossref)\b[^：\n]{0,12}：(?=[^\u3400-\u9fff]*$)"
# A message wrapped by textwrap.fill(…, 88) goes on at column 0; a line filled this wide was
# wrapped, so the next line with no Han and no full-width punctuation continues the message.
WRAPPED = 72
# Han or full-width punctuation: a line with either is the book's own (kl_div，log_target=…)
WIDE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
SENTENCE = re.compile(r"[A-Za-z,]+(?: [A-Za-z,:`~.()]+){4,}")


def cell_source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def comments_and_strings(src: str) -> list[str]:
    """The comments and string literals of a code cell (magics dropped)."""
    import io
    import tokenize

    src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
    found, fstring = [], []
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type in (tokenize.COMMENT, tokenize.STRING):
            found.append(tok.string)
        elif tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            fstring.append(tok.string)
        elif tok.type == getattr(tokenize, "FSTRING_END", -1):
            found.append("".join(fstring))
            fstring = []
    return found


def output_lines(cell: dict) -> list[str]:
    lines = []
    for out in cell.get("outputs", []):
        text = out.get("text") or out.get("data", {}).get("text/plain", "")
        lines += (text if isinstance(text, str) else "".join(text)).splitlines()
    return lines


def seen_text(path: Path) -> list[tuple[str, str]]:
    """(where, text) for each Chinese comment, string literal and output line of a zh page."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    seen = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for text in comments_and_strings(cell_source(cell)):
            if HAN.search(text):
                seen.append((f"cell {i} code", text))
        for line in output_lines(cell):
            if HAN.search(line):
                seen.append((f"cell {i} output", line))
    return seen


def own_text(line: str) -> str:
    """An output line without what it quotes: a message (MESSAGE), and the English sentence
    after a Chinese label, which quotes torch or NumPy ("torch 警告：Using a target size ...",
    "NumPy 先发出警告：divide by zero encountered ..."): only the part up to the last Han
    character is the book's own text."""
    line = MESSAGE.sub(" ", line)
    line = re.sub(QUOTE_LABEL + r".*$", " ", line)
    last = max((m.end() for m in HAN.finditer(line)), default=0)
    if last and SENTENCE.search(line[last:]):
        line = line[:last]
    return line


def english_labels(line: str) -> list[str]:
    """English words of an output line that are labels, not code or a quoted message."""
    line = own_text(line)
    if not HAN.search(line) and SENTENCE.search(line):
        return []
    line = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"", " ", line)          # quoted code and values
    line = re.sub(r"\b[\w.]+\((?:[^()]|\([^()]*\))*\)", " ", line)       # calls, arguments too
    line = re.sub(r"\b[\w.]*(?:_|\.)[\w.]*\b|\b\w+\(|\b\w+=\w*", " ", line)  # names, calls
    line = re.sub(r"\b\w+\[[^\]]*\]", " ", line)                         # indexing: loss[0, 1]
    line = re.sub(r"\b[A-Z]\w*[a-z]\w*[A-Z]\w*\b|\b\w*Loss\b", " ", line)  # PyTorch, MSELoss
    return [w for w in WORD.findall(line) if w.lower() not in CODE_WORDS]


# A cell that prints a docstring, a signature or source code quotes it verbatim: its output
# lines with no Han character are that quotation, not labels (lines with Han are still checked).
# (ch13 keeps F.ctc_loss.__doc__ in a variable named doc and prints slices of it.)
QUOTES_VERBATIM = re.compile(r"__doc__|\bdoc\b|inspect\.(?:signature|getsource)\(|\bhelp\(")
# A cell that names a Python script ("scripts/planted_mistake.py") or runs lossref.watch prints
# that script's source or what running it prints (its own output and lossref.watch's report,
# file:line locations and page links included): all of it is quoted.
PRINTS_SCRIPT = re.compile(r"""\.py["']|lossref\.watch""")


# A finding of lossref.diagnose or lossref.watch: "[file.py:28: ]<severity> <code>: <message>",
# its message wrapped on indented lines.
FINDING = r"(?:\S+\.py:\d+: )?(?:error|warning|info) [a-z]+(?:-[a-z]+)+:"


def label_lines(lines: list[str]) -> list[str]:
    """Output lines without the continuation lines of a wrapped message: after a line that
    quotes an exception or warning, or a finding of lossref.diagnose, lines indented deeper than
    where the message starts, and lines with no Han or full-width punctuation after a line
    filled to the wrap width (WRAPPED)."""
    from wcwidth import wcswidth

    kept, indent, previous = [], None, ""
    for line in lines:
        depth = len(line) - len(line.lstrip())
        wrapped = wcswidth(previous) >= WRAPPED and not WIDE.search(line)
        previous = line
        if indent is not None and line.strip() and (depth >= indent or wrapped):
            continue
        match = re.search(r"\b[A-Z]\w*(?:Error|Warning|Exception)\b|^" + FINDING + "|"
                          + QUOTE_LABEL, line)
        indent = (match.start() if match and match.start() > 0 else 1) if match else None
        kept.append(line)
    return kept


def table_blocks(lines: list[str]) -> list[list[str]]:
    """Runs of two or more lines that split into the same number (≥ 3) of cells at 2+ spaces."""
    blocks, run, width = [], [], None
    for line in lines + [""]:
        cells = re.split(r"\s{2,}", line.strip()) if line.strip() else []
        if len(cells) >= 3 and (width is None or len(cells) == width):
            run.append(line)
            width = len(cells)
            continue
        if len(run) >= 2:
            blocks.append(run)
        run, width = ([line], len(cells)) if len(cells) >= 3 else ([], None)
    return blocks


def misaligned(block: list[str]) -> bool:
    """True when a table's cells do not start (left-aligned) or end (right-aligned) at the same
    display column in every row."""
    from wcwidth import wcswidth

    def edges(line: str) -> tuple[list[int], list[int]]:
        starts, ends = [], []
        for m in re.finditer(r"\S+(?: \S+)*", line.rstrip()):
            starts.append(wcswidth(line[:m.start()]))
            ends.append(wcswidth(line[:m.end()]))
        return starts, ends

    rows = [edges(line) for line in block]
    for col in range(len(rows[0][0])):
        starts = {r[0][col] for r in rows}
        ends = {r[1][col] for r in rows}
        if len(starts) > 1 and len(ends) > 1:
            return True
    return False


@pytest.mark.parametrize("path", CHECKED_NOTEBOOKS, ids=[p.name for p in CHECKED_NOTEBOOKS])
def test_zh_code_comments_strings_and_outputs_use_one_term_per_concept(path):
    bad = [f"{where}: {v}" for where, text in seen_text(path)
           for v in violations(own_text(text) if where.endswith("output")
                               else text.replace("\\n", "\n"))]
    assert not bad, f"{path.name}: refused variants (STYLE §7):\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("path", CHECKED_NOTEBOOKS, ids=[p.name for p in CHECKED_NOTEBOOKS])
def test_zh_page_prints_chinese_labels(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = [f"cell {i}: {words} in {line.strip()[:100]!r}"
           for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
           for line in label_lines(output_lines(cell))
           if not PRINTS_SCRIPT.search(cell_source(cell))
           and not (QUOTES_VERBATIM.search(cell_source(cell)) and not HAN.search(line))
           and (words := english_labels(line))]
    assert not bad, f"{path.name}: English labels on a Chinese page:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("path", CHECKED_NOTEBOOKS, ids=[p.name for p in CHECKED_NOTEBOOKS])
def test_zh_mixed_tables_align_by_display_width(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = [f"cell {i}:\n    " + "\n    ".join(block)
           for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
           for block in table_blocks(output_lines(cell))
           if any(HAN.search(line) for line in block) and misaligned(block)]
    assert not bad, f"{path.name}: tables padded by characters, not display width:\n  " + \
        "\n  ".join(bad)


def test_label_and_table_checks_catch_what_they_should():
    assert english_labels("case  hand    lossref  torch") == ["case", "hand"]
    assert english_labels("plain mean: 0.5224") == ["plain"]
    assert english_labels("情形  手算    lossref  torch") == []
    assert english_labels("TypeError: margin_ranking_loss(): argument 'margin' must be") == []
    assert english_labels("均值（reduction='mean'）：tensor(0.5224)") == []
    assert english_labels("F.cross_entropy 的结果：0.5224") == []
    assert english_labels("torch    UserWarning: size_average and reduce args will be") == []
    assert english_labels("<Figure size 640x380 with 1 Axes>") == []
    assert english_labels("Note that this case is equivalent to applying a LogSoftmax") == []
    assert english_labels("weight=mask 的均值：0.4128   epoch 均值 nan") == ["epoch"]
    assert english_labels("torch 警告：Using a target size that is different to the input") == []
    assert english_labels("平均 loss：0.5224") == ["loss"]
    assert english_labels("nll_loss(softmax(scores)) ：-0.6768") == []
    assert english_labels("E21 原博文 004 loss[0, 1]   2.1269") == []
    assert english_labels("MSELoss：只有函数有 ['weight']") == []
    assert english_labels("warning bce-log-clamped: 有 1 个输入值恰好是 0 或 1") == []
    assert english_labels("-> book/zh/05_binary_cross_entropy") == []
    assert english_labels("default  新申请 40 MB 数组") == ["default"]
    assert english_labels("torch -2：  argument #2 'target' is out of range") == []
    assert english_labels("torch，full  [0.5]") == ["full"]
    assert label_lines(["ValueError: ctc_loss: input_lengths must be of size batch_size: one length for each of",
                        "the 5 sequences, got shape (2,)", "plain mean: 0.5"]) == \
        ["ValueError: ctc_loss: input_lengths must be of size batch_size: one length for each of",
         "plain mean: 0.5"]
    assert label_lines(["TypeError: " + "x" * 80, "kl_div，log_target='yes'"]) == \
        ["TypeError: " + "x" * 80, "kl_div，log_target='yes'"]
    assert label_lines(["lossref：only p == 1", "short label"]) == ["lossref：only p == 1", "short label"]
    assert label_lines(["  torch: TypeError: argument 'margin' must be", "           float, not str",
                        "next label"]) == ["  torch: TypeError: argument 'margin' must be",
                                           "next label"]
    assert table_blocks(["a  bb  c", "dd  e  f", "", "x"]) == [["a  bb  c", "dd  e  f"]]
    assert misaligned(["情形  手算  torch", "mean  0.5224  0.5224"])
    assert not misaligned(["情形  手算    torch", "均值  0.5224  0.5224"])
    assert not misaligned(["  值  torch", "0.25  0.5224"])          # right-aligned
    code = '# 原始得分\nprint("种子文章：", x)  # ok\nf"{x}个屏蔽值"'
    assert [v.split("'")[1] for text in comments_and_strings(code) for v in violations(text)] \
        == ["得分", "种子文章", "个屏蔽"]


HALF_WIDTH_COLON = re.compile(r"[\u3400-\u9fff）] ?:(?!:)")


@pytest.mark.parametrize("path", CHECKED_NOTEBOOKS, ids=[p.name for p in CHECKED_NOTEBOOKS])
def test_zh_labels_use_full_width_colons(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = [f"cell {i}: {line.strip()[:100]!r}"
           for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
           for line in label_lines(output_lines(cell))
           if HALF_WIDTH_COLON.search(MESSAGE.sub(" ", line))]
    assert not bad, f"{path.name}: a Chinese label ends in a half-width colon:\n  " + \
        "\n  ".join(bad)


def test_full_width_colon_check():
    assert HALF_WIDTH_COLON.search("形状: (2, 3)")
    assert not HALF_WIDTH_COLON.search("形状：(2, 3)")
    assert not HALF_WIDTH_COLON.search("torch: tensor(0.5224)")
