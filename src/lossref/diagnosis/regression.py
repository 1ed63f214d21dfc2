"""l1_loss, mse_loss, smooth_l1_loss, huber_loss: shapes and the scale options."""

from __future__ import annotations

import numpy as np

from ._common import Arr, Report, bool_target, same_shape

__all__ = ["CHECKS"]


def _regression(r: Report, name: str, x: Arr, y: Arr, options: dict,
                reduction: str) -> None:
    if name == "l1_loss":
        bool_target(r, name, y)
    _class_indices(r, name, x, y)
    same_shape(r, name, x, y, False, reduction)
    if name == "smooth_l1_loss" and options.get("beta", 1.0) < 0:
        r.add("negative-beta", "error",
              "beta is negative: torch raises \"smooth_l1_loss does not support negative "
              "values for beta.\"",
              "beta 是负数：torch 报错 \"smooth_l1_loss does not support negative values for "
              "beta.\"")
    if name == "huber_loss" and options.get("delta", 1.0) <= 0:
        r.add("non-positive-delta", "error",
              "delta is not positive: torch raises \"huber_loss does not support non-positive "
              "values for delta.\"",
              "delta 不是正数：torch 报错 \"huber_loss does not support non-positive values "
              "for delta.\"")




def _class_indices(r: Report, name: str, x: Arr, y: Arr) -> None:
    """Class indices (N,) against scores (N, C): a classification given to a regression loss."""
    a, t = x.a, y.a
    if a.ndim != 2 or a.shape[1] < 2 or t.shape != (a.shape[0],) or t.size < 2:
        return
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(t).all() and (t == np.round(t)).all()
    if not (whole and t.min() >= 0 and t.max() < a.shape[1] and len(np.unique(t)) > 1):
        return
    r.add("class-indices-to-regression", "warning",
          f"input {a.shape} with a target of {t.size} whole numbers in [0, {a.shape[1] - 1}]: "
          f"these look like class indices and scores for {a.shape[1]} classes. {name} "
          f"would treat the indices as real numbers for the scores to approach, which is no "
          f"classification loss: use cross_entropy on the scores.",
          f"input 形状为 {a.shape}，target 是 {t.size} 个 [0, {a.shape[1] - 1}] 内的整数：看起来是"
          f"类别索引和 {a.shape[1]} 个类别的分数。{name} 会把索引当作分数要逼近的实数，这不是"
          f"分类损失：请对分数使用 cross_entropy。")


CHECKS = {name: _regression for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")}
