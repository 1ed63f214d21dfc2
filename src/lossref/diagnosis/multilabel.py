"""multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss."""

from __future__ import annotations

import numpy as np

from ._common import Arr, Report, bool_target, fmt, is_float, same_shape, torch_type

__all__ = ["CHECKS"]


def _shape_error(r: Report, name: str, xs: tuple, ts: tuple, input_en: str,
                 target_en: str) -> None:
    r.add("index-target-shape", "error",
          f"input shape {xs} with target shape {ts}: {name} takes input {input_en} and a "
          f"target of shape {target_en} (torch refuses).",
          f"input 形状为 {xs}，target 形状为 {ts}：{name} 的 input 应为 {input_en}，target "
          f"的形状应为 {target_en}（torch 会拒绝）。")


def _empty_classes(r: Report, name: str, a) -> bool:
    """torch: "Expected non-empty vector or matrix with optional 0-dim batch size"."""
    if not ((a.ndim == 1 and a.size == 0) or (a.ndim == 2 and a.shape[1] == 0)):
        return False
    said = "Expected non-empty vector or matrix with optional 0-dim batch size"
    r.add("input-shape", "error",
          f"input of shape {a.shape} has no classes: torch refuses (\"{said}\").",
          f"input 的形状是 {a.shape}，没有任何类别：torch 会拒绝（\"{said}\"）。")
    return True


def _multilabel_margin(r: Report, name: str, x: Arr, y: Arr, options: dict,
                       reduction: str) -> None:
    if _empty_classes(r, name, x.a):
        return
    a, t = x.a, y.a
    same = t.shape == a.shape if a.ndim == 2 else (t.ndim <= 1 and t.size == a.size)
    if a.ndim > 2 or not same:
        _shape_error(r, name, x.a.shape, y.a.shape, "(C,) or (N, C)",
                     f"the input's, {x.a.shape}: class indices padded with -1"
                     if x.a.ndim in (1, 2) else "the input's")
        return
    t = y.a
    n_classes = x.a.shape[-1] if x.a.ndim else 0
    if t.shape == x.a.shape and n_classes >= 3 and t.size and np.isin(t, (0, 1)).all():
        r.add("multi-hot-to-multilabel-margin", "warning",
              "the target is a 0/1 matrix (multi-hot), but multilabel_margin_loss reads each "
              "row as class indices ended by -1: [0, 1, 1] means classes 0 and 1, not labels "
              "1 and 2. Use multilabel_soft_margin_loss for 0/1 targets, or write the "
              "indices padded with -1.",
              "target 是 0/1 矩阵（多热编码），而 multilabel_margin_loss 把每一行读作以 -1 "
              "结尾的类别索引：[0, 1, 1] 表示类别 0 和 1，而不是标签 1 和 2。0/1 目标请用 "
              "multilabel_soft_margin_loss，或改写成以 -1 补齐的索引。")
        return
    _multilabel_padding(r, x, y)


def _multilabel_soft_margin(r: Report, name: str, x: Arr, y: Arr, options: dict,
                            reduction: str) -> None:
    if x.a.ndim == 0:
        r.add("input-shape", "error",
              f"input is a 0-d array: {name} needs (C,) or (N, C) (torch refuses).",
              f"input 是 0 维数组：{name} 需要形状 (C,) 或 (N, C)（torch 会拒绝）。")
        return
    if bool_target(r, name, y):
        return
    t = y.a.astype(np.float64)
    bad = ~((t >= 0) & (t <= 1))
    if bad.any():
        r.add("bce-target-range", "warning",
              f"{int(bad.sum())} target value(s) outside [0, 1] (e.g. {fmt(t[bad].flat[0])}): "
              f"multilabel_soft_margin_loss is a sigmoid cross-entropy and wants 0/1 targets.",
              f"有 {int(bad.sum())} 个目标值不在 [0, 1] 内（例如 {fmt(t[bad].flat[0])}）："
              f"multilabel_soft_margin_loss 是基于 sigmoid 的交叉熵，目标应为 0/1。")
    same_shape(r, name, x, y, False, reduction)


def _multi_margin(r: Report, name: str, x: Arr, y: Arr, options: dict,
                  reduction: str) -> None:
    p = options.get("p", 1)
    if p not in (1, 2):
        r.add("multi-margin-p", "error",
              f"p={p!r}: torch raises \"only p == 1 and p == 2 supported\" (p is the power "
              f"of each hinge term, not a norm).",
              f"p={p!r}：torch 报错 \"only p == 1 and p == 2 supported\"（p 是每个铰链项的"
              f"幂次，不是范数）。")
    a, t = x.a, y.a
    if _empty_classes(r, name, a):
        return
    # torch: input (), (C,) or (N, C); a target of at most one dimension, one index per sample
    samples = a.shape[0] if a.ndim == 2 else 1
    if a.ndim > 2 or t.ndim > 1 or t.size != samples:
        _shape_error(r, name, a.shape, t.shape, "(C,) or (N, C)",
                     f"({samples},): one class index per sample")
        return
    if a.size == 0 or a.ndim == 0:
        return
    n_classes = a.shape[-1]
    if is_float(y) or (y.typed and y.a.dtype != np.int64):
        if y.typed:
            r.add("non-long-class-indices", "error",
                  f"target has dtype {y.dtype}: multi_margin_loss takes class indices as "
                  f"int64 only (torch: \"expected scalar type Long but found "
                  f"{torch_type(t)}\"). Use target.long().",
                  f"target 的 dtype 是 {y.dtype}：multi_margin_loss 的类别索引只接受 int64"
                  f"（torch 报错 \"expected scalar type Long but found {torch_type(t)}\"）。"
                  f"用 target.long() 转换。")
            return
        if not (np.isfinite(t).all() and np.all(t == np.round(t))):
            return
    idx = t.astype(np.int64).reshape(-1)
    bad = (idx < 0) | (idx >= n_classes)
    if bad.any():
        value = int(idx[bad][0])
        r.add("class-index-out-of-range", "error",
              f"target {value} is outside [0, {n_classes - 1}]: torch raises \"target out of "
              f"range\" ({int(bad.sum())} such target(s)).",
              f"目标 {value} 不在 [0, {n_classes - 1}] 内：torch 报错 \"target out of range\""
              f"（共 {int(bad.sum())} 个这样的目标）。")


def _multilabel_padding(r: Report, x: Arr, y: Arr) -> None:
    """multilabel_margin_loss: labels out of range, and labels after the first -1."""
    a, t = x.a, y.a
    if a.ndim not in (1, 2) or t.shape != a.shape or not t.size or is_float(y) \
            or not np.issubdtype(t.dtype, np.integer):
        return
    n_classes = a.shape[-1]
    bad = (t < -1) | (t >= n_classes)
    if bad.any():
        value = int(t[bad][0])
        r.add("class-index-out-of-range", "error",
              f"target label {value} is outside [0, {n_classes - 1}] (and is not the -1 that "
              f"ends a row): torch raises \"argument #2 'target' is out of range\".",
              f"目标标签 {value} 不在 [0, {n_classes - 1}] 内（也不是结束一行的 -1）："
              f"torch 报错 \"argument #2 'target' is out of range\"。")
        return
    rows = t.reshape(-1, n_classes)
    ended = np.cumsum(rows == -1, axis=1) > 0
    after = ended & (rows != -1)
    if after.any():
        n_rows = int(after.any(axis=1).sum())
        r.add("multilabel-margin-padding", "info",
              f"{n_rows} target row(s) hold labels after the first -1: the first -1 ends the "
              f"row's labels, and the {int(after.sum())} label(s) after it are ignored.",
              f"有 {n_rows} 行目标在第一个 -1 之后还有标签：第一个 -1 就结束了这一行的标签，"
              f"其后的 {int(after.sum())} 个标签都被忽略。")



CHECKS = {"multilabel_margin_loss": _multilabel_margin,
          "multilabel_soft_margin_loss": _multilabel_soft_margin,
          "multi_margin_loss": _multi_margin}
