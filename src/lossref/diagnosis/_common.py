"""The ground floor of ``lossref.diagnosis``: reading arrays, the report, shared shape checks.

Every family module (``classification``, ``binary``, ...) builds on this module only; none
imports another family's private helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import asarray
from .finding import SEVERITIES, Finding

# The book's chapters (the English page; the Chinese twin has the same name under zh/).
SOFTMAX = "en/02_softmax_cross_entropy.html"
WEIGHTS = "en/03_weights_ignore_smoothing.html"
NLL = "en/04_nll_loss.html"
BCE = "en/05_binary_cross_entropy.html"
BCEL = "en/06_bce_with_logits.html"
REDUCTIONS = "en/07_reductions_legacy.html"
REGRESSION = "en/09_regression.html"
DISTRIBUTIONS = "en/10_distributions.html"
MARGINS = "en/11_margins_rankings.html"
MULTI_MARGINS = "en/12_multi_margins.html"
CTC = "en/13_ctc.html"
VOCABULARY = "en/14_vocabulary_scale.html"
TROUBLE = "en/15_troubleshooting.html"
CHEAT_SHEET = "en/17_cheat_sheet_glossary.html"

# ml_dtypes' bfloat16 (and torch's): NumPy has no such type, so the values are read as
# float32 and the rounding unit is remembered.
_HALF_EPS = {"bfloat16": 2.0 ** -7, "float16": 2.0 ** -10}     # bfloat16 first: "bfloat16" ends with "float16"


@dataclass(frozen=True)
class Arr:
    """A tensor argument as diagnose reads it."""

    a: np.ndarray          # the values (bfloat16 read as float32)
    dtype: str             # the dtype as the caller's object names it ("torch.int32", "int64")
    typed: bool            # the caller's object carries a dtype (tensor, ndarray)
    eps: float             # the rounding unit of the caller's dtype (0 for integers)
    half: str | None       # "float16" or "bfloat16" when the caller's dtype is one of them


def read(x: Any, name: str) -> Arr:
    """``x`` (tensor, ndarray, list) as an :class:`Arr`; TypeError when it is not numeric."""
    typed = hasattr(x, "dtype")
    label = str(x.dtype) if typed else ""
    try:
        a = asarray(x)
    except (TypeError, RuntimeError):          # a torch bfloat16 tensor: NumPy has no bfloat16
        a = np.asarray(x.detach().cpu().float().numpy())
    except ValueError as exc:                  # ragged lists
        raise TypeError(f"diagnose: cannot read {name} as a numeric array ({exc})") from None
    if str(a.dtype) == "bfloat16":             # ml_dtypes.bfloat16
        a = a.astype(np.float32)
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) \
            or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"diagnose: cannot read {name} as a real numeric array "
                        f"(got dtype {a.dtype})")
    label = label or str(a.dtype)
    half = next((h for h in _HALF_EPS if label.endswith(h)), None)
    if half == "float16" and a.dtype != np.float16:
        half = None
    eps = _HALF_EPS[half] if half else (
        float(np.finfo(a.dtype).eps) if np.issubdtype(a.dtype, np.floating) else 0.0)
    return Arr(a, label, typed, eps, half)


_TORCH_TYPES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool", "float16": "Half", "float32": "Float",
                "float64": "Double"}


def torch_type(a: np.ndarray) -> str:
    """The scalar type torch names in its messages (``Long`` for int64 ...)."""
    return _TORCH_TYPES.get(str(a.dtype), str(a.dtype))


def is_float(arr: Arr) -> bool:
    return np.issubdtype(arr.a.dtype, np.floating)


def fmt(v: Any) -> str:
    return f"{float(v):.4g}"


def rows_of(a: np.ndarray, axis: int) -> np.ndarray:
    """``a`` as float64 rows along ``axis``: shape (everything else, a.shape[axis])."""
    moved = np.moveaxis(a, axis, -1)
    return moved.reshape(int(np.prod(moved.shape[:-1])), moved.shape[-1]).astype(np.float64)


def logsumexp_rows(r: np.ndarray) -> np.ndarray:
    """log Σ exp over the last axis of a float64 array, -inf for rows of -inf."""
    m = np.max(r, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.sum(np.exp(r - m), axis=-1)) + m[..., 0]


def option_array(options: dict, key: str) -> Arr | None:
    value = options.get(key)
    return None if value is None else read(value, key)


class Report:
    """The findings of one call, in the order the checks ran."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str, str, str | None]] = []

    def add(self, code: str, severity: str, en: str, zh: str, chapter: str | None = None) -> None:
        """Record a finding; its chapter is the catalogue's unless ``chapter`` is given."""
        self.items.append((code, severity, en, zh, chapter))

    def codes(self) -> set[str]:
        return {item[0] for item in self.items}

    def findings(self, chapters: dict[str, str]) -> list[Finding]:
        """Errors first, then warnings, then notes (stable within a group)."""
        order = {s: i for i, s in enumerate(SEVERITIES)}
        found = [Finding(code, severity, en, zh, chapter or chapters[code])
                 for code, severity, en, zh, chapter in self.items]
        return sorted(found, key=lambda f: order[f.severity])


def counts_en(n_nan, n_inf) -> str:
    """'2 samples give nan and 1 sample gives inf', leaving out a count of 0."""
    def part(n, what):
        n = int(n)
        return f"{n} sample gives {what}" if n == 1 else f"{n} samples give {what}"
    return " and ".join(part(n, w) for n, w in ((n_nan, "nan"), (n_inf, "inf")) if n)


def counts_zh(n_nan, n_inf) -> str:
    """'2 个样本的损失为 nan，1 个样本的损失为 inf'，略去为 0 的计数。"""
    return "，".join(f"{int(n)} 个样本的损失为 {w}" for n, w in ((n_nan, "nan"), (n_inf, "inf"))
                    if n)


def same_shape(r: Report, name: str, x: Arr, y: Arr, refuses: bool | str,
               reduction: str) -> bool:
    """Input and target shapes; False when they differ (an error, or what broadcasting does).

    ``refuses``: True when torch refuses any difference, False when it broadcasts, ``"grow"``
    when it broadcasts only a target that does not grow the input (the result is written
    into an array of the input's shape).
    """
    xs, ys = x.a.shape, y.a.shape
    if xs == ys:
        return True
    try:
        grown = np.broadcast_shapes(xs, ys)
    except ValueError:
        grown = None
    if refuses == "grow":
        refuses = grown != xs
    hint_en = hint_zh = ""
    if len(xs) == len(ys) + 1 and xs[-1] == 1 and xs[:-1] == ys:
        hint_en, hint_zh = " Use input.squeeze(-1).", "用 input.squeeze(-1) 对齐。"
    elif len(ys) == len(xs) + 1 and ys[-1] == 1 and ys[:-1] == xs:
        hint_en, hint_zh = " Use target.squeeze(-1).", "用 target.squeeze(-1) 对齐。"
    if refuses or grown is None:
        r.add("target-shape-mismatch", "error",
              f"target shape {ys} differs from input shape {xs}: {name} refuses it "
              f"(torch raises).{hint_en}",
              f"target 的形状 {ys} 与 input 的形状 {xs} 不同：{name} 会拒绝"
              f"（torch 报错）。{hint_zh}")
        return False
    n_grown, n_x, n_y = int(np.prod(grown)), x.a.size, y.a.size
    if n_grown == n_x == n_y:
        # only the shapes differ: every input meets its own target once
        r.add("target-shape-mismatch", "info",
              f"target shape {ys} differs from input shape {xs}, but both hold {n_x} "
              f"value(s) in the same order: torch warns, broadcasts them to {grown}, and "
              f"pairs each input with its own target, so the value is right"
              + ("" if reduction != "none" else f" (the result has shape {grown})")
              + f".{hint_en}",
              f"target 的形状 {ys} 与 input 的形状 {xs} 不同，但两者都有 {n_x} 个值且顺序一致："
              f"torch 会警告，把它们广播成 {grown}，每个输入仍与自己的目标配对，所以数值是对的"
              + ("" if reduction != "none" else f"（结果的形状是 {grown}）") + f"。{hint_zh}")
        return False
    what = {"mean": "averages", "sum": "adds up"}.get(reduction, "returns")
    what_zh = {"mean": "求均值", "sum": "求和"}.get(reduction, "全部返回")
    r.add("target-shape-mismatch", "warning",
          f"target shape {ys} differs from input shape {xs}: {name} broadcasts them to "
          f"{grown} and {what} {n_grown} differences, each of the {n_x} input value(s) "
          f"against {n_grown // max(n_x, 1)} target value(s), instead of "
          f"{min(n_x, n_y)} pairs; the number is meaningless.{hint_en}",
          f"target 的形状 {ys} 与 input 的形状 {xs} 不同：{name} 会把它们广播成 {grown}，"
          f"对 {n_grown} 个差值{what_zh}（{n_x} 个输入值各与 {n_grown // max(n_x, 1)} 个目标值"
          f"相比），而不是 {min(n_x, n_y)} 对；得到的数没有意义。{hint_zh}")
    return False


def elementwise_weight(r: Report, options: dict, key: str, shape: tuple, code: str) -> None:
    """``weight`` / ``pos_weight`` of an element-wise loss must broadcast to the input."""
    w = option_array(options, key)
    if w is None:
        return
    try:
        ok = np.broadcast_shapes(w.a.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        extra_en = extra_zh = ""
        if key == "pos_weight":
            extra_en = (" pos_weight broadcasts from the last dimension: one weight per "
                        "class, shape (C,), not one per sample.")
            extra_zh = "pos_weight 从最后一维开始广播：每个类别一个权重，形状 (C,)，而不是每个样本一个。"
        r.add(code, "error",
              f"{key} of shape {w.a.shape} does not broadcast to the input shape {shape} "
              f"(torch raises).{extra_en}",
              f"{key} 的形状 {w.a.shape} 无法广播到 input 的形状 {shape}（torch 报错）。"
              f"{extra_zh}")


# What a target of 0 does in each ±1 loss (checked against torch in the tests).
_ZERO_TERM = {
    "soft_margin_loss": ("its term is log 2 whatever the input, with no gradient",
                         "这一项不论输入是什么都等于 log 2，没有梯度"),
    "hinge_embedding_loss": ("it gets both terms, x + max(0, margin - x)",
                             "它同时得到两项：x + max(0, margin - x)"),
    "margin_ranking_loss": ("its term is max(0, margin) whatever the inputs, with no gradient",
                            "这一项不论输入是什么都等于 max(0, margin)，没有梯度"),
    "cosine_embedding_loss": ("its term is 0 whatever the inputs: that pair is not trained",
                              "这一项不论输入是什么都是 0：这一对不参与训练"),
}


def zero_one_target(r: Report, name: str, y: Arr) -> None:
    """Targets of 0 and 1 where the loss expects 1 and -1: torch accepts them silently."""
    t = y.a
    if t.size and np.isin(t, (0, 1)).all() and (t == 0).any():
        en, zh = _ZERO_TERM[name]
        r.add("zero-one-target", "warning",
              f"the target holds 0 and 1, but {name} expects 1 and -1: torch accepts a 0 "
              f"without complaint, and {en}. Map with 2 * target - 1.",
              f"target 是 0 和 1，而 {name} 要求 1 和 -1：torch 照样接受 0，而{zh}。"
              f"用 2 * target - 1 转换。")


def bool_target(r: Report, name: str, y: Arr) -> bool:
    """l1_loss and multilabel_soft_margin_loss subtract the target: torch refuses a bool one."""
    if not (y.typed and y.a.dtype == np.bool_):
        return False
    said = "Subtraction, the `-` operator, with a bool tensor is not supported"
    r.add("target-dtype-mismatch", "error",
          f"target is boolean: {name} subtracts it, and torch refuses (\"{said}\"). Use "
          f"target.float().",
          f"target 是布尔型：{name} 要对它做减法，torch 会拒绝（\"{said}\"）。"
          f"用 target.float() 转换。")
    return True


def integer_input(r: Report, name: str, x: Arr, y: Arr) -> None:
    """Integer input: predicted labels (argmax, round) where the scores should be."""
    labels = x.a.shape == y.a.shape and x.a.size and np.issubdtype(x.a.dtype, np.integer) \
        and name in ("cross_entropy", "nll_loss", "multi_margin_loss", "binary_cross_entropy",
                     "binary_cross_entropy_with_logits")
    if labels:
        r.add("integer-input", "error",
              f"input has dtype {x.dtype} and the target's shape {x.a.shape}: these look like "
              f"predicted labels (the output of argmax or round), and {name} is not "
              f"implemented for integer input (torch raises). Converting them to float would "
              f"not help: argmax has no gradient. Pass the model's raw output (the logits), "
              f"before the argmax.",
              f"input 的 dtype 是 {x.dtype}，形状与 target 相同 {x.a.shape}：看起来是预测的"
              f"标签（argmax 或 round 的输出），而 {name} 不支持整数输入（torch 会报错）。转成"
              f"浮点数也没有用：argmax 没有梯度。请传模型的原始输出（logits），即 argmax 之前的值。")
        return
    r.add("integer-input", "error",
          f"input has dtype {x.dtype}: {name} is not implemented for integer or boolean "
          f"input (torch raises). If it holds scores or probabilities, make it floating "
          f"point, e.g. input.float(); if it holds predicted labels, pass the logits instead.",
          f"input 的 dtype 是 {x.dtype}：{name} 不支持整数或布尔型的输入（torch 会报错）。"
          f"如果它存的是分数或概率，先转成浮点数，例如 input.float()；如果是预测的标签，"
          f"请改传 logits（未归一化的分数）。")
