"""Half precision (float16, bfloat16): what torch's CPU kernels refuse, overflow, and round.

Most losses run in both dtypes on the CPU (lossref mirrors them); three kernels are not
implemented. Where they run, the trouble is range and resolution: float16 tops out at 65504
(bfloat16 at about 3.4e38 but with 8 significant bits), so an ``exp`` or a square overflows to
inf long before float32 would, and the printed loss moves in steps of the dtype's spacing.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import (
    binary,
    classification,
    distributions,
    huber,
    margin,
    multilabel,
    multilabel_margin,
    ranking,
    regression,
)
from ._common import Arr, Report, fmt, read

__all__ = ["NOT_IMPLEMENTED", "check", "not_implemented"]

NOT_IMPLEMENTED = {"ctc_loss": "ctc_loss_cpu",
                   "multi_margin_loss": "multi_margin_loss_cpu_kernel",
                   "multilabel_margin_loss": "multilabel_margin_loss_forward_out_frame"}
"""Losses whose torch CPU kernel has no float16 or bfloat16 version, and the kernel's name."""

_TORCH_NAME = {"float16": "Half", "bfloat16": "BFloat16"}
_MAX = {"float16": float(np.finfo(np.float16).max), "bfloat16": 3.3895313892515355e38}
_BITS = {"float16": 10, "bfloat16": 7}                   # stored significand bits
_FUNCTIONS = {name: getattr(module, name)
              for module in (binary, classification, distributions, huber, margin, multilabel,
                             multilabel_margin, ranking, regression) for name in module.__all__}
_SUM_KEPT = ("cross_entropy", "nll_loss")
_ARRAYS = ("weight", "pos_weight", "var", "target", "negative")
_LEGACY = ("size_average", "reduce")


def not_implemented(r: Report, name: str, x: Arr) -> bool:
    """ctc_loss, multi_margin_loss, multilabel_margin_loss refuse half precision."""
    if name not in NOT_IMPLEMENTED or x.half is None:
        return False
    said = f"\"{NOT_IMPLEMENTED[name]}\" not implemented for '{_TORCH_NAME[x.half]}'"
    r.add("half-not-implemented", "error",
          f"input is {x.half}: torch has no CPU kernel for {name} in this dtype "
          f"({said}). Compute this loss in float32: input.float(); under autocast, "
          f"call it outside the autocast region or on float32 inputs.",
          f"input 是 {x.half}：torch 在 CPU 上没有这种 dtype 的 {name} 实现（{said}）。"
          f"请在 float32 中计算这个损失：input.float()；在 autocast 中，请在 autocast 区域之外"
          f"或对 float32 输入调用它。")
    return True


def _step(value: float, half: str) -> float:
    """The spacing of ``half`` at ``value``: 2^(exponent - stored bits)."""
    return 2.0 ** (np.floor(np.log2(abs(value))) - _BITS[half]) if value else 0.0


def _overflow(r: Report, what_en: str, what_zh: str, half: str) -> None:
    top = fmt(_MAX[half])
    r.add("half-overflow", "warning",
          f"in {half} {what_en} goes beyond the largest {half} value, {top}: torch's {half} "
          f"kernel overflows there and the loss is inf or wrong, where float32 gives a "
          f"finite number. Compute the loss in float32 (input.float(), target.float()); "
          f"under autocast, cast the loss's inputs to float32.",
          f"在 {half} 中，{what_zh}超过了 {half} 的最大值 {top}：torch 的 {half} 实现在这里"
          f"溢出，损失变成 inf 或出错，而 float32 给出的是有限的数。请在 float32 中计算损失"
          f"（input.float()、target.float()）；在 autocast 中，请把损失的输入转换为 float32。")


def _intermediate(r: Report, name: str, x: Arr, y: Arr, options: dict) -> bool:
    """An exp or a square inside the kernel that overflows although the loss would not."""
    big = _MAX[x.half]
    a, t = x.a.astype(np.float64), y.a.astype(np.float64)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # nanmax of an all-nan slice
        if name == "poisson_nll_loss" and options.get("log_input", True) and a.size \
                and np.nanmax(np.where(np.isfinite(a), a, -np.inf)) > np.log(big):
            _overflow(r, f"exp(input) (input up to {fmt(np.nanmax(a))}, exp overflows above "
                      f"{fmt(np.log(big))})", f"exp(input)（input 最大 {fmt(np.nanmax(a))}，"
                      f"超过 {fmt(np.log(big))} 时 exp 溢出）", x.half)
            return True
        if name == "soft_margin_loss" and a.shape == t.shape and a.size:
            worst = np.nanmax(-a * t)
            if worst > np.log(big):
                _overflow(r, f"exp(-target · input) (up to exp({fmt(worst)}))",
                          f"exp(-target · input)（最大到 exp({fmt(worst)})）", x.half)
                return True
        if name == "cosine_embedding_loss" and a.shape == t.shape and a.ndim in (1, 2) \
                and a.size:
            axis = a.ndim - 1
            n1, n2 = (a * a).sum(axis), (t * t).sum(axis)
            worst = float(np.nanmax(np.abs(np.stack([n1, n2, n1 * n2, (a * t).sum(axis)]))))
            if worst > big:
                _overflow(r, f"the squared norms (their product reaches {fmt(worst)}; the "
                          f"cosine then comes out 0, so a pair's loss is 1 for target 1 and 0 "
                          f"for target -1, whatever the vectors)",
                          f"平方范数（其乘积达到 {fmt(worst)}；余弦随之变成 0，于是不论向量是什么，"
                          f"目标为 1 的一对损失是 1，目标为 -1 的是 0）", x.half)
                return True
        if name == "gaussian_nll_loss" and a.shape == t.shape and a.size:
            worst = float(np.nanmax((a - t) ** 2))
            if worst > big:
                _overflow(r, f"(input - target)² (up to {fmt(worst)})",
                          f"(input - target)²（最大到 {fmt(worst)}）", x.half)
                return True
    return False


def _float64_terms(name: str, x: Arr, y: Arr, options: dict) -> np.ndarray | None:
    """The loss's terms (reduction='none') computed by lossref in float64, or None."""
    fn = _FUNCTIONS.get(name)
    if fn is None or x.a.size > 2_000_000:
        return None
    kwargs = {k: v for k, v in options.items() if k not in _LEGACY}
    for key in _ARRAYS:
        if kwargs.get(key) is not None and not isinstance(kwargs[key], (int, float)):
            kwargs[key] = read(kwargs[key], key).a.astype(np.float64)
    kwargs["reduction"] = "none"
    target = y.a if np.issubdtype(y.a.dtype, np.integer) else y.a.astype(np.float64)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")               # lossref's own shape warnings
            return np.asarray(fn(x.a.astype(np.float64), target, **kwargs), dtype=np.float64)
    except (TypeError, ValueError, IndexError, ArithmeticError):
        return None


def check(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    """Overflow inside the kernel or of the result, and the step of the printed loss."""
    if x.half is None or _intermediate(r, name, x, y, options):
        return
    terms = _float64_terms(name, x, y, options)
    if terms is None or not terms.size or not np.isfinite(terms).all():
        return
    big = _MAX[x.half]
    worst = float(np.abs(terms).max())
    total = float(terms.sum())
    if worst > big:
        _overflow(r, f"a term of the loss ({fmt(worst)})", f"损失中的某一项（{fmt(worst)}）",
                  x.half)
        return
    # the nll kernels (cross_entropy, nll_loss) keep their 'mean''s sum in the dtype too
    summed = reduction == "sum" or (reduction == "mean" and name in _SUM_KEPT)
    if summed and abs(total) > big:
        _overflow(r, f"the sum of the terms ({fmt(total)})", f"各项之和（{fmt(total)}）", x.half)
        return
    if reduction == "none":
        return
    value = total if reduction == "sum" else float(terms.mean())
    step = _step(value, x.half)
    if step >= 0.01:
        r.add("half-loss-step", "info",
              f"the loss is about {fmt(value)}, and {x.half} stores numbers of that size in "
              f"steps of {step:g} (float32: {_step(value, 'float16') / 2 ** 13:.3g}): the loss "
              f"torch returns is a multiple of that step, so changes smaller than it do not "
              f"show, and the rounding of the inputs and of each operation adds to the error. "
              f"To compare or log losses, compute them in float32: loss(input.float(), ...).",
              f"损失约为 {fmt(value)}，而 {x.half} 在这个大小上的步长是 {step:g}（float32 是 "
              f"{_step(value, 'float16') / 2 ** 13:.3g}）：torch 返回的损失是这个步长的整数倍，"
              f"比它小的变化看不出来，输入和每一步运算的舍入还会带来更多误差。要比较或记录损失，"
              f"请在 float32 中计算：loss(input.float(), ...)。")
