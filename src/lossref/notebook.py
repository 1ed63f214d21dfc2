"""Small helpers the book's notebooks import; optional (needs matplotlib and mplfonts).

Nothing here is imported by ``import lossref``: the package itself needs only NumPy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["agreement_table", "display_width", "use_cjk_font"]


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
