"""What kind of numbers are these? Heuristics on a classification input alone.

Probabilities (rows in [0, 1] summing to 1), sigmoid outputs (rows in [0, 1] that do not),
log-probabilities (rows whose exp sums to 1), constant rows. A heuristic that could match a
correct call by chance reports ``'info'`` when too few values make the case.
"""

from __future__ import annotations

import numpy as np

from ._common import Arr, Report, fmt, logsumexp_rows, rows_of

__all__ = ["class_input", "log_probability_rows", "looks_like_probabilities"]

_MANY = 16
"""Values it takes before a pattern is no coincidence: 16 standard-normal logits all fall in
[0, 1] with probability 0.34¹⁶ ≈ 3e-8."""


def looks_like_probabilities(rows: np.ndarray, dtype_eps: float) -> bool:
    """Every row in [0, 1] with some entry > 0, summing to 1 within rounding."""
    if rows.size == 0 or not np.isfinite(rows).all():
        return False
    if rows.min() < 0 or rows.max() > 1 or not (rows > 0).any(axis=-1).all():
        return False
    tol = (rows.shape[-1] + 4) * dtype_eps
    return bool(np.all(np.abs(rows.sum(axis=-1) - 1) <= tol))


def log_probability_rows(rows: np.ndarray, dtype_eps: float) -> np.ndarray:
    """Per row: all entries <= 0 and Σ exp = 1 within rounding (rows with nan: False)."""
    with np.errstate(all="ignore"):
        lse = logsumexp_rows(rows)
        finite_max = np.max(np.where(np.isfinite(rows), np.abs(rows), 0.0), axis=-1)
    tol = dtype_eps * (rows.shape[-1] + 4 + 4 * finite_max)
    ok = (rows <= 0).all(axis=-1) & (np.abs(lse) <= tol)
    return ok & ~np.isnan(rows).any(axis=-1)


def class_input(r: Report, name: str, x: Arr, rows: np.ndarray, n_classes: int) -> None:
    """Heuristics on the input alone: what kind of numbers are these?"""
    a, eps = x.a, x.eps
    if rows.size == 0:
        return
    # A single float16 row can sum to 1 within float16's rounding by chance: a note only.
    strong = rows.shape[0] >= 2 or eps < 1e-6
    batched = a.ndim >= 2 and a.shape[0] >= 2
    cols = rows_of(a, 0) if batched else None
    _constant_rows(r, name, rows, n_classes)
    if name == "cross_entropy":
        if n_classes == 1:
            r.add("single-class-cross-entropy", "warning",
                  "the input has one class (one output column): the softmax of one logit is "
                  "1, so the loss is exactly 0 whatever the model outputs, and no gradient "
                  "flows. For one yes/no output use binary_cross_entropy_with_logits; for C "
                  "classes give the model C outputs.",
                  "input 只有一个类别（输出只有一列）：一个 logit 的 softmax 恒为 1，所以损失"
                  "恒为 0，也没有梯度。只有一个是/否输出时请用 "
                  "binary_cross_entropy_with_logits；C 个类别就让模型输出 C 列。")
            return
        if looks_like_probabilities(rows, eps):
            floor = np.log(np.e + n_classes - 1) - 1   # p_y = 1: the least a row can give
            r.add("softmax-before-cross-entropy", "warning" if strong else "info",
                  "every input row lies in [0, 1] and sums to 1: these look like softmax "
                  "probabilities, but cross_entropy applies log_softmax itself. Softmax twice "
                  f"keeps every loss between log(e + C - 1) - 1 = {fmt(floor)} and "
                  f"log(e + C - 1) = {fmt(floor + 1)} (log C = {fmt(np.log(n_classes))} at "
                  "uniform rows) and shrinks the gradients. Pass the raw logits.",
                  "input 的每一行都在 [0, 1] 内且和为 1：看起来是 softmax 之后的概率，而 "
                  "cross_entropy 自己会做 log_softmax。两次 softmax 会把每个损失限制在 "
                  f"log(e + C - 1) - 1 = {fmt(floor)} 与 log(e + C - 1) = {fmt(floor + 1)} "
                  f"之间（每行均匀时为 log C = {fmt(np.log(n_classes))}），梯度也变小。请直接传 logits"
                  "（未归一化的分数）。")
        elif batched and looks_like_probabilities(cols, eps):
            r.add("softmax-wrong-dim", "warning",
                  "the input sums to 1 over dim 0 (the batch), not over the classes: a "
                  "softmax over the wrong dimension went in. cross_entropy needs raw logits "
                  "anyway; drop the softmax.",
                  "input 沿 dim 0（批次维）求和为 1，而不是沿类别维：softmax 用错了维度。"
                  "而且 cross_entropy 本来就要 logits（未归一化的分数）；去掉这个 softmax。")
        elif _sigmoid_rows(rows):
            floor = np.log1p((n_classes - 1) / np.e)
            strong = rows.size >= _MANY
            r.add("sigmoid-before-cross-entropy", "warning" if strong else "info",
                  f"every input value lies in [0, 1] but the rows do not sum to 1: these look "
                  f"like sigmoid outputs, and cross_entropy reads them as logits. A logit "
                  f"in [0, 1] cannot make one class much likelier than another, so the loss "
                  f"never gets below log(1 + (C - 1)/e) = {fmt(floor)} for C = {n_classes} "
                  f"(all 1 at the target, 0 elsewhere). Pass the raw logits, without the "
                  f"sigmoid." + ("" if strong else " (Few values: this may be a coincidence.)"),
                  f"input 的每个值都在 [0, 1] 内，但各行之和不为 1：看起来是 sigmoid 的输出，而 "
                  f"cross_entropy 把它们当作 logits（未归一化的分数）。[0, 1] 内的 logit 无法让某个"
                  f"类别的概率远高于其他类别，所以损失永远不会低于 log(1 + (C - 1)/e) = "
                  f"{fmt(floor)}（C = {n_classes}，目标处为 1、其余为 0 时）。请直接传 logits，"
                  f"去掉 sigmoid。" + ("" if strong else "（数值太少，也可能只是巧合。）"))
        elif log_probability_rows(rows, eps).all():
            r.add("log-softmax-before-cross-entropy", "info",
                  "the input rows are log-probabilities (log_softmax output). Harmless: "
                  "log_softmax of log-probabilities changes nothing, so the loss is the same "
                  "as from the logits; the extra log_softmax is redundant.",
                  "input 的每一行都是对数概率（log_softmax 的输出）。这无害：对对数概率再做 "
                  "log_softmax 不会改变任何值，损失与直接用 logits 相同，只是多算了一步。")
        return
    # nll_loss: the input must be log-probabilities.
    if looks_like_probabilities(rows, eps):
        r.add("softmax-to-nll", "warning" if strong else "info",
              "every input row lies in [0, 1] and sums to 1: softmax probabilities, not "
              "log-probabilities. nll_loss just picks and negates, so the loss is -p of the "
              "target class, between -1 and 0. Use log_softmax (or cross_entropy on logits).",
              "input 的每一行都在 [0, 1] 内且和为 1：这是 softmax 概率，而不是对数概率。"
              "nll_loss 只是取出目标位置的值再取负，所以损失是 -p，落在 -1 到 0 之间。"
              "请用 log_softmax（或对 logits 直接用 cross_entropy）。")
        return
    finite_rows = np.isfinite(rows).any(axis=-1) & ~np.isnan(rows).any(axis=-1)
    not_log = finite_rows & ~log_probability_rows(rows, eps)
    if not not_log.any():
        return
    if batched and log_probability_rows(cols, eps).all():
        r.add("log-softmax-wrong-dim", "warning",
              "the input's exp sums to 1 over dim 0 (the batch), not over the classes: "
              "log_softmax ran over the wrong dimension. Use log_softmax(x, dim=1).",
              "input 取 exp 后沿 dim 0（批次维）求和为 1，而不是沿类别维：log_softmax 用错了"
              "维度。请用 log_softmax(x, dim=1)。")
        return
    positive = int((rows > 0).sum())
    r.add("scores-to-nll", "warning",
          f"{int(not_log.sum())} of {rows.shape[0]} input row(s) are not log-probabilities "
          f"({positive} positive entries; a row's exp should sum to 1). nll_loss does not "
          f"normalise: it negates the raw score, so the loss can be negative. Apply "
          f"log_softmax first, or use cross_entropy on the scores.",
          f"input 中有 {int(not_log.sum())}/{rows.shape[0]} 行不是对数概率（有 {positive} 个"
          f"正数；每行取 exp 后应和为 1）。nll_loss 不做归一化，只是把原始分数取负，"
          f"所以损失可以是负数。请先做 log_softmax，或对这些分数直接用 cross_entropy。")


# ---------------------------------------------------------------------------------------
# Element-wise losses: shapes and target dtypes.


def _sigmoid_rows(rows: np.ndarray) -> bool:
    """Every value in [0, 1], at least two classes, and some row not summing to 1."""
    if rows.shape[-1] < 2 or not np.isfinite(rows).all():
        return False
    return bool(rows.min() >= 0 and rows.max() <= 1
                and (rows.max(axis=-1) > rows.min(axis=-1)).any()     # not constant rows
                and (np.abs(rows.sum(axis=-1) - 1) > 1e-2).any())


def _constant_rows(r: Report, name: str, rows: np.ndarray, n_classes: int) -> None:
    """Every row the same (over two or more samples): the output ignores the input."""
    if rows.shape[0] < 2 or n_classes < 2 or not np.isfinite(rows).all():
        return
    if not (rows == rows[0]).all():
        return
    uniform = bool((rows[0] == rows[0, 0]).all())
    value_en = (f"with equal logits in a row every sample's loss is exactly log C = "
                f"{fmt(np.log(n_classes))}" if uniform and name == "cross_entropy" else
                "every sample gets the same prediction")
    value_zh = (f"一行内 logits 全部相等时，每个样本的损失恰好是 log C = {fmt(np.log(n_classes))}"
                if uniform and name == "cross_entropy" else "每个样本得到的预测都一样")
    r.add("constant-logits", "warning",
          f"all {rows.shape[0]} input rows are identical: {value_en}, whatever the sample. "
          f"The model's output does not depend on its input: check that the input reaches "
          f"the model (not zeros, not one repeated sample), that the last layer is not "
          f"zero-initialised and frozen, and that the optimiser updates its parameters.",
          f"input 的全部 {rows.shape[0]} 行完全相同：{value_zh}，与样本无关。模型的输出不依赖"
          f"输入：请检查输入确实送进了模型（不是全零，也不是同一个样本重复），最后一层没有被"
          f"零初始化后冻结，以及优化器确实在更新参数。")
