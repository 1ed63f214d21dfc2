"""kl_div, poisson_nll_loss, gaussian_nll_loss: what the input is (log or not), var, notes."""

from __future__ import annotations

import warnings

import numpy as np

from .. import distributions as _losses
from ._common import Arr, Report, fmt, is_float, option_array, same_shape

__all__ = ["CHECKS"]


def _kl_div(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    a = x.a
    log_target = bool(options.get("log_target", False))
    if reduction == "mean":
        r.add("kl-div-mean", "warning",
              f"reduction='mean' divides by every element ({a.size}), batch and classes "
              f"together, so the value is not the KL divergence; torch warns too. Use "
              f"reduction='batchmean' (divides by the batch size).",
              f"reduction='mean' 除以全部元素个数（{a.size}），把批次和类别混在一起，得到的"
              f"不是 KL 散度；torch 也会警告。请用 reduction='batchmean'（只除以批大小）。")
    if not is_float(y) and y.typed:
        r.add("target-dtype-mismatch", "error",
              f"target has dtype {y.dtype}: torch raises \"kl_div: Integral inputs not "
              f"supported.\"",
              f"target 的 dtype 是 {y.dtype}：torch 报错 \"kl_div: Integral inputs not "
              f"supported.\"")
    finite = a[np.isfinite(a)]
    if finite.size and finite.max() > 0:
        if finite.max() <= 1 and finite.min() >= 0:
            r.add("probabilities-to-kl-div", "warning",
                  "the input lies in [0, 1]: probabilities, but kl_div expects "
                  "log-probabilities as input (log_softmax output); the result is not a "
                  "divergence and can be negative.",
                  "input 在 [0, 1] 内：这是概率，而 kl_div 的 input 应是对数概率"
                  "（log_softmax 的输出）；这样算出的不是散度，还可能是负数。")
        else:
            r.add("scores-to-kl-div", "warning",
                  "the input has positive entries: these are scores, not log-probabilities "
                  "(which are <= 0). Apply log_softmax to the scores first.",
                  "input 中有正数：这是分数，不是对数概率（对数概率都 <= 0）。"
                  "请先对分数做 log_softmax。")
    t = y.a.astype(np.float64)
    t = t[np.isfinite(t)]
    if t.size and not log_target and t.min() < 0:
        r.add("kl-div-log-target", "warning",
              "the target has negative entries: probabilities cannot be negative. If it holds "
              "log-probabilities, pass log_target=True.",
              "target 中有负数：概率不可能是负的。如果它存的是对数概率，请传 log_target=True。")
    elif t.size and log_target and t.max() > 0:
        r.add("kl-div-log-target", "warning",
              "log_target=True but the target has positive entries: log-probabilities are "
              "<= 0. For a target of probabilities leave log_target=False.",
              "log_target=True，但 target 中有正数：对数概率都 <= 0。target 是概率时请保持 "
              "log_target=False。")
    same_shape(r, name, x, y, False, reduction)


def _gaussian_nll(r: Report, name: str, x: Arr, y: Arr, options: dict,
                  reduction: str) -> None:
    var = option_array(options, "var")
    if var is not None and (var.a < 0).any():
        r.add("negative-variance", "error",
              "var has negative entries: torch raises \"var has negative entry/entries\".",
              "var 中有负数：torch 报错 \"var has negative entry/entries\"。")
    elif var is not None and not isinstance(options["var"], (int, float)):
        xs, vs = x.a.shape, var.a.shape
        if not (vs == xs or vs == xs[:-1] or (len(vs) == len(xs) and sum(
                b for a, b in zip(xs, vs) if a != b) == 1)):
            r.add("var-shape", "error",
                  f"var has shape {vs} for input shape {xs}: torch raises \"var is of "
                  f"incorrect size\". It takes the input's shape, input.shape[:-1] (one "
                  f"variance per sample), or the input's shape with one dimension of size 1.",
                  f"var 的形状是 {vs}，input 的形状是 {xs}：torch 报错 \"var is of incorrect "
                  f"size\"。var 的形状应与 input 相同，或是 input.shape[:-1]（每个样本一个方差），"
                  f"或是把 input 的某一维换成 1 的形状。")
    same_shape(r, name, x, y, False, reduction)
    if var is not None and not r.codes() & {"negative-variance", "var-shape"}:
        _negative_nll(r, name, x, y, {**options, "var": var.a.astype(np.float64)
                                      if not isinstance(options["var"], (int, float))
                                      else float(options["var"])}, reduction)


def _poisson_nll(r: Report, name: str, x: Arr, y: Arr, options: dict,
                 reduction: str) -> None:
    a = x.a.astype(np.float64)
    t = y.a.astype(np.float64)
    finite = a[np.isfinite(a)]
    counts = t[np.isfinite(t)]
    log_input = bool(options.get("log_input", True))
    if log_input and finite.size >= 4 and counts.size and finite.min() >= 0:
        # exp(input) would be rates ≥ e³ ≈ 20 times the largest count: no fitted log-rate
        # is that far off, a rate passed as its own logarithm is.
        ceiling = np.log(max(counts.max(), 0.0) + 1.0) + 3.0
        if finite.max() > ceiling:
            r.add("poisson-rates-with-log-input", "warning",
                  f"log_input=True (the default) reads the input as log-rates, but it is >= 0 "
                  f"everywhere and reaches {fmt(finite.max())}: exp of that is a rate of "
                  f"{fmt(np.exp(min(finite.max(), 700.0)))} against counts of at most "
                  f"{fmt(counts.max())}. These look like rates: pass log_input=False, or "
                  f"give the log of the rates.",
                  f"log_input=True（默认值）把 input 当作对数速率，但它处处 >= 0，最大到 "
                  f"{fmt(finite.max())}：取 exp 后速率是 {fmt(np.exp(min(finite.max(), 700.0)))}，"
                  f"而计数最多只有 {fmt(counts.max())}。它们看起来是速率本身：请传 "
                  f"log_input=False，或改传速率的对数。")
    elif not log_input and (finite < 0).any():
        n = int((finite < 0).sum())
        r.add("poisson-negative-rates", "warning",
              f"log_input=False reads the input as rates, but {n} value(s) are negative: "
              f"log(input + eps) of a negative rate is nan. If these are log-rates, pass "
              f"log_input=True (the default).",
              f"log_input=False 把 input 当作速率，但有 {n} 个值是负数：负速率的 "
              f"log(input + eps) 是 nan。如果它们是对数速率，请传 log_input=True（默认值）。")
    same_shape(r, name, x, y, False, reduction)
    if not options.get("full", False) and not r.codes() & {"poisson-negative-rates",
                                                           "poisson-rates-with-log-input"}:
        _negative_nll(r, name, x, y, options, reduction)




def _negative_nll(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    """A negative Gaussian or Poisson NLL is normal: a density, not a probability."""
    if reduction == "none" or x.a.shape != y.a.shape:
        return
    keys = {"gaussian_nll_loss": ("var", "full", "eps"),
            "poisson_nll_loss": ("log_input", "full", "eps")}[name]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(getattr(_losses, name)(
                x.a.astype(np.float64), y.a.astype(np.float64), reduction=reduction,
                **{k: options[k] for k in keys if k in options}))
    except (TypeError, ValueError, IndexError):
        return
    if not value < 0:
        return
    why_en = ("it is a log-density, not the log of a probability: a density exceeds 1 when "
              "the variance is small, so its negative log goes below 0"
              if name == "gaussian_nll_loss" else
              "without full=True the constant log(target!) is left out, so the value is "
              "shifted and can go below 0")
    why_zh = ("它是概率密度的负对数，而不是概率的负对数：方差小时密度大于 1，其负对数就小于 0"
              if name == "gaussian_nll_loss" else
              "不加 full=True 时省略了常数项 log(target!)，数值整体平移，可以低于 0")
    r.add("negative-nll", "info",
          f"this call's loss is negative ({fmt(value)}), and that is normal for {name}: "
          f"{why_en}. Compare values, not signs.",
          f"这次调用的损失是负数（{fmt(value)}），这对 {name} 是正常的：{why_zh}。"
          f"请比较数值的大小，而不是看正负。")


CHECKS = {"kl_div": _kl_div, "gaussian_nll_loss": _gaussian_nll, "poisson_nll_loss": _poisson_nll}
