"""ctc_loss: log_probs' shape, the lengths, the labels, the blank, and what 'mean' divides by."""

from __future__ import annotations

import numpy as np

from ._common import Arr, Report, fmt, logsumexp_rows, read
from ._scores import log_probability_rows

__all__ = ["CHECKS"]


def _ctc(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    lp = x.a
    if lp.ndim not in (2, 3) or lp.size == 0:
        r.add("ctc-log-probs-shape", "error",
              f"log_probs of shape {lp.shape}: ctc_loss needs a non-empty (T, N, C) array, or "
              f"(T, C) for one sequence (torch raises).",
              f"log_probs 的形状是 {lp.shape}：ctc_loss 需要非空的 (T, N, C) 数组，单个序列时"
              f"是 (T, C)（torch 报错）。")
        return
    batched = lp.ndim == 3
    lp3 = lp if batched else lp[:, None, :]
    n_classes = lp3.shape[2]
    blank = options.get("blank", 0)
    if not 0 <= blank < n_classes:
        r.add("ctc-blank-range", "error",
              f"blank={blank} with {n_classes} classes: torch raises \"blank must be in label "
              f"range\" [0, {n_classes - 1}].",
              f"blank={blank}，而类别数是 {n_classes}：torch 报错 \"blank must be in label "
              f"range\"，应在 [0, {n_classes - 1}] 内。")
        return
    lengths = _ctc_lengths(r, lp3, y, options, batched)
    if lengths is None:
        return
    il, tl, labels = lengths
    zero_infinity = bool(options.get("zero_infinity", False))
    out = [n for n, seq in enumerate(labels) if ((seq < 0) | (seq >= n_classes)).any()]
    if out:
        seq = labels[out[0]]
        value = int(seq[(seq < 0) | (seq >= n_classes)][0])
        r.add("ctc-label-out-of-range", "warning",
              f"target label {value} (sequence {out[0]}) is outside [0, {n_classes - 1}]: "
              f"torch does not check, reads memory outside log_probs and returns a "
              f"meaningless number ({len(out)} sequence(s) affected).",
              f"目标标签 {value}（第 {out[0]} 个序列）不在 [0, {n_classes - 1}] 内：torch 不"
              f"检查，会读到 log_probs 之外的内存，返回一个没有意义的数（共 {len(out)} 个序列）。")
        return
    with_blank = [n for n, seq in enumerate(labels) if (seq == blank).any()]
    if with_blank:
        r.add("ctc-blank-in-targets", "warning",
              f"{len(with_blank)} target sequence(s) contain the blank label {blank} (e.g. "
              f"sequence {with_blank[0]}): the blank means \"no label\" and must not appear "
              f"in targets. torch's CPU kernel does not check and returns a number, but it is "
              f"the loss of no label sequence (collapsing removes every blank). Shift the "
              f"labels so that the blank has a class of its own.",
              f"有 {len(with_blank)} 个目标序列含有空白符 {blank}（例如第 {with_blank[0]} "
              f"个序列）：空白符表示“没有标签”，不能出现在目标里。torch 的 CPU 实现不检查，"
              f"照样返回一个数，但它不是任何标签序列的损失（折叠时所有空白符都会被删掉）。"
              f"请平移标签，让空白符单独占一个类别。")
    else:
        need = np.array([seq.size + int((seq[1:] == seq[:-1]).sum()) for seq in labels],
                        dtype=np.int64)
        short = il < need
        if short.any():
            n = int(np.argmax(short))
            if zero_infinity:
                r.add("ctc-input-too-short", "info",
                      f"{int(short.sum())} sequence(s) have fewer frames than their target "
                      f"needs (sequence {n}: {int(il[n])} frames for {int(tl[n])} labels, "
                      f"{int(need[n])} with a blank between repeats). zero_infinity=True "
                      f"turns their infinite loss into 0: they add nothing and get no "
                      f"gradient.",
                      f"有 {int(short.sum())} 个序列的帧数少于目标所需（第 {n} 个序列：{int(il[n])} "
                      f"帧对 {int(tl[n])} 个标签，重复标签之间要插入空白符，共需 {int(need[n])} 帧）。"
                      f"zero_infinity=True 把它们的无穷大损失变成 0：这些序列不贡献损失，也没有"
                      f"梯度。")
            else:
                r.add("ctc-input-too-short", "warning",
                      f"{int(short.sum())} sequence(s) have fewer frames than their target "
                      f"needs (sequence {n}: {int(il[n])} frames for {int(tl[n])} labels, "
                      f"{int(need[n])} with a blank between repeats): no alignment exists, "
                      f"their loss is inf" + ("" if reduction == "none" else
                                              f", and so is the '{reduction}'")
                      + ". Check the lengths, or pass zero_infinity=True to drop them.",
                      f"有 {int(short.sum())} 个序列的帧数少于目标所需（第 {n} 个序列：{int(il[n])} "
                      f"帧对 {int(tl[n])} 个标签，重复标签之间要插入空白符，共需 {int(need[n])} 帧）："
                      f"不存在任何对齐，它们的损失是 inf"
                      + ("" if reduction == "none" else f"，'{reduction}' 归约后也是 inf")
                      + "。请检查长度，或传 zero_infinity=True 丢弃这些序列。")
    _ctc_log_probs(r, lp3, il, x.eps)
    if reduction == "mean" and tl.size and (tl != 1).any():
        shown = ", ".join(str(int(n)) for n in tl[:4]) + (", ..." if tl.size > 4 else "")
        r.add("ctc-mean-per-target-length", "info",
              f"reduction='mean' divides each sequence's loss by its own target length "
              f"({shown}), then averages over the {tl.size} sequence(s): it is not the mean of "
              f"reduction='none', nor the sum divided by the batch size. A target length of 0 "
              f"is clamped to 1.",
              f"reduction='mean' 先把每个序列的损失除以它自己的目标长度（{shown}），再对 "
              f"{tl.size} 个序列求均值：它既不是 reduction='none' 结果的均值，也不是总和除以批大小。"
              f"目标长度为 0 时按 1 计。")


def _ctc_lengths(r: Report, lp3: np.ndarray, y: Arr, options: dict, batched: bool):
    """(input_lengths, target_lengths, label sequences), or None after an error finding."""
    n_frames, batch, _ = lp3.shape
    for key in ("input_lengths", "target_lengths"):
        if isinstance(options[key], (bool, int, float, np.number)):
            _ctc_error(r, f"{key} is a Python number", f"{key} 是一个 Python 数",
                       None, " Lengths are a tensor or a tuple of ints, one per sequence "
                       "(also for one sequence: (T,)).",
                       "长度应是张量或整数元组，每个序列一个（只有一个序列时也是如此：(T,)）。")
            return None
    listed = [isinstance(options[k], (list, tuple)) for k in ("input_lengths", "target_lengths")]
    if listed[0] != listed[1]:
        _ctc_error(r, "one of input_lengths and target_lengths is a list, the other an array",
                   "input_lengths 和 target_lengths 一个是列表，另一个是张量",
                   None, " torch takes both as tensors or both as tuples of ints.",
                   "torch 要求两者都是张量，或都是整数元组。")
        return None
    found = {}
    for key in ("input_lengths", "target_lengths"):
        arr = read(options[key], key)
        if not np.issubdtype(arr.a.dtype, np.integer) and arr.typed:
            _ctc_error(r, f"{key} has dtype {arr.dtype}", f"{key} 的 dtype 是 {arr.dtype}",
                       f"{key} must be integral")
            return None
        values = arr.a.reshape(-1)
        if values.size != batch:
            hint_en = hint_zh = ""
            code = "ctc-lengths"
            if batched and key == "input_lengths" and values.size == n_frames:
                code = "ctc-batch-first"
                hint_en = (" It has one length per entry of dim 0: log_probs look batch-first "
                           "(N, T, C); ctc_loss wants (T, N, C), log_probs.transpose(0, 1).")
                hint_zh = ("它的长度个数等于 dim 0 的大小：log_probs 看起来是批次维在前的 "
                           "(N, T, C)；ctc_loss 要的是 (T, N, C)，用 log_probs.transpose(0, 1)。")
            _ctc_error(r, f"{key} holds {values.size} length(s) for a batch of {batch}",
                       f"{key} 有 {values.size} 个长度，批大小却是 {batch}",
                       f"{key} must be of size batch_size", hint_en, hint_zh, code)
            return None
        if not (np.isfinite(values).all() and np.all(values == np.round(values))):
            _ctc_error(r, f"{key} holds fractions", f"{key} 中有小数",
                       f"{key} must be integral")
            return None
        values = values.astype(np.int64)
        if values.size and values.min() < 0:
            _ctc_error(r, f"{key} holds {int(values.min())}", f"{key} 中有 {int(values.min())}",
                       f"Expected {key} to have value at least 0, but got value "
                       f"{int(values.min())}")
            return None
        if key == "input_lengths" and values.size and values.max() > n_frames:
            _ctc_error(r, f"input_lengths holds {int(values.max())} for {n_frames} frames",
                       f"input_lengths 中有 {int(values.max())}，而只有 {n_frames} 帧",
                       f"Expected input_lengths to have value at most {n_frames}, but got "
                       f"value {int(values.max())}")
            return None
        found[key] = values
    il, tl = found["input_lengths"], found["target_lengths"]
    tg = y.a
    # an unbatched call's 1-D targets are read as concatenated: their size is the length
    if tg.ndim == 2:
        longest = int(tl.max()) if tl.size else 0
        if tg.shape[0] != batch or tg.shape[1] < longest:
            _ctc_error(r, f"padded targets of shape {tg.shape} for {batch} sequence(s) of "
                       f"up to {longest} labels",
                       f"补齐的 targets 形状是 {tg.shape}，而有 {batch} 个序列、最长 {longest} "
                       f"个标签", None, "", "", "ctc-targets-shape")
            return None
        labels = [tg[n, :tl[n]] for n in range(batch)]
    elif tg.ndim == 1:
        if tg.size != int(tl.sum()):
            _ctc_error(r, f"concatenated targets hold {tg.size} labels, target_lengths add up "
                       f"to {int(tl.sum())}",
                       f"拼接的 targets 有 {tg.size} 个标签，target_lengths 之和却是 "
                       f"{int(tl.sum())}", None, "", "", "ctc-targets-shape")
            return None
        labels = np.split(tg, np.cumsum(tl)[:-1])
    else:
        _ctc_error(r, f"targets have {tg.ndim} dimensions", f"targets 有 {tg.ndim} 维", None, "", "", "ctc-targets-shape")
        return None
    with np.errstate(invalid="ignore"):
        labels = [np.asarray(seq, dtype=np.float64) for seq in labels]
    if any(not np.isfinite(seq).all() for seq in labels):
        return None
    return il, tl, [seq.astype(np.int64) for seq in labels]


def _ctc_error(r: Report, what_en: str, what_zh: str, said: str | None,
               hint_en: str = "", hint_zh: str = "", code: str = "ctc-lengths") -> None:
    quote_en = f" (\"{said}\")" if said else ""
    quote_zh = f"（\"{said}\"）" if said else ""
    r.add(code, "error",
          f"{what_en}: torch refuses the call{quote_en}.{hint_en}",
          f"{what_zh}：torch 会拒绝这次调用{quote_zh}。{hint_zh}")


def _ctc_log_probs(r: Report, lp3: np.ndarray, il: np.ndarray, eps: float) -> None:
    """The frames within each input length must be log-probabilities (log_softmax output)."""
    used = np.arange(lp3.shape[0])[:, None] < il[None, :]           # (T, N)
    rows = lp3[used].astype(np.float64)                              # (frames, C)
    if rows.size == 0:
        return
    # a float32 log_softmax cast to float64 is correct: judge at no finer than float16's
    # rounding (raw scores and probabilities miss 1 by far more)
    bad = ~log_probability_rows(rows, max(eps, 2.0 ** -10)) & np.isfinite(rows).any(axis=-1)
    if bad.any():
        with np.errstate(all="ignore"):
            sums = np.exp(logsumexp_rows(rows[bad]))
        r.add("ctc-not-log-softmax", "warning",
              f"{int(bad.sum())} of {rows.shape[0]} frame(s) are not log-probabilities (their "
              f"exp sums to {fmt(sums[0])} over the classes, not 1). ctc_loss does not "
              f"normalise: the number it returns is no negative log-likelihood (it can be "
              f"negative), and torch's backward assumes a log_softmax, so its gradient is not "
              f"even the gradient of that number. Apply log_softmax over the classes (dim=-1).",
              f"有 {int(bad.sum())}/{rows.shape[0]} 帧不是对数概率（取 exp 后沿类别求和为 "
              f"{fmt(sums[0])}，而不是 1）。ctc_loss 不做归一化：它返回的数不是负对数似然"
              f"（可以是负数），而且 torch 的反向传播假定输入经过了 log_softmax，所以它给出的"
              f"梯度甚至不是这个数的梯度。请沿类别维（dim=-1）做 log_softmax。")



CHECKS = {"ctc_loss": _ctc}
