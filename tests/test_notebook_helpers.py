"""The helpers the chapters import: the CJK font for figures and the agreement table."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lossref.notebook import agreement_table, use_cjk_font

#: matplotlib.pyplot, imported by the autouse fixture below when this file's first test runs,
#: not when pytest collects it (every xdist worker collects every file: 0.5 core-s each)
plt = None


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


@pytest.fixture(autouse=True)
def _restore_rcparams():
    """use_book_figures() sets matplotlib's global style: leave other tests the defaults."""
    global plt
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context():
        yield


#: a phone's column for figures (390 px viewport) and the smallest text a reader can read there
PHONE_COLUMN_PX, MIN_TEXT_PX = 358, 9


def _figure_with_every_kind_of_text():
    fig, ax = plt.subplots(figsize=(6.4, 3.8))  # the chapters' usual size
    ax.plot([0, 1], [1, 0], label="带 logits 的二元交叉熵")
    ax.set_xlabel("对数几率 x")
    ax.set_ylabel("loss")
    ax.set_title("title")
    ax.legend()
    return fig, ax


def test_book_figures_are_2x_palette_pngs_shown_at_1x():
    import base64
    import io

    from PIL import Image

    from lossref.notebook import PIXEL_RATIO, figure_png, use_book_figures

    use_book_figures()
    fig, _ = _figure_with_every_kind_of_text()
    data, size = figure_png(fig)
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    assert image.mode == "P" and len(image.getcolors(256)) <= 256
    assert PIXEL_RATIO >= 2
    # the page shows it at its 1x size: every CSS pixel has PIXEL_RATIO pixels per side
    assert abs(image.size[0] - PIXEL_RATIO * size["width"]) < PIXEL_RATIO
    assert abs(image.size[1] - PIXEL_RATIO * size["height"]) < PIXEL_RATIO
    assert figure_png(plt.figure()) is None  # an empty figure shows no image, as in IPython
    plt.close("all")


def test_book_figures_text_is_readable_in_a_phones_column():
    from lossref.notebook import figure_png, use_book_figures

    use_book_figures()
    fig, ax = _figure_with_every_kind_of_text()
    _, size = figure_png(fig)
    shrink = min(1.0, PHONE_COLUMN_PX / size["width"])
    texts = [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label,
             ax.title, *ax.get_legend().get_texts()]
    smallest = min(t.get_fontsize() for t in texts) * fig.dpi / 72 * shrink
    assert smallest >= MIN_TEXT_PX, f"{smallest:.1f} CSS px on a phone"
    plt.close(fig)


def test_book_figures_replace_ipythons_figure_formatter():
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    from lossref.notebook import use_book_figures

    shell = InteractiveShell.instance()
    try:
        use_book_figures()
        fig, _ = _figure_with_every_kind_of_text()
        data, metadata = shell.display_formatter.format(fig)
        assert set(data) == {"image/png", "text/plain"}  # one image, no SVG or PDF beside it
        assert set(metadata["image/png"]) == {"width", "height"}
        plt.close(fig)
    finally:
        for formatter in shell.display_formatter.formatters.values():
            formatter.pop(Figure, None)
        InteractiveShell.clear_instance()
