"""The helpers the chapters import: the CJK font for figures and the agreement table."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lossref.notebook import agreement_table, use_cjk_font  # noqa: E402


def test_chinese_labels_render_without_missing_glyphs():
    family = use_cjk_font()
    assert "CJK" in family
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0], label="带 logits 的二元交叉熵")
    ax.set_xlabel("对数几率 x")
    ax.set_ylabel("交叉熵损失")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        fig.canvas.draw()
    plt.close(fig)


def test_agreement_table_rounds_like_the_seeds():
    table = agreement_table({"none": (np.array([1.31326, 0.12693]),) * 3, "sum": (4.08638,) * 3})
    lines = table.splitlines()
    assert lines[0].split() == ["case", "hand", "lossref", "torch"]
    assert lines[1].split()[1:3] == ["[1.3133", "0.1269]"]
    assert lines[2].split() == ["sum", "4.0864", "4.0864", "4.0864"]
