"""hinge_embedding_loss, soft_margin_loss, cosine_embedding_loss: ±1 targets, distances."""

from __future__ import annotations

import numpy as np

from ._common import Arr, Report, fmt, read, same_shape, zero_one_target

__all__ = ["CHECKS"]


def _signed_target(r: Report, name: str, x: Arr, y: Arr, options: dict,
                   reduction: str) -> None:
    """hinge_embedding_loss, soft_margin_loss: targets are 1 or -1."""
    zero_one_target(r, name, y)
    same_shape(r, name, x, y, "grow" if name == "soft_margin_loss" else False, reduction)


def _hinge_embedding(r: Report, name: str, x: Arr, y: Arr, options: dict,
                     reduction: str) -> None:
    """hinge_embedding_loss reads its input as a distance (>= 0)."""
    _signed_target(r, name, x, y, options, reduction)
    a = x.a[np.isfinite(x.a)].astype(np.float64)
    if not a.size:
        return
    # a distance such as 1 - cos can round a little below 0: allow a few rounding units
    negative = a < -8 * max(x.eps, 1e-12) * max(1.0, float(np.abs(a).max()))
    if negative.any():
        r.add("signed-input-to-hinge-embedding", "warning",
              f"{int(negative.sum())} of the {a.size} input values are negative (down to "
              f"{fmt(a.min())}): hinge_embedding_loss expects distances (>= 0), e.g. "
              f"pairwise_distance or 1 - cosine_similarity. For a target of 1 the term is the "
              f"input itself, so a negative score gives a negative loss, and minimising it "
              f"pushes the score to -inf. Pass a distance; for signed scores with ±1 labels "
              f"use soft_margin_loss.",
              f"{a.size} 个输入值中有 {int(negative.sum())} 个是负数（最小到 {fmt(a.min())}）："
              f"hinge_embedding_loss 要求输入是距离（>= 0），例如 pairwise_distance 或 "
              f"1 - cosine_similarity。目标为 1 时这一项就是输入本身，所以负的分数给出负的损失，"
              f"最小化它会把分数推向 -inf。请传距离；对带 ±1 标签的有符号分数请用 "
              f"soft_margin_loss。")


def _cosine(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    """cosine_embedding_loss: (N, D) pairs with (N,) targets, or (D,) with a 0-d target."""
    t = read(options["target"], "target")
    xs, ys, ts = x.a.shape, y.a.shape, t.a.shape
    try:
        pairs = np.broadcast_shapes(xs, ys)
        fits = len(ts) in (0, 1) and len(xs) == len(ys) == len(ts) + 1 \
            and np.broadcast_shapes(ts, pairs[:-1]) is not None
    except ValueError:
        fits = False
    if not fits:
        r.add("inputs-shape-mismatch", "error",
              f"input1 {xs}, input2 {ys}, target {ts}: cosine_embedding_loss takes pairs "
              f"(N, D) with targets (N,), or one pair (D,) with a 0-d target (torch refuses).",
              f"input1 {xs}、input2 {ys}、target {ts}：cosine_embedding_loss 接受 (N, D) 的"
              f"向量对配 (N,) 的目标，或一对 (D,) 的向量配 0 维目标（torch 会拒绝）。")
        return
    zero_one_target(r, name, t)


CHECKS = {"hinge_embedding_loss": _hinge_embedding, "soft_margin_loss": _signed_target,
          "cosine_embedding_loss": _cosine}
