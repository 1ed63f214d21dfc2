"""cross_entropy and nll_loss: the target's shape, dtype and values, then the input's.

Also linear_cross_entropy's logits (see ``vocabulary``), without the input heuristics."""

from __future__ import annotations

import numpy as np

from ._common import (
    Arr,
    Report,
    counts_en,
    counts_zh,
    fmt,
    is_float,
    option_array,
    rows_of,
    torch_type,
)
from ._scores import class_input

__all__ = ["CHECKS", "check"]


def check(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str,
          scores: bool = True) -> None:
    """cross_entropy and nll_loss (and linear_cross_entropy's logits, ``scores=False``)."""
    ce = name != "nll_loss"
    a = x.a
    if a.ndim == 0:
        r.add("input-shape", "error",
              f"input is a 0-d array: {name} needs (C,), (N, C) or (N, C, d1, ...).",
              f"input 是 0 维数组：{name} 需要形状 (C,)、(N, C) 或 (N, C, d1, ...)。")
        return
    axis = 0 if a.ndim == 1 else 1
    n_classes = a.shape[axis]
    rows = rows_of(a, axis)

    weight = _class_weight(r, name, x, options, n_classes)
    smoothing = _label_smoothing(r, options) if ce else 0.0
    ignore_index = options.get("ignore_index", -100)

    if y.a.shape == a.shape and (ce or not is_float(y)):
        if not is_float(y):
            if ce:
                reason = ("Expected floating point type for target with class probabilities, "
                          f"got {torch_type(y.a)}")
            elif a.ndim == 2:
                reason = "0D or 1D target tensor expected, multi-target not supported"
            else:
                reason = None                       # torch's words depend on the kernel
            said_en = f" (\"{reason}\")" if reason else ""
            said_zh = f"（\"{reason}\"）" if reason else ""
            fix_en = "or probabilities, target.float()" if ce else "as nll_loss takes nothing else"
            fix_zh = "或传概率 target.float()" if ce else "nll_loss 只接受类别索引"
            what_en, what_zh = (("vector", "向量") if a.ndim == 1 else ("matrix", "矩阵")
                                if a.ndim == 2 else ("array", "数组"))
            argmax = "target.argmax()" if a.ndim == 1 else "target.argmax(dim=1)"
            r.add("one-hot-index-target", "error",
                  f"target has the input's shape {a.shape} and dtype {y.dtype}: a one-hot "
                  f"{what_en} of integers, and torch refuses it{said_en}. Pass class "
                  f"indices, {argmax}, {fix_en}.",
                  f"target 与 input 同形状 {a.shape}，dtype 是 {y.dtype}：这是整数的独热编码 "
                  f"(one-hot) {what_zh}，torch 会拒绝{said_zh}。请传类别索引 "
                  f"{argmax}，{fix_zh}。")
        else:
            _probability_target(r, x, y, rows, ignore_index, n_classes)
        if scores:
            class_input(r, name, x, rows, n_classes)
        return

    expected = () if a.ndim == 1 else (a.shape[0],) + a.shape[2:]
    shape_ok = y.a.shape == expected or (a.ndim == 1 and y.a.shape == (1,))
    if not shape_ok and a.ndim >= 3 and y.a.shape == a.shape[:-1]:
        _class_axis_last(r, name, a, y)
        return                                   # the input's rows are not its classes
    if not shape_ok:
        _index_target_shape(r, name, a, y, expected)
    else:
        t = _index_target_dtype(r, name, y, a.ndim)
        if t is not None:
            t = t.reshape(-1)
            _index_values(r, name, t, n_classes, ignore_index, weight, reduction)
            _nonfinite_classification(r, name, rows, t, ignore_index, smoothing, n_classes)
            if smoothing > 0 and weight is None and n_classes > 0:
                _smoothing_floor(r, smoothing, n_classes)
    if scores:
        class_input(r, name, x, rows, n_classes)


def _class_axis_last(r: Report, name: str, a: np.ndarray, y: Arr) -> None:
    """(N, T, C) logits with (N, T) targets: torch reads dim 1 as the classes."""
    fix = "input.transpose(1, 2)" if a.ndim == 3 else "input.movedim(-1, 1)"
    r.add("class-axis-last", "error",
          f"input shape {a.shape} with target shape {y.a.shape}: the classes are the input's "
          f"last axis ({a.shape[-1]}), but {name} reads them from dim 1 ({a.shape[1]}) and "
          f"wants the target to be (N, d1, ...) = {(a.shape[0],) + a.shape[2:]}, so torch "
          f"refuses. The target is right; move the class axis of the input to dim 1: "
          f"{fix} (or input.movedim(-1, 1)), or flatten both: "
          f"input.reshape(-1, {a.shape[-1]}), target.reshape(-1).",
          f"input 形状为 {a.shape}，target 形状为 {y.a.shape}：类别在 input 的最后一维"
          f"（{a.shape[-1]}），而 {name} 从 dim 1（{a.shape[1]}）读类别，并要求 target 形状为 "
          f"(N, d1, ...) = {(a.shape[0],) + a.shape[2:]}，所以 torch 会拒绝。target 没有错；"
          f"请把 input 的类别维移到 dim 1：{fix}（或 input.movedim(-1, 1)），或者把两者都展平："
          f"input.reshape(-1, {a.shape[-1]})、target.reshape(-1)。")


def _smoothing_floor(r: Report, eps: float, n_classes: int) -> None:
    """Label smoothing: the smallest loss is the entropy of the smoothed target, not 0."""
    q_true, q_other = 1 - eps + eps / n_classes, eps / n_classes
    floor = -q_true * np.log(q_true) - (n_classes - 1) * q_other * np.log(q_other) \
        if q_other > 0 else 0.0
    r.add("label-smoothing-floor", "info",
          f"with label_smoothing={eps:g} and {n_classes} classes the loss cannot go below "
          f"{fmt(floor)} (the entropy of the smoothed target: {fmt(q_true)} on the true "
          f"class, {fmt(q_other)} on each other): a training loss levelling off there is "
          f"perfect, not stuck.",
          f"label_smoothing={eps:g}、{n_classes} 个类别时，损失不会低于 {fmt(floor)}（平滑后"
          f"目标的熵：真实类别 {fmt(q_true)}，其余每类 {fmt(q_other)}）：训练损失停在这里已经是"
          f"最好，而不是卡住了。")


def _class_weight(r: Report, name: str, x: Arr, options: dict, n_classes: int):
    w = option_array(options, "weight")
    if w is None:
        return None
    if w.a.shape != (n_classes,):
        r.add("weight-shape", "error",
              f"weight has shape {w.a.shape}; {name} needs one weight per class, shape "
              f"({n_classes},) (torch: \"weight tensor should be defined either for all "
              f"{n_classes} classes or no classes\").",
              f"weight 的形状是 {w.a.shape}；{name} 需要每个类别一个权重，即形状 "
              f"({n_classes},)（torch 报错 \"weight tensor should be defined either for all "
              f"{n_classes} classes or no classes\"）。")
        return None
    if w.typed and x.typed and w.a.dtype != x.a.dtype:
        r.add("weight-dtype", "error",
              f"weight has dtype {w.dtype} but input has dtype {x.dtype}: torch refuses "
              f"(\"expected scalar type ... but found ...\"); convert with "
              f"weight.to(input.dtype).",
              f"weight 的 dtype 是 {w.dtype}，input 的却是 {x.dtype}：torch 会拒绝"
              f"（\"expected scalar type ... but found ...\"）；用 weight.to(input.dtype) "
              f"转换。")
    return w.a.astype(np.float64)


def _label_smoothing(r: Report, options: dict) -> float:
    eps = options.get("label_smoothing", 0.0)
    if eps > 1.0:
        r.add("label-smoothing-range", "error",
              f"label_smoothing={eps!r}: torch raises \"label_smoothing must be between 0.0 "
              f"and 1.0\".",
              f"label_smoothing={eps!r}：torch 报错 \"label_smoothing must be between 0.0 "
              f"and 1.0\"。")
        return 0.0
    if eps < 0.0:
        r.add("label-smoothing-range", "warning",
              f"label_smoothing={eps!r} is negative: torch silently ignores it and computes "
              f"the plain cross-entropy.",
              f"label_smoothing={eps!r} 是负数：torch 不报错，直接忽略它，算的是不带平滑的"
              f"交叉熵。")
        return 0.0
    return float(eps)


def _index_target_shape(r: Report, name: str, a: np.ndarray, y: Arr, expected: tuple):
    t = y.a
    # torch's own words where its message does not depend on the kernel that runs
    multi = "0D or 1D target tensor expected, multi-target not supported"
    reason = multi if a.ndim <= 2 and t.ndim >= 2 else None
    extra = next((i for i in range(t.ndim) if t.shape[i] == 1
                  and t.shape[:i] + t.shape[i + 1:] == expected), None)
    if a.ndim >= 2 and t.ndim >= 1 and t.shape[0] != a.shape[0]:
        reason = (f"Expected input batch_size ({a.shape[0]}) to match target batch_size "
                  f"({t.shape[0]}).")
        hint_en = "input and target hold different numbers of samples."
        hint_zh = "input 和 target 的样本数不同。"
    elif extra is not None:
        hint_en = f"the target has an extra axis {extra} of size 1: use target.squeeze({extra})."
        hint_zh = f"target 多了一个长度为 1 的第 {extra} 维：用 target.squeeze({extra}) 去掉。"
    elif t.shape == a.shape:
        hint_en = (f"{name} takes class indices; for one-hot or probability rows use "
                   f"target.argmax(dim=1), or cross_entropy, which accepts probabilities.")
        hint_zh = (f"{name} 只接受类别索引；独热编码或概率行请先 target.argmax(dim=1)，"
                   f"或改用接受概率目标的 cross_entropy。")
    else:
        hint_en = f"class indices need shape {expected}."
        hint_zh = f"类别索引的形状应为 {expected}。"
    said_en = f" (\"{reason}\")" if reason else ""
    said_zh = f"（\"{reason}\"）" if reason else ""
    r.add("index-target-shape", "error",
          f"target shape {t.shape} for input shape {a.shape}: torch refuses{said_en}; {hint_en}",
          f"input 形状为 {a.shape}，target 形状却是 {t.shape}：torch 会拒绝{said_zh}；{hint_zh}")


def _index_target_dtype(r: Report, name: str, y: Arr, ndim: int) -> np.ndarray | None:
    """The class indices as int64, or None when they are not indices at all."""
    t = y.a
    if is_float(y):
        finite = np.isfinite(t).all()
        whole = bool(finite and np.all(t == np.round(t)))
        if whole:
            r.add("float-class-indices", "error",
                  f"target holds whole numbers with dtype {y.dtype}: class indices must be "
                  f"int64 (torch: \"expected target dtype to be Long or Byte, but got "
                  f"{torch_type(t)}\"). Use target.long().",
                  f"target 存的是整数值，dtype 却是 {y.dtype}：类别索引必须是 int64"
                  f"（torch 报错 \"expected target dtype to be Long or Byte, but got "
                  f"{torch_type(t)}\"）。用 target.long() 转换。")
            return t.astype(np.int64)
        r.add("regression-target", "error",
              f"target has the shape of class indices but holds fractions (dtype {y.dtype}, "
              f"e.g. {fmt(t[np.isfinite(t) & (t != np.round(t))].flat[0]) if finite else 'nan'}): "
              f"torch refuses a floating-point index target. Real-valued targets are a "
              f"regression problem: give the model a regression head (one output per value) "
              f"and use an MSE-type loss (mse_loss, smooth_l1_loss, huber_loss), not {name}.",
              f"target 的形状是类别索引的形状，却存着小数（dtype {y.dtype}）：torch 不接受浮点数的"
              f"类别索引。实数目标是回归问题：让模型用回归输出层（每个值一个输出），并使用 MSE 一类"
              f"的损失（mse_loss、smooth_l1_loss、huber_loss），而不是 {name}。")
        return None
    if y.typed and y.a.dtype == np.uint8 and ndim >= 3:
        r.add("non-long-class-indices", "error",
              f"target has dtype {y.dtype}: with a K-dimensional input torch takes class "
              f"indices as int64 only (\"expected scalar type Long but found Byte\"; uint8 "
              f"passes only for (N, C) input). Use target.long(). (lossref accepts any "
              f"integer dtype.)",
              f"target 的 dtype 是 {y.dtype}：input 是 K 维时，torch 的类别索引只接受 int64"
              f"（\"expected scalar type Long but found Byte\"；uint8 只在 (N, C) 输入时可用）。"
              f"用 target.long() 转换。（lossref 接受任何整数类型。）")
    if y.typed and y.a.dtype not in (np.int64, np.uint8):
        r.add("non-long-class-indices", "error",
              f"target has dtype {y.dtype}: torch takes class indices as int64 (or uint8) "
              f"only (\"expected target dtype to be Long or Byte\"). Use target.long().",
              f"target 的 dtype 是 {y.dtype}：torch 的类别索引只接受 int64（或 uint8）"
              f"（\"expected target dtype to be Long or Byte\"）。用 target.long() 转换。")
    return t.astype(np.int64)


def _index_values(r: Report, name: str, t: np.ndarray, n_classes: int, ignore_index: int,
                  weight, reduction: str) -> None:
    ignored = t == ignore_index
    bad = ((t < 0) | (t >= n_classes)) & ~ignored
    if bad.any():
        value = int(t[bad][0])
        kept = t[~ignored]
        one_based = bool((kept >= 1).all() and (kept <= n_classes).all())
        hint_en = (f" The labels run from 1 to {n_classes}: they look 1-based; class indices "
                   f"start at 0, so pass target - 1." if one_based else "")
        hint_zh = (f"标签从 1 到 {n_classes}：看起来是从 1 开始编号的；类别索引从 0 开始，"
                   f"请传 target - 1。" if one_based else "")
        if not one_based and (t[bad] == value).all() and value < 0:
            hint_en = f" If {value} marks padding, pass ignore_index={value}."
            hint_zh = f"如果 {value} 表示填充，请传 ignore_index={value}。"
        r.add("class-index-out-of-range", "error",
              f"target {value} is outside [0, {n_classes - 1}] and is not "
              f"ignore_index={ignore_index}: torch raises \"Target {value} is out of "
              f"bounds.\" ({int(bad.sum())} such target(s)).{hint_en}",
              f"目标 {value} 不在 [0, {n_classes - 1}] 内，也不等于 ignore_index="
              f"{ignore_index}：torch 报错 \"Target {value} is out of bounds.\""
              f"（共 {int(bad.sum())} 个这样的目标）。{hint_zh}")
        return
    if t.size == 0:
        if reduction == "mean":
            r.add("empty-batch", "warning",
                  "the batch is empty: the 'mean' of no targets is 0/0 = nan.",
                  "批次是空的：没有目标时 'mean' 是 0/0 = nan。")
        return
    if ignored.all():
        severity = "warning" if reduction == "mean" else "info"
        r.add("all-targets-ignored", severity,
              f"every target equals ignore_index={ignore_index}: nothing is left to average, "
              f"so 'mean' is 0/0 = nan ('sum' is 0, 'none' all zeros).",
              f"所有目标都等于 ignore_index={ignore_index}：没有剩下任何目标，"
              f"'mean' 是 0/0 = nan（'sum' 是 0，'none' 全是 0）。")
        return
    if 0 <= ignore_index < n_classes and ignored.any():
        r.add("ignore-index-is-a-class", "info",
              f"ignore_index={ignore_index} is also one of the {n_classes} classes, and "
              f"{int(ignored.sum())} of the {t.size} targets are {ignore_index}: they are "
              f"skipped, so class {ignore_index} is never learned (its logit still sits in "
              f"every softmax). If {ignore_index} is a real class, ignore a value outside "
              f"[0, {n_classes - 1}] (the default is -100).",
              f"ignore_index={ignore_index} 同时也是 {n_classes} 个类别之一，而 {t.size} 个目标"
              f"中有 {int(ignored.sum())} 个是 {ignore_index}：它们都被跳过，所以类别 "
              f"{ignore_index} 永远学不到（它的 logit 仍在每个 softmax 的分母里）。如果 "
              f"{ignore_index} 是真实的类别，请忽略 [0, {n_classes - 1}] 之外的值（默认是 -100）。")
    if weight is not None and reduction == "mean":
        w_t = weight[t[~ignored]]
        if not np.all(w_t == 1.0):
            kept = int((~ignored).sum())
            r.add("weighted-mean-denominator", "info",
                  f"with class weights, 'mean' divides the weighted sum by the weights of the "
                  f"targets, Σ w[y] = {fmt(w_t.sum())}, not by the {kept} target(s): it is "
                  f"not the mean of reduction='none'.",
                  f"有类别权重时，'mean' 把加权和除以目标的权重之和 Σ w[y] = {fmt(w_t.sum())}，"
                  f"而不是除以目标个数 {kept}：它不等于 reduction='none' 结果的均值。")


def _nonfinite_classification(r: Report, name: str, rows: np.ndarray, t: np.ndarray,
                              ignore_index: int, smoothing: float, n_classes: int) -> None:
    """nan/inf per non-ignored sample, from the input's non-finite entries."""
    if rows.size == 0 or np.isfinite(rows).all() or t.size != rows.shape[0]:
        return
    kept = (t != ignore_index) & (t >= 0) & (t < n_classes)
    safe = np.where(kept, t, 0)
    at_target = rows[np.arange(rows.shape[0]), safe]
    if name == "nll_loss":
        nan = kept & np.isnan(at_target)
        inf = kept & np.isinf(at_target)
        why_en = "nll_loss picks the target's entry: -inf there is log 0, so the loss is inf"
        why_zh = "nll_loss 取目标位置的值：那里的 -inf 就是 log 0，损失为 inf"
    else:
        row_nan = np.isnan(rows).any(axis=1) | np.isposinf(rows).any(axis=1) \
            | np.isneginf(rows).all(axis=1)
        nan = kept & row_nan
        inf = kept & ~row_nan & (np.isneginf(at_target)
                                 | (smoothing > 0) & np.isneginf(rows).any(axis=1))
        why_en = ("a row with nan, +inf or only -inf gives nan; -inf at the target class gives "
                  "inf" + ("; with label_smoothing any -inf in the row gives inf"
                           if smoothing > 0 else ""))
        why_zh = ("某行含 nan、+inf 或全是 -inf 时结果为 nan；目标类别的 logit 为 -inf 时结果为 "
                  "inf" + ("；使用 label_smoothing 时，一行中任何一个 -inf 都会得到 inf"
                           if smoothing > 0 else ""))
    if name != "nll_loss":
        masked = ~kept & np.isneginf(rows).all(axis=1)
        if masked.any():
            r.add("masked-row-nan-gradient", "warning",
                  f"{int(masked.sum())} input row(s) are -inf in every class and their targets "
                  f"are ignored: the loss is finite, but the softmax of such a row is 0/0, and "
                  f"its gradient is nan, which reaches every parameter. Fill masked logits with "
                  f"a finite value, torch.finfo(dtype).min, not -inf.",
                  f"有 {int(masked.sum())} 行输入在所有类别上都是 -inf，且它们的目标被忽略：损失是"
                  f"有限的，但这样一行的 softmax 是 0/0，梯度是 nan，并会传到每个参数。请用有限值"
                  f"填充被掩码的 logits，即 torch.finfo(dtype).min，而不是 -inf。")
    if nan.any() or inf.any():
        r.add("nonfinite-input", "warning",
              f"{counts_en(nan.sum(), inf.sum())} from non-finite input: {why_en}.",
              f"输入中的非有限值使 {counts_zh(nan.sum(), inf.sum())}：{why_zh}。")


def _probability_target(r: Report, x: Arr, y: Arr, rows: np.ndarray, ignore_index: int,
                        n_classes: int) -> None:
    if ignore_index >= 0:
        r.add("ignore-index-with-probabilities", "error",
              f"ignore_index={ignore_index} with a probability target (the input's shape): "
              f"torch raises \"ignore_index is not supported for floating point target\".",
              f"概率目标（与 input 同形状）配上 ignore_index={ignore_index}：torch 报错 "
              f"\"ignore_index is not supported for floating point target\"。")
    p = rows_of(y.a, 0 if y.a.ndim == 1 else 1)
    if p.size:
        with np.errstate(all="ignore"):
            sums = p.sum(axis=1)
        tol = 4 * (n_classes + 4) * max(y.eps, x.eps)
        finite = p[np.isfinite(p)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            outside = finite[(finite < 0) | (finite > 1)]
            r.add("regression-target", "warning",
                  f"the target has the input's shape, so it is read as class probabilities, "
                  f"but {outside.size} of its values lie outside [0, 1] (e.g. "
                  f"{fmt(outside[0])}): these are real-valued targets, not probabilities. "
                  f"For a regression give the model a regression head (one output per value) "
                  f"and use an MSE-type loss (mse_loss, smooth_l1_loss, huber_loss).",
                  f"target 与 input 同形状，因此被当作概率目标，但其中有 {outside.size} 个值不在 "
                  f"[0, 1] 内（例如 {fmt(outside[0])}）：这是实数目标，不是概率。做回归时请让模型"
                  f"用回归输出层（每个值一个输出），并使用 MSE 一类的损失（mse_loss、"
                  f"smooth_l1_loss、huber_loss）。")
        elif not np.all(np.abs(sums - 1) <= tol):
            worst = sums[np.argmax(np.abs(sums - 1))] if np.isfinite(sums).all() else np.nan
            r.add("probability-target-not-normalised", "warning",
                  f"the target has the input's shape, so it is read as class probabilities, "
                  f"but its rows are not distributions (a row sums to {fmt(worst)}). For several labels per sample use "
                  f"binary_cross_entropy_with_logits.",
                  f"target 与 input 同形状，因此被当作概率目标，但它的行不是概率分布"
                  f"（有一行之和为 {fmt(worst)}）。每个样本有多个标签时请用 "
                  f"binary_cross_entropy_with_logits。")
    if np.isfinite(rows).all() or p.shape != rows.shape:
        return
    with np.errstate(all="ignore"):
        bad_nan = np.isnan(rows) | np.isposinf(rows) | (np.isneginf(rows) & (p == 0))
        bad_inf = np.isneginf(rows) & (p != 0)
    n_nan, n_inf = int(bad_nan.any(axis=1).sum()), int((bad_inf.any(axis=1)
                                                         & ~bad_nan.any(axis=1)).sum())
    if n_nan or n_inf:
        r.add("nonfinite-input", "warning",
              f"{counts_en(n_nan, n_inf)}: with probability targets every class counts, "
              f"and a -inf logit times a target of 0 is 0 · (-inf) = nan.",
              f"{counts_zh(n_nan, n_inf)}：概率目标会用到每个类别，"
              f"-inf 的 logit 乘以为 0 的目标就是 0 · (-inf) = nan。")




CHECKS = {"cross_entropy": check, "nll_loss": check}
