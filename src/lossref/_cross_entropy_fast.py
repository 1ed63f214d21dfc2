"""The fast paths of ``cross_entropy`` (split out of ``classification.py`` for length).

For the usual calls — (N, C) C-contiguous float32/float64 logits with int64 class targets, with
or without weight, label smoothing and ignored targets, or with class probabilities —
``classification.cross_entropy`` and its gradient come here first: the general path's own
operations on the same numbers, without its checks and block set-up (issue 29: a (1, 1000)
call went from ~100 µs to ~25). Each ``_*_call`` says which calls qualify; anything else, and
any target out of range (the entry points answer ``None``), takes the general path, which
raises what it raises. tests/test_fast_cls.py checks each against the general path, bit for
bit, and against torch.
"""

from __future__ import annotations

import math

import numpy as np

from ._classes import (
    kept_weights,
    row_buffer,
    row_loops,
    row_starts,
    targets_below,
)
from ._numerics import (
    BLOCK_BYTES,
    FEW_CLASSES,
    QUIET,
    _blocks,
    few_classes_log_norm,
    log_p_class_sums,
    log_softmax_sums,
    one_block_class_sums,
    one_block_softmax,
    softmax_into,
)

_FLOAT32, _FLOAT64, _INT64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
#: ``a.sum()`` of a 1-d array is this ufunc reduction, called through a Python wrapper that
#: costs ~0.5 µs: the fast paths call it directly (same numbers).
_sum = np.add.reduce


def _plain_call(x, t, ignore_index, label_smoothing=0.0) -> bool:
    """The usual ``cross_entropy`` call, which :func:`_common_cross_entropy` serves: (N, C)
    C-contiguous float32/float64 logits, (N,) int64 targets every one a class (N > 0), an
    ``ignore_index`` that is no class, no smoothing (the caller checks ``weight``).

    Identity and ``type`` tests only (``np.issubdtype`` and the checks' messages cost more than
    a small call's arithmetic); a negative target viewed as uint64 is above 2⁶³, so one
    ``max < C`` settles the range. Anything else goes the general way, which checks, ignores
    and raises as torch does.
    """
    if not (type(x) is np.ndarray and type(t) is np.ndarray and x.ndim == 2 and t.ndim == 1
            and (x.dtype is _FLOAT32 or x.dtype is _FLOAT64) and t.dtype is _INT64
            and type(ignore_index) is int and x.flags.c_contiguous
            and (label_smoothing == 0.0 and type(label_smoothing) in (float, int))):
        return False
    n, c = x.shape
    return 0 < n == t.shape[0] and not 0 <= ignore_index < c and targets_below(t, c)


#: Up to this many elements a ufunc runs through one buffer (NumPy's 8192) whatever row_loops
#: sets, so the fast paths skip its two setbufsize calls (3 µs of a 15 µs call).
_ONE_BUFFER = 8192


def _one_block(x3: np.ndarray) -> bool:
    """True when ``log_softmax_sums`` / ``softmax_into`` under ``row_loops`` would run
    ``one_block_softmax`` with the buffer it has: one block, and row_loops changing nothing
    or nothing that matters (one buffer either way)."""
    return x3.nbytes <= BLOCK_BYTES and (x3.size <= _ONE_BUFFER or row_buffer(x3) is None)


def _log_norm(x3: np.ndarray):
    """The forward's ``m`` and ``log_norm`` of ``cross_entropy`` without smoothing or ``weight``
    (as the general path computes them: see cross_entropy)."""
    if x3.shape[2] == 1 and 1 < x3.shape[1] < FEW_CLASSES:
        return few_classes_log_norm(x3)
    if _one_block(x3):
        return one_block_softmax(x3)
    with row_loops(x3):
        return log_softmax_sums(x3)[:2]


def _negated_total(log_p_t: np.ndarray, reduction: str):
    """The reduced ``-log_p_t`` of N targets, none ignored, no weight: what
    ``_reduction.reduce`` makes of ``negative_log_likelihood``, in place of ``log_p_t``.

    Σ(-a) is -Σa bit for bit (each rounding is symmetric), which saves negating every entry,
    except for the sign of a zero or a nan: those (and infinities) are summed the formula's way.
    """
    if reduction == "none":
        return np.negative(log_p_t, out=log_p_t)
    total = _sum(log_p_t)
    total = -total if total and math.isfinite(total) else _sum(np.negative(log_p_t, out=log_p_t))
    return total if reduction == "sum" else total / log_p_t.dtype.type(log_p_t.shape[0])


@np.errstate(**QUIET)           # inf - inf for ±inf logits: nan, as in PyTorch
def _common_cross_entropy(x: np.ndarray, t: np.ndarray, reduction: str):
    """``cross_entropy`` of a :func:`_plain_call`: the general path's numbers (the same
    max, log-normaliser, gather and sum) without its checks and masks, which cost 80 µs of a
    call torch makes in 8 µs at (1, 1000)."""
    n, c = x.shape
    m, log_norm = _log_norm(x.reshape(n, c, 1))
    log_p_t = np.subtract(x.ravel().take(row_starts(n, c) + t), m.reshape(n))
    log_p_t -= log_norm.reshape(n)              # PyTorch's order: (x_t - m) - log_norm
    return _negated_total(log_p_t, reduction)


@np.errstate(**QUIET)
def _common_cross_entropy_grad(x: np.ndarray, t: np.ndarray, reduction: str,
                               return_loss: bool):
    """``cross_entropy_grad`` of a :func:`_plain_call` with ``grad_output=None``: the numbers
    of ``_index_target_grad`` (upstream gradient 1, or 1/N for the mean, the same for every
    sample, so one number instead of an (N,) array), and the loss from the same softmax."""
    n, c = x.shape
    x3 = x.reshape(n, c, 1)
    dtype = x.dtype.type
    g = dtype(1) / dtype(n) if reduction == "mean" else dtype(1)
    grad = np.empty(x3.shape, x.dtype)
    if _one_block(x3):
        m, log_norm = one_block_softmax(x3, g, grad)    # g p_c
    else:
        with row_loops(x3):
            m, log_norm = softmax_into(x3, g, grad)
    grad = grad.reshape(n, c)
    index = row_starts(n, c) + t
    grad.ravel()[index] -= g                             # - g at the target
    if not return_loss:
        return grad
    log_p_t = np.subtract(x.ravel().take(index), m.reshape(n))
    log_p_t -= log_norm.reshape(n)
    return _negated_total(log_p_t, reduction), grad


def _class_call(x, t, weight, ignore_index, label_smoothing) -> bool:
    """A class-index ``cross_entropy`` call with the options :func:`_plain_call` leaves out,
    which :func:`_common_class_cross_entropy` serves: (N, C) C-contiguous float32/float64
    logits, (N,) int64 targets (N > 0; their range is :func:`_class_targets`' to check), no
    ``weight`` or a (C,) array of the logits' dtype, any int64 ``ignore_index`` and a float
    ``label_smoothing`` in [0, 1]. The same identity and ``type`` tests as ``_plain_call``;
    anything else (a list, a weight to cast, a bool option, a value to refuse) goes the
    general way, which converts, checks and raises.
    """
    if not (type(x) is np.ndarray and type(t) is np.ndarray and x.ndim == 2 and t.ndim == 1
            and (x.dtype is _FLOAT32 or x.dtype is _FLOAT64) and t.dtype is _INT64
            and x.flags.c_contiguous and type(ignore_index) is int
            and -_INT64_END <= ignore_index < _INT64_END
            and type(label_smoothing) in (float, int) and 0.0 <= label_smoothing <= 1.0):
        return False
    n, c = x.shape
    return 0 < n == t.shape[0] and (weight is None or (
        type(weight) is np.ndarray and weight.dtype is x.dtype and weight.shape == (c,)))


_INT64_END = 1 << 63


def _class_targets(t: np.ndarray, c: int, ignore_index: int):
    """``class_targets``' ``(safe_t, ignored)`` of (N,) int64 targets, or ``None`` where it
    would raise (a target neither a class nor ``ignore_index``): the general path raises then.

    Viewed as uint64 a negative target is above 2⁶³, so one ``max < C`` checks the range;
    the mask is built only when ``ignore_index`` may match a target.
    """
    in_range = c > 0 and targets_below(t, c)
    if in_range and not 0 <= ignore_index < c:
        return t, None
    ignored = t == ignore_index
    if not ignored.any():
        return (t, None) if in_range else None
    safe_t = np.where(ignored, 0, t)
    return (safe_t, ignored) if targets_below(safe_t, c) else None


def _weighted_class_targets(x, t, w, ignore_index: int):
    """``(safe_t, ignored, target_w, weight_sum)`` of a :func:`_class_call`, or ``None`` when a
    target is out of range (the general path raises): :func:`_class_targets`, then
    ``kept_weights`` — outside any error state, as in the general path, where an overflowing
    Σ w[t] warns."""
    targets = _class_targets(t, x.shape[1], ignore_index)
    if targets is None:
        return None
    safe_t, ignored = targets
    return (safe_t, ignored, *kept_weights(safe_t, ignored, w, x.dtype))


def _common_class_cross_entropy(x, t, w, ignore_index: int, eps: float, reduction: str):
    """``cross_entropy`` of a :func:`_class_call` (weight, smoothing, ignored targets), or
    ``None`` when a target is out of range (the general path raises): the general path's
    numbers (``_index_loss``'s steps on the same log-softmax) without its checks, without
    ``row_loops`` and the block set-up where one buffer holds the input, and under one error
    state instead of six (1 × 1000 with weight, smoothing and ignore_index: 91 -> 40 µs,
    torch 34; 10 × 1000: 123 -> 73, torch 48; measured in one process)."""
    targets = _weighted_class_targets(x, t, w, ignore_index)
    if targets is None:
        return None
    safe_t, ignored, target_w, weight_sum = targets
    return _class_loss(x, safe_t, ignored, w, target_w, weight_sum, eps, reduction)


@np.errstate(**QUIET)           # inf - inf, 0 · inf, an overflowing sum: nan/inf, as torch
def _class_loss(x, safe_t, ignored, w, target_w, weight_sum, eps: float, reduction: str):
    """The reduced ``(1 - eps) · nll + eps/C · Σ_c -w_c log p_c`` of (N, C) logits, as
    ``_index_loss`` forms it: ``(x_t - m) - log_norm``, times ``w[t]``, 0 where ignored."""
    n, c = x.shape
    x3 = x.reshape(n, c, 1)
    if eps == 0.0:
        (m, log_norm), smooth = _log_norm(x3), None
    elif _one_block(x3):
        m, log_norm, smooth = one_block_class_sums(x3, w=w)
    else:
        with row_loops(x3):
            m, log_norm, smooth = log_softmax_sums(x3, w=w, class_sums=True)
    return _class_loss_from(x, safe_t, ignored, target_w, weight_sum, eps, reduction,
                            m, log_norm, smooth)


def _class_loss_from(x, safe_t, ignored, target_w, weight_sum, eps: float, reduction: str,
                     m, log_norm, smooth):
    """:func:`_class_loss` from the log-softmax's ``m``, ``log_norm`` and, with smoothing,
    the class sums ``Σ_c w_c log p_c`` (``smooth``, negated in place), under ``QUIET``."""
    n, c = x.shape
    log_p_t = np.subtract(x.ravel().take(row_starts(n, c) + safe_t), m.reshape(n))
    log_p_t -= log_norm.reshape(n)
    loss = np.negative(log_p_t, out=log_p_t)
    if target_w is not None:
        loss *= target_w
    if ignored is not None:
        loss[ignored] = 0
    nll = _reduced(loss, reduction, weight_sum)
    if eps == 0.0:
        return nll
    smooth = np.negative(smooth.reshape(n), out=smooth.reshape(n))
    if ignored is not None:
        smooth[ignored] = 0
    dtype = x.dtype.type
    return dtype(1 - eps) * nll + _reduced(smooth, reduction, weight_sum) * dtype(eps / c)


def _common_class_cross_entropy_grad(x, t, w, ignore_index: int, eps: float, reduction: str,
                                     return_loss: bool):
    """``cross_entropy_grad`` of a :func:`_class_call` with ``grad_output=None``, or ``None``
    when a target is out of range: ``_index_target_grad``'s numbers with the upstream gradient
    as one number where every sample has the same (no target ignored, a 'mean' or 'sum'),
    and with smoothing the loss from the gradient's softmax (its ``m`` and ``log_norm``, the
    forward's numbers) instead of a second forward."""
    targets = _weighted_class_targets(x, t, w, ignore_index)
    if targets is None:
        return None
    safe_t, ignored, target_w, weight_sum = targets
    return _class_grad(x, safe_t, ignored, w, target_w, weight_sum, eps, reduction,
                       return_loss)


@np.errstate(**QUIET)
def _class_grad(x, safe_t, ignored, w, target_w, weight_sum, eps: float, reduction: str,
                return_loss: bool):
    """See :func:`_index_target_grad` for the formula and the order of its roundings."""
    n, c = x.shape
    x3 = x.reshape(n, c, 1)
    dtype = x.dtype.type
    if reduction == "none":                 # reduce_grad's upstream gradient of each sample
        g = np.ones(n, x.dtype)
    else:
        g = dtype(1) / weight_sum if reduction == "mean" else dtype(1)
    index = row_starts(n, c) + safe_t
    if ignored is not None:
        g = np.where(ignored, dtype(0), g)
        kept = ~ignored
        index = index[kept]
    g_t = g if target_w is None else g * target_w           # upstream · w[t_n]
    at_target = g_t if ignored is None else g_t[kept]
    keep = dtype(1 - eps)
    sg = dtype(eps / c) * g                                 # eps/C · g_n
    total_w = dtype(c) if w is None else w.sum(dtype=x.dtype)
    scale = g_t if eps == 0.0 else keep * g_t + sg * total_w
    if isinstance(scale, np.ndarray):
        scale = scale.reshape(n, 1, 1)
    grad = np.empty(x3.shape, x.dtype)
    if _one_block(x3):
        m, log_norm = one_block_softmax(x3, scale, grad)
    else:
        with row_loops(x3):
            m, log_norm = softmax_into(x3, scale, grad)
    flat = grad.reshape(-1)
    if eps == 0.0:
        flat[index] -= at_target                            # - w[t_n] g_n at the target
    else:
        sg_t = sg if ignored is None else sg[kept]
        if w is not None:
            sg_t = sg_t * (target_w if ignored is None else target_w[kept])
        target_grad = flat[index] - (keep * at_target + sg_t)
        if w is None:
            grad -= sg if np.ndim(sg) == 0 else sg.reshape(n, 1, 1)
        elif np.ndim(sg) == 0:                  # the same g_n · w_c for every sample
            grad -= (sg * w)[:, None]
        else:                                   # a block of samples at a time: no (N, C) temp
            sg3 = sg.reshape(n, 1, 1)
            for rows in _blocks(x3)[0]:
                grad[rows] -= sg3[rows] * w[:, None]
        flat[index] = target_grad
    grad = grad.reshape(n, c)
    if not return_loss:
        return grad
    smooth = None
    if eps > 0.0:
        with row_loops(x3):
            smooth = log_p_class_sums(x3, m, log_norm, w=w)
    return _class_loss_from(x, safe_t, ignored, target_w, weight_sum, eps, reduction,
                            m, log_norm, smooth), grad


def _reduced(loss: np.ndarray, reduction: str, weight_sum):
    """``_reduction.reduce`` of a float32/float64 (N,) loss, called under ``QUIET``."""
    if reduction == "none":
        return loss
    total = _sum(loss)
    return total if reduction == "sum" else total / weight_sum


def _probability_call(x, y, weight, ignore_index, label_smoothing) -> bool:
    """A ``cross_entropy`` call with class probabilities, which
    :func:`_common_probability_cross_entropy` serves: (N, C) C-contiguous float32/float64
    logits (N, C > 0), a C-contiguous target of the same shape and dtype, no ``weight`` or
    a (C,) array of that dtype, a negative int ``ignore_index`` and a float
    ``label_smoothing`` in [0, 1]. Anything else goes the general way, which converts,
    checks and raises.
    """
    return (type(x) is np.ndarray and type(y) is np.ndarray and x.ndim == 2
            and (x.dtype is _FLOAT32 or x.dtype is _FLOAT64) and y.dtype is x.dtype
            and x.shape == y.shape and x.size > 0 and x.flags.c_contiguous
            and y.flags.c_contiguous        # the general path's Σ_k w_k y_k sums a copy
            and type(ignore_index) is int and ignore_index < 0
            and type(label_smoothing) in (float, int) and 0.0 <= label_smoothing <= 1.0
            and (weight is None or (type(weight) is np.ndarray and weight.dtype is x.dtype
                                    and weight.shape == (x.shape[1],))))


def _common_probability_cross_entropy(x, y, w, eps: float, reduction: str):
    """``cross_entropy`` of a :func:`_probability_call`: ``_cross_entropy_probabilities``'
    numbers (the same smoothing, log-softmax class sums and mean over N) without its checks,
    the log-softmax without the block set-up on one block, and rows by ``row_loops`` (the
    general path's ``x - max`` goes through NumPy's buffers) (1 × 1000: 33 -> 20 µs, torch
    10: the seven NumPy passes of a log-softmax with class sums, ~1 µs each to call, stay
    above torch's fused kernel)."""
    n, c = x.shape
    if eps > 0.0:                   # outside the error state, as _probability_target
        y = y * x.dtype.type(1 - eps) + x.dtype.type(eps / c)
    with np.errstate(**QUIET):
        x3, y3 = x.reshape(n, c, 1), y.reshape(n, c, 1)
        if _one_block(x3):
            sums = one_block_class_sums(x3, y3, w)[2]
        else:
            with row_loops(x3):
                sums = log_softmax_sums(x3, y=y3, w=w, class_sums=True)[2]
        loss = np.negative(sums.reshape(n), out=sums.reshape(n))
        return _reduced(loss, reduction, n)


def _common_probability_cross_entropy_grad(x, y, w, eps: float, reduction: str,
                                           return_loss: bool):
    """``cross_entropy_grad`` of a :func:`_probability_call` with ``grad_output=None``:
    ``_probability_target_grad``'s numbers, with the upstream gradient as one number for
    'mean' (its ones for 'sum' and 'none': times 1 changes no number, so it is skipped),
    ``y`` itself where the general path copies it to multiply by a weight it does not have,
    and the loss from the gradient's softmax instead of a second forward."""
    n, c = x.shape
    dtype = x.dtype.type
    if eps > 0.0:
        y = y * dtype(1 - eps) + dtype(eps / c)
    with np.errstate(**QUIET):
        x3, y3 = x.reshape(n, c, 1), y.reshape(n, c, 1)
        wy = y3 if w is None else y3 * w[:, None]
        grad = np.empty(x3.shape, x.dtype)
        scale = wy.sum(axis=1, keepdims=True)               # Σ_k w_k y_k
        if _one_block(x3):
            m, log_norm = one_block_softmax(x3, scale, grad)
        else:
            with row_loops(x3):
                m, log_norm = softmax_into(x3, scale, grad)  # p_c Σ_k w_k y_k
        grad -= wy
        if reduction == "mean":                             # times 1 ('sum', 'none'): as is
            grad *= dtype(1) / dtype(n)
        grad = grad.reshape(n, c)
        if not return_loss:
            return grad
        with row_loops(x3):
            sums = log_p_class_sums(x3, m, log_norm, y3, w)
        loss = np.negative(sums.reshape(n), out=sums.reshape(n))
        return _reduced(loss, reduction, n), grad
