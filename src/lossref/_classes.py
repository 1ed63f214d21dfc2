"""Class-index targets: the helpers every loss over C classes with integer targets shares.

``cross_entropy`` and ``nll_loss`` (classification.py) and ``linear_cross_entropy``
(vocabulary.py) read their targets, pick the target's entry and weigh it here, one place for
each step (as torch shares ``_nll_loss_backward`` between its callers). Targets are never
expanded to an (N, C) one-hot matrix: a target's entry is read through flat indices.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from . import _reduction
from ._numerics import QUIET
from ._validation import check_class_range

__all__ = ["check_index_target", "class_axis", "class_targets", "flat_index",
           "half_cross_entropy", "half_log_softmax", "half_log_softmax_backward", "half_nll_loss",
           "kept_weights", "negative_log_likelihood", "per_target", "pick", "row_buffer",
           "row_loops", "row_starts", "safe_targets", "targets_below"]


def class_axis(x: np.ndarray, fn: str) -> int:
    """The class dimension: 0 for an unbatched ``(C,)`` input, else 1 in ``(N, C, d1, …, dK)``."""
    if x.ndim < 1:
        raise ValueError(f"{fn}: input must have at least 1 dimension, (C,) or "
                         "(N, C, d1, ..., dK); got a 0-d array")
    return 0 if x.ndim == 1 else 1


def check_index_target(x: np.ndarray, t: np.ndarray, fn: str) -> np.ndarray:
    """Class-index target shape: ``()`` for a ``(C,)`` input, else ``(N, d1, …, dK)``."""
    if x.ndim == 1:
        if t.shape not in ((), (1,)):
            raise ValueError(f"{fn}: an unbatched input of shape {x.shape} takes a single class "
                             f"index as target, got target shape {t.shape}")
        return t.reshape(())
    if t.ndim == 0 or t.shape[0] != x.shape[0]:
        got = t.shape[0] if t.ndim else "a 0-d target"
        raise ValueError(f"{fn}: Expected input batch_size ({x.shape[0]}) to match target "
                         f"batch_size ({got}).")
    expected = (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        raise ValueError(f"{fn}: Expected target shape {expected} for input shape {x.shape}, "
                         f"got {t.shape}")
    return t


def safe_targets(t: np.ndarray, ignore_index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets safe to index with (ignored ones replaced by class 0) and the ignored mask.

    The mask is ``None`` when no target equals ``ignore_index``, so the common case does no
    masking work at all.
    """
    ignored = t == ignore_index
    if not ignored.any():
        return t, None
    return np.where(ignored, 0, t), ignored


def class_targets(t: np.ndarray, n_classes: int, ignore_index: int, fn: str
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`check_class_range`, then :func:`safe_targets`: every target a class in [0, C) or
    ``ignore_index`` (else IndexError), and the targets safe to index with and the ignored mask.

    One ``min`` and one ``max`` settle the usual case: when every target lies in [0, C) and
    ``ignore_index`` lies outside [min, max] (the default -100 always does), no target can be
    ignored, and neither the range check's masks nor the ``t == ignore_index`` pass are needed
    (a few microseconds of a ``nll_loss`` call that takes twenty).
    """
    if t.size:
        lo, hi = t.min(), t.max()
        if 0 <= lo and hi < n_classes and not lo <= ignore_index <= hi:
            return t, None
    check_class_range(t, n_classes, ignore_index, fn)
    return safe_targets(t, ignore_index)


def targets_below(t: np.ndarray, c: int) -> bool:
    """Every target of a non-empty int64 array lies in [0, c): viewed as uint64 a negative
    target is above 2⁶³, so the largest one must be below ``c``. Its position by ``argmax``
    and one read, the same test as ``max``: an ndarray method, where the ufunc reduction
    costs ~1.3 µs more a call (2.0 against 0.7 µs at 100 targets; equal from 10⁵ on)."""
    u = t.view(np.uint64)
    return bool(u[u.argmax()] < c)


def row_starts(n: int, step: int) -> np.ndarray:
    """``[0, step, 2·step, …]``, the flat start of each of ``n`` samples: read-only, and kept
    for the last few batch shapes up to 65536 samples (a ``nll_loss`` call spends a tenth of
    its time rebuilding it otherwise; a larger batch's gather dwarfs the ``arange``)."""
    return _cached_row_starts(n, step) if n <= 1 << 16 else _new_row_starts(n, step)


def _new_row_starts(n: int, step: int) -> np.ndarray:
    starts = np.arange(0, n * step, step, dtype=np.intp)
    starts.flags.writeable = False
    return starts


_cached_row_starts = lru_cache(maxsize=8)(_new_row_starts)


def flat_index(t: np.ndarray, shape: tuple) -> np.ndarray:
    """Flat positions of ``[n, t[n, d], d]`` in a C-contiguous ``(N, C, D)`` array."""
    n, c, d = shape
    if c * d == 0:                               # no targets per sample: (N, C, 0) input
        return np.zeros((n, d), np.intp)
    index = row_starts(n, c * d).reshape(n, 1)               # each sample's start
    if d == 1:                                   # (N, C): + the class
        return index + (t if t.dtype == np.intp else t.astype(np.intp))  # checked: exact
    index = index + np.multiply(t, d, dtype=np.intp)         # + the class offset in a sample
    index += np.arange(d)                                    # + the position
    return index


def pick(x3: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``x3[n, t[n, d], d]`` for every sample n and position d of an ``(N, C, D)`` array.

    Flat indexing into the input: one value per target, no (N, C) one-hot matrix.
    """
    return np.take(x3, flat_index(t, x3.shape))


def negative_log_likelihood(log_p_t: np.ndarray, t: np.ndarray, ignored: np.ndarray | None,
                             w: np.ndarray | None):
    """Per-target ``-w[t] * log_p_t`` (0 where ignored) and the mean's denominator.

    ``log_p_t`` holds the log-probability of each target class, ``t`` the (safe) targets.
    The denominator is the sum of the weights of the non-ignored targets (their count
    without ``weight``).
    """
    loss = np.negative(log_p_t)
    target_w, weight_sum = kept_weights(t, ignored, w, loss.dtype)
    if target_w is not None:
        with np.errstate(**QUIET):     # an ignored ±inf times its weight 0
            loss *= target_w
    if ignored is not None:
        loss[ignored] = 0
    return loss, weight_sum


def kept_weights(t: np.ndarray, ignored: np.ndarray | None, w: np.ndarray | None, dtype):
    """The weight ``w[t]`` of each target (0 where ignored; ``None`` without ``weight``) and
    the mean's denominator: their sum, or the count of non-ignored targets without ``weight``."""
    if w is None:
        kept = t.size if ignored is None else np.count_nonzero(~ignored)
        return None, np.dtype(dtype).type(kept)
    target_w = w[t]
    if ignored is not None:
        target_w[ignored] = 0
    return target_w, target_w.sum(dtype=dtype)


def row_buffer(x3: np.ndarray) -> int | None:
    """The buffer size :func:`row_loops` sets for ``x3``, or ``None`` where it leaves NumPy's."""
    _, c, d = x3.shape
    run = c if d == 1 else d                 # the contiguous run of a row-wise operation
    # rows of 8192 and more are not buffered anyway; below ~256 elements a call per row costs
    # more than the copies (C = 100: 2.7x slower forward, measured), so those stay buffered
    if run >= 8192 or run < 256:
        return None
    return run // 16 * 16                    # setbufsize takes multiples of 16


@contextmanager
def row_loops(x3: np.ndarray):
    """Let NumPy's ufuncs run an ``(N, C, D)`` block a row at a time instead of through buffers.

    ``x - max`` with one max per sample (and ``p · scale`` with one scale per sample) cannot be
    flattened into one loop, and NumPy's ufuncs then copy it through buffers of 8192 elements
    when a row is shorter than that (C = 512 classes: rows of 512): the subtraction took 3×
    as long as the same subtraction by one number. With the buffer no longer than a row, each
    row is one call of NumPy's vectorised loop: about twice as fast for rows of 256 to 8191
    elements (shorter rows stay buffered), and the same numbers
    (buffering changes how a loop is cut into pieces, not the arithmetic; the sums over the
    classes are ``einsum``'s, which does not read this setting). Only elementwise work and max
    reductions may run inside; a ``sum`` reads the setting, so reductions stay outside.
    """
    size = row_buffer(x3)
    if size is None:
        yield
        return
    old = np.setbufsize(size)
    try:
        yield
    finally:
        np.setbufsize(old)


def per_target(loss: np.ndarray, shape: tuple):
    """Per-target values in the target's shape (a NumPy scalar for an unbatched input)."""
    return loss.reshape(shape)[()]


# --- float16 / bfloat16: torch's composition, op by op -----------------------------------------
# torch's cross_entropy is log_softmax, then nll_loss (and, with label smoothing, a few tensor
# ops), each a separate CPU kernel: log_softmax computes in float32 and rounds its output to the
# half dtype once; every later elementwise op rounds its result to the half dtype; each tensor
# sum accumulates in float32 and rounds once (but nll_loss's own 'sum'/'mean' accumulates in
# the half dtype: see its cascade at the end of this file). That is why bfloat16 logits can
# print 6.906 where float32 gives 6.920: the log-probabilities themselves are rounded to
# bfloat16's step. The functions below take the logits as (N, C, D) and replay those kernels
# with NumPy's half arithmetic (each float16/bfloat16 op is computed exactly and rounded once,
# as torch's).


def _to(value, dtype):
    """``value`` (computed in float32) rounded once to ``dtype``."""
    return np.asarray(value, np.float32).astype(dtype)


def half_log_softmax(x3: np.ndarray, lastdim: bool) -> np.ndarray:
    """torch's CPU ``log_softmax`` over the classes for a half dtype, whose two kernels round
    differently (matched against torch 2.13 element by element):

    - classes on the input's last axis (``(C,)``, ``(N, C)``: ``lastdim``): ``x - max`` and
      the exponentials in float32, but the sum Σ e^(x - max) and its log each stored in the
      half dtype, then ``(x - max) - log_sum`` in float32, rounded;
    - classes on an inner axis (``(N, C, d1, …)``): all in float32, rounded once.
    """
    h = x3.dtype
    x = x3.astype(np.float32)
    with np.errstate(**QUIET):
        shifted = x - np.max(x, axis=1, keepdims=True, initial=-np.inf)
        sums = np.exp(shifted).sum(axis=1, keepdims=True)
        if lastdim:
            sums = sums.astype(h).astype(np.float32)
        log_sum = np.log(sums)
        if lastdim:
            log_sum = log_sum.astype(h).astype(np.float32)
        return (shifted - log_sum).astype(h)


def half_log_softmax_backward(log_p: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """torch's CPU ``log_softmax`` backward for a half dtype: ``g - exp(out) Σ_c g`` in float32
    from the rounded output and incoming gradient, rounded once."""
    g = grad.astype(np.float32)
    with np.errstate(**QUIET):
        out = np.exp(log_p.astype(np.float32))
        out *= g.sum(axis=1, keepdims=True)
        np.subtract(g, out, out=out)
    return out.astype(log_p.dtype)


def half_cross_entropy(x3, t2, w, ignore_index, reduction, eps, loss_shape, lastdim, y3=None,
                       grad_output=None, grad=False):
    """cross_entropy of half-dtype logits ``x3`` (N, C, D), as torch composes it; with
    ``grad=True``, the gradient with respect to ``x3`` instead.

    ``t2`` (N, D) class indices, or ``y3`` (N, C, D) class probabilities (then ``t2`` is None);
    ``lastdim``: the classes are the last axis of the caller's input (see half_log_softmax).
    """
    h = x3.dtype
    n, c, d = x3.shape
    log_p = half_log_softmax(x3, lastdim)
    go = np.ones(loss_shape if reduction == "none" else (), h) if grad_output is None \
        else np.asarray(grad_output).astype(h)
    with np.errstate(**QUIET):
        if y3 is not None:
            return _half_probabilities(log_p, y3, w, reduction, eps, loss_shape, go, grad)
        safe_t, ignored = safe_targets(t2, ignore_index)
        if not grad:
            loss, weight_sum = negative_log_likelihood(pick(log_p, safe_t), safe_t, ignored, w)
            weight_sum = _smoothing_denominator(safe_t, ignored, w, weight_sum)
            nll = per_target(loss, loss_shape) if reduction == "none" else \
                half_nll_reduce(loss, ignored, None if w is None else w[safe_t], reduction)[0]
            if eps == 0.0:
                return nll
            prod = log_p if w is None else log_p * w[:, None]
            smooth = -(prod.sum(axis=1, dtype=np.float32).astype(h))          # (N, D)
            if ignored is not None:
                smooth[ignored] = 0
            if reduction == "none":
                ret = per_target(smooth, loss_shape)
            else:
                ret = _to(smooth.sum(dtype=np.float32), h)
                if reduction == "mean":
                    ret = _to(np.float32(ret) / np.float32(weight_sum), h)
            return (_to(np.float32(1 - eps) * np.asarray(nll, np.float32), h)
                    + _to(np.asarray(ret, np.float32) * np.float32(eps / c), h))[()]
        # the gradient with respect to log p: nll_loss's backward, then the smoothing term's
        target_w, weight_sum = kept_weights(safe_t, ignored, w, h)
        weight_sum = _smoothing_denominator(safe_t, ignored, w, weight_sum)
        go_nll = go if eps == 0.0 else _to(np.float32(1 - eps) * go.astype(np.float32), h)
        nll_weight = half_total_weight(ignored, target_w, n * d, h.type) \
            if reduction == "mean" else None                 # nll_loss's own total_weight
        g = _reduction.reduce_grad(go_nll, loss_shape, h, reduction, nll_weight)
        g = np.array(np.broadcast_to(g, loss_shape), h).reshape(n, d)
        if ignored is not None:
            g[ignored] = 0
        g_t = g if target_w is None else g * target_w
        grad_log_p = np.zeros(x3.shape, h)
        kept = slice(None) if ignored is None else ~ignored
        grad_log_p.reshape(-1)[flat_index(safe_t, x3.shape)[kept]] = -g_t[kept]
        if eps > 0.0:
            gs = _to(go.astype(np.float32) * np.float32(eps / c), h)
            if reduction == "mean":
                gs = _to(np.float32(gs) / np.float32(weight_sum), h)
            gs = np.array(np.broadcast_to(gs, loss_shape), h).reshape(n, 1, d)
            if ignored is not None:
                gs[ignored[:, None, :]] = 0
            g_smooth = -gs if w is None else -(gs * w[:, None])
            grad_log_p += g_smooth
        return half_log_softmax_backward(log_p, grad_log_p)


def _smoothing_denominator(safe_t, ignored, w, count):
    """The smoothing term's 'mean' denominator: the kept count rounded to the dtype, or
    ``weight.gather(kept targets).sum()``, a tensor sum (float32, rounded once), not
    nll_loss's cascade."""
    if w is None:
        return count
    target_w = w[safe_t] if ignored is None else np.where(ignored, 0, w[safe_t])
    return _to(target_w.sum(dtype=np.float32), w.dtype)[()]


def _half_probabilities(log_p, y3, w, reduction, eps, loss_shape, go, grad):
    """Probability targets: ``-(log_p · y · w).sum(...)``, torch's ops in order."""
    h = log_p.dtype
    n, c, d = log_p.shape
    y = y3.astype(h)
    if eps > 0.0:
        y = _to(_to(y.astype(np.float32) * np.float32(1 - eps), h).astype(np.float32)
                + np.float32(eps / c), h)
    count = n * d                                     # input.numel() / C
    if not grad:
        prod = log_p * y
        if w is not None:
            prod = prod * w[:, None]
        if reduction == "none":
            return per_target(-(prod.sum(axis=1, dtype=np.float32).astype(h)), loss_shape)
        total = -_to(prod.sum(dtype=np.float32), h)
        if reduction == "sum":
            return total[()]
        return _to(np.float32(total) / np.float32(count), h)[()]
    g = go if reduction != "mean" else _to(go.astype(np.float32) / np.float32(count), h)
    g = -np.array(np.broadcast_to(g, loss_shape), h).reshape(n, 1, d)
    g = g if w is None else g * w[:, None]
    return half_log_softmax_backward(log_p, g * y)


# --- float16 / bfloat16: nll_loss's cascade sum, in the dtype ----------------------------------
# torch's CPU nll_loss kernels (LossNLL.cpp ``nll_loss_out_frame`` for (C,)/(N, C) inputs,
# LossNLL2d.cpp ``nll_loss2d_forward_out_frame`` for (N, C, d1, …), which ``nll_loss_nd`` views
# as (N, C, 1, D)) do not sum in float32: they accumulate in the half dtype itself, every
# ``+=``/``-=`` rounded, over the M = N·D targets in C order with a CASCADE of 8 partial sums.
# Level 0 takes ``-= x·w`` for each kept target i; when i's low ``p`` bits are all zero
# (p = max(4, ceil_log2(M) // 8): p = 4, groups of 16), level 0 is added into level 1 and
# cleared, and if the next ``p`` bits are zero too, level 1 into level 2, and so on (i = 0
# flushes all the way to level 7). An ignored target ``continue``s before that flush, so its
# group boundary is skipped. The result is Σ over the levels 0..7 in order, from 0, in the
# dtype; the denominator is the count of kept targets ROUNDED to the dtype (2049 is 2048 in
# float16) or, with ``weight``, the same cascade over w[t]. The backward divides by that same
# rounded total. Each level is a run of sequential rounded additions closed at known
# positions, so it is computed a run length at a time (``_run_sums``), not target by target.


def _run_sums(values: np.ndarray, ends: np.ndarray):
    """Sums of ``values`` in their own dtype, each added in order to a running total that
    starts at 0 and is rounded after every addition: one sum per run closed by ``ends`` (a
    run starts after the previous end and includes its end) and the sum of the open run after
    the last end. Runs of one length are summed together, one column at a time
    (``np.add.accumulate`` rounds after each addition, as torch's ``+=`` does)."""
    h = values.dtype
    closed = np.flatnonzero(ends)
    starts = np.concatenate(([0], closed + 1))
    lengths = np.concatenate((closed + 1, [values.size])) - starts
    sums = np.zeros(starts.size, h)
    for length in np.unique(lengths):
        if length == 0:
            continue
        rows = np.flatnonzero(lengths == length)
        block = np.zeros((rows.size, length + 1), h)            # column 0: the total's 0
        block[:, 1:] = values[starts[rows, None] + np.arange(length)]
        sums[rows] = np.add.accumulate(block, axis=1)[:, -1]
    return sums[:-1], sums[-1]


def _cascade_sum(values: np.ndarray, index: np.ndarray, m: int):
    """torch's nll_loss cascade sum of ``values`` (one per kept target, in order) found at
    linear positions ``index`` among ``m`` targets, in ``values``' dtype (see above)."""
    h = values.dtype
    power = max(4, (1 if m <= 2 else (m - 1).bit_length()) // 8)    # utils::CeilLog2
    mask = (1 << power) - 1
    # depth: how many levels a target flushes (its low groups of ``power`` zero bits, ≤ 7)
    depth = np.zeros(index.shape, np.int64)
    zero, rest = np.ones(index.shape, bool), index.astype(np.int64)
    for _ in range(7):
        zero &= (rest & mask) == 0
        depth += zero
        rest = rest >> power
    partial = []                          # what stays in levels 0..6 at the end
    for level in range(7):
        ends = depth > level
        values, left = _run_sums(values, ends)
        partial.append(left)
        depth = depth[ends]
    partial.append(_run_sums(values, np.zeros(values.shape, bool))[1])   # level 7
    return np.add.accumulate(np.array([0, *partial], h))[-1]


def half_total_weight(ignored: np.ndarray | None, target_w: np.ndarray | None, m: int, h):
    """torch's nll_loss ``total_weight`` in the half dtype ``h`` for ``m`` targets: the count
    of kept targets rounded to ``h``, or the cascade sum of their weights ``target_w``."""
    kept = np.arange(m) if ignored is None else np.flatnonzero(~ignored.reshape(-1))
    with np.errstate(**QUIET):          # a float16 count past 65504 is inf, as torch's
        if target_w is None:
            return np.dtype(h).type(kept.size)
        return _cascade_sum(target_w.reshape(-1)[kept], kept, m) if kept.size else h(0)


def half_nll_totals(loss: np.ndarray, ignored: np.ndarray | None, target_w: np.ndarray | None):
    """torch's nll_loss reduction of the per-target losses ``loss`` (N, D) (``-w[t] x_t``, in
    the half dtype): their cascade sum and the mean's denominator ``total_weight``."""
    h = loss.dtype.type
    m = loss.size
    kept = np.arange(m) if ignored is None else np.flatnonzero(~ignored.reshape(-1))
    with np.errstate(**QUIET):
        total = _cascade_sum(loss.reshape(-1)[kept], kept, m) if kept.size else h(0)
    return total, half_total_weight(ignored, target_w, m, h)


def half_nll_reduce(loss: np.ndarray, ignored, target_w, reduction: str):
    """``nll_loss`` 'sum' or 'mean' of half-dtype per-target losses (N, D), as torch's kernel
    reduces them (:func:`half_nll_totals`); and the ``total_weight`` its backward divides by."""
    total, total_weight = half_nll_totals(loss, ignored, target_w)
    if reduction == "mean":
        with np.errstate(**QUIET):          # 0 / 0 when every target is ignored: nan
            total = np.array([total], loss.dtype) / np.array([total_weight], loss.dtype)
        total = total[0]
    return total, total_weight


def half_nll_loss(x3, t2, w, ignore_index, reduction, loss_shape, grad_output=None,
                  grad=False):
    """``nll_loss`` of half-dtype log-probabilities ``x3`` (N, C, D) with targets ``t2``
    (N, D), torch's kernel op by op; with ``grad=True`` the gradient instead: ``-w[t] g``
    at each kept target with ``g = grad_output / total_weight`` for 'mean', rounded."""
    h = x3.dtype
    safe_t, ignored = safe_targets(t2, ignore_index)
    if not grad:
        with np.errstate(**QUIET):      # its count, unused here, may pass float16's 65504
            loss, _ = negative_log_likelihood(pick(x3, safe_t), safe_t, ignored, w)
        if reduction == "none":
            return per_target(loss, loss_shape)
        return half_nll_reduce(loss, ignored, None if w is None else w[safe_t], reduction)[0]
    target_w = None if w is None else w[safe_t]
    total_weight = None
    if reduction == "mean":
        total_weight = half_total_weight(ignored, target_w, t2.size, h.type)
    g = _reduction.reduce_grad(grad_output, loss_shape, h, reduction, total_weight)
    g = np.array(np.broadcast_to(g, loss_shape), h).reshape(t2.shape)
    with np.errstate(**QUIET):
        g_t = -g if target_w is None else target_w * -g
    out = np.zeros(x3.shape, h)
    kept = slice(None) if ignored is None else ~ignored
    out.reshape(-1)[flat_index(safe_t, x3.shape)[kept]] = g_t[kept]
    return out
