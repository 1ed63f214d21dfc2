"""l1_loss, mse_loss, smooth_l1_loss, huber_loss: shapes and the scale options."""

from __future__ import annotations

from ._common import Arr, Report, bool_target, same_shape

__all__ = ["CHECKS"]


def _regression(r: Report, name: str, x: Arr, y: Arr, options: dict,
                reduction: str) -> None:
    if name == "l1_loss":
        bool_target(r, name, y)
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



CHECKS = {name: _regression for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")}
