"""margin_ranking_loss and the triplet losses: ±1 targets and the margin."""

from __future__ import annotations

import numpy as np

from ._common import Arr, Report, read, zero_one_target

__all__ = ["CHECKS"]


def _broadcast(*shapes: tuple) -> tuple | None:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def shapes_refused(r: Report, name: str, names: tuple, shapes: tuple, why_en: str,
                   why_zh: str) -> None:
    listed = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
    r.add("inputs-shape-mismatch", "error",
          f"{listed}: {why_en} (torch refuses).",
          f"{listed}：{why_zh}（torch 会拒绝）。")


def _margin_ranking(r: Report, name: str, x: Arr, y: Arr, options: dict,
                    reduction: str) -> None:
    """margin_ranking_loss: three tensors of one number of dimensions; targets 1 or -1."""
    t = read(options["target"], "target")
    names, shapes = ("input1", "input2", "target"), (x.a.shape, y.a.shape, t.a.shape)
    if len({len(s) for s in shapes}) > 1:
        shapes_refused(r, name, names, shapes,
                       "the three tensors need the same number of dimensions",
                       "三个张量的维数必须相同")
        return
    if _broadcast(*shapes) is None:
        shapes_refused(r, name, names, shapes, "they do not broadcast to one shape",
                       "它们无法广播成同一个形状")
        return
    zero_one_target(r, name, t)


def _triplet_shapes(r: Report, name: str, x: Arr, y: Arr, options: dict) -> None:
    n = read(options["negative"], "negative")
    names, shapes = ("anchor", "positive", "negative"), (x.a.shape, y.a.shape, n.a.shape)
    if len({len(s) for s in shapes}) > 1:
        shapes_refused(r, name, names, shapes,
                       "the three tensors need the same number of dimensions",
                       "三个张量的维数必须相同")
        return
    # pairwise distances over the last dimension, then compared with each other
    pos, neg = _broadcast(shapes[0], shapes[1]), _broadcast(shapes[0], shapes[2])
    swap = _broadcast(shapes[1], shapes[2]) if options.get("swap") else ()
    if pos is None or neg is None or swap is None \
            or _broadcast(pos[:-1], neg[:-1], (swap or ())[:-1]) is None:
        shapes_refused(r, name, names, shapes,
                       "the distances anchor-positive and anchor-negative do not broadcast",
                       "anchor 到 positive 与 anchor 到 negative 的距离无法广播")


def _triplet(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    if name == "triplet_margin_loss" or options.get("distance_function") is None:
        _triplet_shapes(r, name, x, y, options)
    margin = options.get("margin", 1.0)
    if margin <= 0:
        r.add("non-positive-margin", "error",
              f"margin={margin!r}: torch raises \"margin must be greater than 0\" for {name}.",
              f"margin={margin!r}：{name} 的间隔必须是正数，torch 报错 \"margin must be greater "
              f"than 0\"。")


CHECKS = {"margin_ranking_loss": _margin_ranking, "triplet_margin_loss": _triplet,
          "triplet_margin_with_distance_loss": _triplet}
