"""binary_cross_entropy and binary_cross_entropy_with_logits: ranges, dtypes, shapes, the clamp."""

from __future__ import annotations

import numpy as np

from ._common import (
    Arr,
    Report,
    elementwise_weight,
    fmt,
    is_float,
    same_shape,
    torch_type,
)

__all__ = ["CHECKS"]


def _bce(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    a = x.a
    elementwise_weight(r, options, "weight", a.shape, "weight-shape")
    if y.typed and x.typed and y.a.dtype != a.dtype:
        r.add("target-dtype-mismatch", "error",
              f"target has dtype {y.dtype}, input {x.dtype}: binary_cross_entropy needs the "
              f"same floating dtype (torch: \"Found dtype ... but expected ...\"). Use "
              f"target.to(input.dtype), e.g. target.float().",
              f"target 的 dtype 是 {y.dtype}，input 的是 {x.dtype}：binary_cross_entropy 要求"
              f"两者是同一种浮点类型（torch 报错 \"Found dtype ... but expected ...\"）。"
              f"用 target.to(input.dtype) 转换，例如 target.float()。")
    bad = ~((a >= 0) & (a <= 1))
    if bad.any():
        value = a[bad].flat[0]
        r.add("bce-input-range", "error",
              f"{int(bad.sum())} input value(s) outside [0, 1] or nan (e.g. {fmt(value)}): "
              f"torch raises \"all elements of input should be between 0 and 1\". Logits "
              f"go to binary_cross_entropy_with_logits.",
              f"有 {int(bad.sum())} 个输入值不在 [0, 1] 内或是 nan（例如 {fmt(value)}）："
              f"torch 报错 \"all elements of input should be between 0 and 1\"。logits 请交给 "
              f"binary_cross_entropy_with_logits。")
    t = y.a.astype(np.float64)
    bad_t = ~((t >= 0) & (t <= 1))
    if bad_t.any():
        r.add("bce-target-range", "error",
              f"{int(bad_t.sum())} target value(s) outside [0, 1] (e.g. "
              f"{fmt(t[bad_t].flat[0])}): torch raises \"all elements of target should be "
              f"between 0 and 1\".",
              f"有 {int(bad_t.sum())} 个目标值不在 [0, 1] 内（例如 {fmt(t[bad_t].flat[0])}）："
              f"torch 报错 \"all elements of target should be between 0 and 1\"。")
    if not same_shape(r, name, x, y, True, reduction):
        return
    clamped = ((a == 0) & (t > 0)) | ((a == 1) & (t < 1))
    if clamped.any():
        half = a.dtype == np.float16
        terms = 100.0 * np.abs(t - a)[clamped]             # -(t·(-100)) or -((1-t)·(-100))
        total, k, full = float(terms.sum()), int(clamped.sum()), int((terms == 100).sum())
        before = " (before weights)" if options.get("weight") is not None else ""
        before_zh = "（未乘权重）" if before else ""
        r.add("bce-log-clamped", "warning",
              f"{k} of the {a.size} input value(s) are exactly 0 or 1 on the wrong side of "
              f"their target: log 0 is clamped to -100, so each such term is 100 × |target - "
              f"input| ({full} of them exactly 100); together they add {fmt(total)} to the "
              f"sum and {fmt(total / a.size)} to the mean{before}, and their gradient is "
              f"useless. Compute the loss from logits with binary_cross_entropy_with_logits"
              + (" (in float16 the sigmoid already rounds to exactly 1 above a logit of "
                 "about 8.3)." if half else "."),
              f"{a.size} 个输入值中有 {k} 个恰好是 0 或 1，且站在目标的另一侧：log 0 被截断为 "
              f"-100，这样的每一项都是 100 × |target - input|（其中 {full} 项恰好是 100）；它们给"
              f"总和贡献 {fmt(total)}，给均值贡献 {fmt(total / a.size)}{before_zh}，梯度也没有"
              f"用处。请用 binary_cross_entropy_with_logits 直接从 logits 计算"
              + ("（在 float16 中，logit 大约超过 8.3 时 sigmoid 就已经舍入成 1）。"
                 if half else "。"))


def _bce_with_logits(r: Report, name: str, x: Arr, y: Arr, options: dict,
                     reduction: str) -> None:
    a = x.a
    elementwise_weight(r, options, "weight", a.shape, "weight-shape")
    elementwise_weight(r, options, "pos_weight", a.shape, "pos-weight-shape")
    if not is_float(y) and y.typed:
        said = "Subtraction, the `-` operator, with two bool tensors is not supported" \
            if y.a.dtype == np.bool_ else \
            f"result type {torch_type(a)} can't be cast to the desired output type " \
            f"{torch_type(y.a)}"
        r.add("target-dtype-mismatch", "error",
              f"target has dtype {y.dtype}: binary_cross_entropy_with_logits needs floating "
              f"targets (torch: \"{said}\"). Use target.float().",
              f"target 的 dtype 是 {y.dtype}：binary_cross_entropy_with_logits 需要浮点数目标"
              f"（torch 报错 \"{said}\"）。用 target.float() 转换。")
    if a.size and np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1:
        strong = a.size >= 16
        r.add("probabilities-to-bce-with-logits", "warning" if strong else "info",
              f"all {a.size} input values lie in [0, 1]: they look like sigmoid outputs, but "
              f"binary_cross_entropy_with_logits applies the sigmoid itself. A sigmoid twice "
              f"keeps the loss above softplus(-1) = 0.3133 for target 1 and log 2 = 0.6931 "
              f"for target 0. Pass the logits."
              + ("" if strong else " (Few values: this may be a coincidence.)"),
              f"全部 {a.size} 个输入值都在 [0, 1] 内：看起来是 sigmoid 的输出，而 "
              f"binary_cross_entropy_with_logits 自己会做 sigmoid。两次 sigmoid 让目标为 1 "
              f"的损失始终高于 softplus(-1) = 0.3133，目标为 0 的始终高于 log 2 = 0.6931。"
              f"请直接传 logits。" + ("" if strong else "（数值太少，也可能只是巧合。）"))
    if not is_float(y) and y.typed:
        return
    t = y.a.astype(np.float64)
    bad_t = ~((t >= 0) & (t <= 1))
    if bad_t.any():
        r.add("bce-target-range", "warning",
              f"{int(bad_t.sum())} target value(s) outside [0, 1] (e.g. "
              f"{fmt(t[bad_t].flat[0])}): torch does not check, and the loss can go negative "
              f"or unbounded. Binary targets are 0 and 1 (map -1/1 labels with (t + 1) / 2).",
              f"有 {int(bad_t.sum())} 个目标值不在 [0, 1] 内（例如 {fmt(t[bad_t].flat[0])}）："
              f"torch 不检查，损失可能变成负数或无界。二元目标是 0 和 1"
              f"（-1/1 标签用 (t + 1) / 2 转换）。")
    if same_shape(r, name, x, y, True, reduction) and not np.isfinite(a).all():
        n = int((~np.isfinite(a)).sum())
        r.add("nonfinite-input", "warning",
              f"{n} input value(s) are nan or ±inf: each such term is nan.",
              f"有 {n} 个输入值是 nan 或 ±inf：对应的每一项都是 nan。")



CHECKS = {"binary_cross_entropy": _bce, "binary_cross_entropy_with_logits": _bce_with_logits}
