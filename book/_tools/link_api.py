"""Link the chapters' mentions of lossref's functions and classes to the API reference.

    python book/_tools/link_api.py            # rewrite the chapters in place
    python book/_tools/link_api.py --check    # exit 1 if a mention is still unlinked

Two things, in the prose (markdown cells) of every chapter:

1. each chapter about a family of losses gets one paragraph (a markdown cell tagged
   ``api-links``, before its exercises) linking every function it is about, its gradient and its
   class — "In the API reference: …" / "API 参考：…"; rerunning replaces it;
2. `` `lossref.huber_loss` `` becomes
``{py:func}`lossref.huber_loss` `` (``{py:class}`` for a class, ``lossref.grad.NAME`` too), so a
reader jumps from the mention to the reference entry (book/en/api.md). Headings, code fences and
math are left alone, and only names lossref really exports are linked (so a typo stays visible
as plain code). Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

import lossref  # noqa: E402  the names to link are the ones lossref exports

#: the functions each chapter is about (its file name's number); their class and gradient follow
CHAPTER_FUNCTIONS = {
    "02": ["softmax", "log_softmax", "cross_entropy"],
    "03": ["cross_entropy"],
    "04": ["nll_loss"],
    "05": ["sigmoid", "binary_cross_entropy"],
    "06": ["logsigmoid", "binary_cross_entropy_with_logits"],
    "07": ["legacy_reduction"],
    "08": ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "nll_loss"],
    "09": ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"],
    "10": ["kl_div", "poisson_nll_loss", "gaussian_nll_loss"],
    "11": ["hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss"],
    "12": ["soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "multilabel_soft_margin_loss"],
    "13": ["ctc_loss"],
    "14": ["linear_cross_entropy"],
    "15": ["diagnose", "Finding"],
    "19": ["cross_entropy"],
    "20": ["cross_entropy"],
    "21": ["vocab_parallel_cross_entropy"],
}
CLASS_OF = {
    "binary_cross_entropy": "BCELoss", "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
    "cross_entropy": "CrossEntropyLoss", "nll_loss": "NLLLoss", "l1_loss": "L1Loss",
    "mse_loss": "MSELoss", "smooth_l1_loss": "SmoothL1Loss", "huber_loss": "HuberLoss",
    "kl_div": "KLDivLoss", "poisson_nll_loss": "PoissonNLLLoss",
    "gaussian_nll_loss": "GaussianNLLLoss", "hinge_embedding_loss": "HingeEmbeddingLoss",
    "soft_margin_loss": "SoftMarginLoss", "cosine_embedding_loss": "CosineEmbeddingLoss",
    "margin_ranking_loss": "MarginRankingLoss", "triplet_margin_loss": "TripletMarginLoss",
    "triplet_margin_with_distance_loss": "TripletMarginWithDistanceLoss",
    "multi_margin_loss": "MultiMarginLoss", "multilabel_margin_loss": "MultiLabelMarginLoss",
    "multilabel_soft_margin_loss": "MultiLabelSoftMarginLoss", "ctc_loss": "CTCLoss",
    "linear_cross_entropy": "LinearCrossEntropyLoss",
}
LEAD = {"en": "**In the API reference:** ", "zh": "**API 参考：**"}
GRADIENT = {"en": "gradient", "zh": "梯度"}
CLASS = {"en": "class", "zh": "类"}
TAG = "api-links"


def api_paragraph(number: str, lang: str) -> str | None:
    """The chapter's "In the API reference" paragraph, or None for a chapter of no family."""
    names = CHAPTER_FUNCTIONS.get(number)
    if not names:
        return None
    sep = "; " if lang == "en" else "；"
    items = []
    for name in names:
        item = f"{{{role_for('lossref.' + name)}}}`lossref.{name}`"
        extras = []
        if name in getattr(lossref.grad, "__all__", ()):
            extras.append(f"{GRADIENT[lang]} {{py:func}}`lossref.grad.{name}`")
        if name in CLASS_OF and hasattr(lossref, CLASS_OF[name]):
            extras.append(f"{CLASS[lang]} {{py:class}}`lossref.{CLASS_OF[name]}`")
        if extras:
            item += " (" + ", ".join(extras) + ")" if lang == "en" else "（" + "，".join(extras) + "）"
        items.append(item)
    return LEAD[lang] + sep.join(items) + ("." if lang == "en" else "。")


def place_paragraph(nb, number: str, lang: str) -> bool:
    """Put (or refresh) the tagged paragraph before the exercises; True if the notebook changed."""
    text = api_paragraph(number, lang)
    cells = nb.cells
    old = [i for i, c in enumerate(cells) if TAG in c.get("metadata", {}).get("tags", [])]
    if text is None:
        return False
    if old:
        if cells[old[0]].source == text:
            return False
        cells[old[0]].source = text
        return True
    heads = ("## Exercises", "## 练习", "## Summary", "## 小结")
    at = next((i for i, c in enumerate(cells) if c.cell_type == "markdown" and any(
        line.startswith(heads) for line in c.source.splitlines())), len(cells))
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [TAG]
    cell.id = TAG  # a stable id: reruns and both languages give the same notebook JSON
    cells.insert(at, cell)
    return True


MENTION = re.compile(r"(?<![}\w])`(lossref\.(?:grad\.)?[A-Za-z_][A-Za-z0-9_]*)`")


def role_for(dotted: str) -> str | None:
    """``py:func`` / ``py:class`` for an exported name, None for anything else."""
    parts = dotted.split(".")[1:]
    owner = lossref.grad if parts[0] == "grad" and len(parts) == 2 else lossref
    name = parts[-1]
    exported = getattr(owner, "__all__", ())
    if name not in exported or (owner is lossref and name == "grad"):
        return None
    return "py:class" if isinstance(getattr(owner, name), type) else "py:func"


def link_markdown(text: str) -> str:
    out, fence = [], None
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        opener = re.match(r"(`{3,}|~{3,}|\$\$)", stripped)
        if fence is None and opener:
            fence = opener.group(1)
            if stripped.startswith("$$") and stripped.rstrip().endswith("$$") and len(stripped.strip()) > 2:
                fence = None  # $$ … $$ on one line
            out.append(line)
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            out.append(line)
            continue
        if stripped.startswith("#"):
            out.append(line)
            continue
        out.append(MENTION.sub(lambda m: f"{{{role}}}`{m.group(1)}`"
                               if (role := role_for(m.group(1))) else m.group(0), line))
    return "".join(out)


def chapters() -> list[Path]:
    return sorted((ROOT / "book").glob("*/*.ipynb"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    changed = []
    for path in chapters():
        # nbformat.read validates the whole notebook (seconds for 50 of them): plain JSON to
        # look, nbformat only to write what changed
        nb = nbformat.from_dict(json.loads(path.read_text(encoding="utf-8")))
        for cell in nb.cells:   # on disk a source may be a list of lines
            if isinstance(cell.source, list):
                cell.source = "".join(cell.source)
        touched = place_paragraph(nb, path.name[:2], path.parent.name)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                new = link_markdown(cell.source)
                if new != cell.source:
                    cell.source, touched = new, True
        if touched:
            changed.append(path.relative_to(ROOT))
            if not args.check:
                nbformat.write(nb, path)
    verb = "unlinked mentions in" if args.check else "linked"
    print(f"link_api: {verb} {len(changed)} notebook(s)", *changed, sep="\n  ")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
