"""Small helpers the book's notebooks import; optional (needs matplotlib and mplfonts).

Nothing here is imported by ``import lossref``: the package itself needs only NumPy.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

__all__ = ["agreement_table", "display_width", "use_book_figures", "use_cjk_font"]

#: The book's figure style. A figure of the usual 6.4 in is drawn ~640 px wide and shown at
#: 358 px in a phone's column (x 0.56): 12 pt text (16.7 px) still reads as 9.3 CSS px there.
BOOK_RC = {
    "figure.dpi": 100,
    "font.size": 12,           # ticks, axis labels, legends, annotations ("medium")
    "axes.titlesize": 13,
    "figure.titlesize": 13,
    "legend.fontsize": 12,
    "savefig.facecolor": "white",
}

#: Pixels per CSS pixel in the stored PNG: sharp on a phone's 2x screen.
PIXEL_RATIO = 2


def use_cjk_font() -> str:
    """Register the Noto Sans CJK SC font shipped by the ``mplfonts`` package with matplotlib.

    Latin text keeps DejaVu Sans; Chinese characters fall back to Noto Sans CJK SC, so
    Chinese axis labels render as glyphs instead of boxes, with no network access and no
    system font needed. Returns the font's family name.
    """
    import matplotlib
    from matplotlib import font_manager

    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    # Two families, not the generic "sans-serif": matplotlib falls back glyph by glyph only
    # across the families listed in font.family.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", family]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def use_book_figures() -> str:
    """Set up the book's figures: the CJK font, text readable on a phone, sharp 2x PNGs.

    Every chapter with a figure calls this once, after ``import matplotlib.pyplot``. It
    applies :data:`BOOK_RC` (12 pt text), registers the CJK font (:func:`use_cjk_font`), and,
    inside IPython/Jupyter (Colab and Binder included), shows each figure as a PNG drawn at
    twice its size with a 256-colour palette: as sharp as a plain 2x PNG on a phone's screen
    and no heavier than a 1x RGBA one, displayed at its 1x size (the output's ``width`` and
    ``height`` metadata, as IPython's "retina" format does). Returns the CJK family name.
    """
    import matplotlib

    matplotlib.rcParams.update(BOOK_RC)
    family = use_cjk_font()
    try:
        from IPython import get_ipython
    except ImportError:
        return family
    shell = get_ipython()
    if shell is None:
        return family
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    # Load the backend now: Jupyter's inline backend resets the figure formatters when it is
    # loaded, which pyplot otherwise does lazily, at the first figure (after this function).
    pyplot.switch_backend(matplotlib.get_backend())

    for formatter in shell.display_formatter.formatters.values():
        formatter.pop(Figure, None)  # one image per figure, not a PNG and an SVG
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return family


def figure_png(fig, ratio: int = PIXEL_RATIO, colors: int = 256) -> tuple[str, dict] | None:
    """``fig`` as a base64 PNG of ``ratio`` pixels per CSS pixel, with a ``colors`` palette.

    Returns ``(data, {"width": w, "height": h})`` in CSS pixels, the form an IPython PNG
    formatter returns; ``None`` for an empty figure (no image, as IPython does).
    """
    from PIL import Image

    if not fig.axes and not fig.lines:
        return None
    raw = io.BytesIO()  # an uncompressed PNG: read back at once, so zlib would be wasted work
    fig.canvas.print_figure(raw, format="png", dpi=fig.dpi * ratio, bbox_inches="tight",
                            facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor(),
                            pil_kwargs={"compress_level": 0})
    image = Image.open(raw).convert("RGBA")
    opaque = Image.new("RGBA", image.size, "white")   # a see-through figure on white paper
    opaque.alpha_composite(image)
    palette = opaque.convert("RGB").quantize(colors, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="png", optimize=True)
    width, height = image.size
    return (base64.b64encode(out.getvalue()).decode("ascii"),
            {"width": width // ratio, "height": height // ratio})


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a wide (East Asian) character takes two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def agreement_table(rows: dict, decimals: int = 4,
                    columns: tuple[str, ...] = ("hand", "lossref", "torch"),
                    case: str = "case", max_values: int | None = None) -> str:
    """Format ``{label: (value_by_hand, value_by_lossref, value_by_torch)}`` as a text table.

    Values are rounded to ``decimals`` places (as the seed posts print them); arrays are
    flattened into one cell. Torch tensors are accepted through ``np.asarray``. ``case`` heads
    the label column and ``columns`` the value columns (a Chinese page passes Chinese ones);
    columns are padded by display width, so Chinese labels line up. With ``max_values``, an
    array longer than that is split over several rows labelled ``label[i:j]`` (flat indices), so
    the table stays narrow.

    Examples
    --------
    >>> print(agreement_table({"mean": (0.52237, 0.52237, 0.52237)}))
    case  hand    lossref  torch
    mean  0.5224  0.5224   0.5224
    >>> print(agreement_table({"none": ([1, 2, 3], [1, 2, 3], [1, 2, 3])}, decimals=1, max_values=2))
    case       hand       lossref    torch
    none[0:2]  [1.0 2.0]  [1.0 2.0]  [1.0 2.0]
    none[2:3]  [3.0]      [3.0]      [3.0]
    >>> print(agreement_table({"均值": (0.52237, 0.52237, 0.52237)},
    ...                       columns=("手算", "lossref", "torch"), case="情形"))
    情形  手算    lossref  torch
    均值  0.5224  0.5224   0.5224
    """
    def fmt(value) -> str:
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0:
            return f"{arr:.{decimals}f}"
        return "[" + " ".join(f"{v:.{decimals}f}" for v in arr.ravel()) + "]"

    def pad(text: str, width: int) -> str:
        return text + " " * (width - display_width(text))

    def split(label, values):
        flat = [np.ravel(np.asarray(v, dtype=np.float64)) for v in values]
        if max_values is None or np.ndim(np.asarray(values[0])) == 0 or flat[0].size <= max_values:
            return [(str(label), values)]
        return [(f"{label}[{i}:{min(i + max_values, flat[0].size)}]",
                 tuple(f[i:i + max_values] for f in flat))
                for i in range(0, flat[0].size, max_values)]

    cells = [(case,) + tuple(columns)]
    cells += [(lab,) + tuple(fmt(v) for v in vals)
              for label, values in rows.items() for lab, vals in split(label, values)]
    widths = [max(display_width(row[i]) for row in cells) + 2 for i in range(len(cells[0]))]
    return "\n".join("".join(pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells)
