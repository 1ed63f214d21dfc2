"""Multi-class and multi-label margins: multi_margin, multilabel_margin, multilabel_soft_margin.

``multi_margin_loss`` is the multi-class hinge (Weston–Watkins / Crammer–Singer style) over
class-index targets; ``multilabel_margin_loss`` (``multilabel_margin.py``) is its multi-label
form, with targets padded by ``-1``; ``multilabel_soft_margin_loss`` is binary cross-entropy with logits averaged over
the classes of each sample. All three divide each sample's sum by the number of classes C.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._classes import row_starts, targets_below
from ._numerics import QUIET
from ._reduction import resolve_reduction, strict_reduction, sum_to_shape
from ._validation import (
    HALF_DTYPES,
    as_class_index,
    as_float,
    as_like,
    broadcast_shape,
    check_class_weight,
    check_option,
    refuse_half,
)

__all__ = ["multi_margin_loss", "multilabel_soft_margin_loss"]


def _as_frames(x: np.ndarray, fn: str) -> np.ndarray:
    """A 0-D, (C,) or (N, C) input as (N, C): the shapes PyTorch's margin kernels accept."""
    if not ((x.ndim == 2 and x.shape[1] != 0) or (x.ndim == 1 and x.shape[0] != 0)
            or x.ndim == 0):
        raise ValueError(f"{fn}: expected a non-empty vector (C,) or matrix (N, C) with an "
                         f"optional empty batch (N = 0), but got input of shape {x.shape}")
    return x.reshape(1, -1) if x.ndim <= 1 else x


# ---- multi margin --------------------------------------------------------------------------

def _multi_margin_margin(margin, fn: str) -> float:
    """``margin`` is a torch ``Number``: real, or complex with no imaginary part."""
    check_option(margin, "margin", fn, "Number")
    if isinstance(margin, complex) or np.iscomplexobj(margin):
        if margin.imag != 0:
            raise ValueError(f"{fn}: margin {margin!r} cannot be converted to a real number "
                             f"(its imaginary part is not 0)")
        margin = margin.real
    return margin


def _multi_margin_inputs(input, target, p, margin, weight, fn):
    if p != 1 and p != 2:
        raise ValueError(f"{fn}: only p == 1 and p == 2 supported, got p={p!r}")
    margin = _multi_margin_margin(margin, fn)
    x = as_float(input, "input", fn)
    refuse_half(x, "multi_margin_loss_cpu_kernel", fn)
    x2 = _as_frames(x, fn)
    n, c = x2.shape
    y = as_class_index(target, fn)
    if y.ndim > 1 or y.size != n:
        raise ValueError(f"{fn}: target should be 1-D with one class index per sample: "
                         f"expected {n} targets, got shape {y.shape} for input of shape "
                         f"{x.shape}")
    y1 = y.reshape(n)
    if y1.size and (y1.min() < 0 or y1.max() >= c):
        bad = int(y1[(y1 < 0) | (y1 >= c)][0])
        raise IndexError(f"{fn}: target {bad} is out of range: class indices must be in "
                         f"[0, {c - 1}]")
    w = check_class_weight(weight, c, x, fn)
    out_shape = (n,) if y.ndim > 0 else ()
    return x, x2, y1, w, out_shape, margin


def _multi_margin_z(x2, y1, margin):
    """``margin - x[y] + x[d]`` for every class ``d`` (N, C), in the input's dtype."""
    x_target = x2[np.arange(len(y1)), y1][:, None]
    return np.add(x2, x2.dtype.type(margin) - x_target)


def _row_sums(h: np.ndarray) -> np.ndarray:
    """Σ_d h[n, d] of an (N, C) array: ``einsum``'s vectorised loop, 2-4x faster than
    ``h.sum(axis=1)`` (which calls its inner loop once per row: 33 against 14 µs at 1000 × 10).
    PyTorch's kernel adds a row one class after another; neither NumPy form does, both are
    as accurate."""
    return np.einsum("nc->n", h)


def _slope(z: np.ndarray, p: int) -> np.ndarray:
    """d max(z, 0)^p / dz in place of ``z``: 1 where z > 0 for p = 1, 2z there for p = 2,
    0 elsewhere (nan included: the kernel keeps a term only where z > 0).

    For p = 1 one comparison written as 1.0/0.0, the same numbers as ``sign(fmax(z, 0))``
    (both give +0, never -0, where z ≤ 0 or nan) in one pass instead of two: NumPy's ``sign``
    has no vectorised loop and cost 7 of the 14 ms of a (100000, 10) float64 gradient."""
    if p == 1:
        return np.greater(z, 0, out=z)
    slope = np.fmax(z, 0, out=z)                                # z where z > 0, else 0
    slope *= 2
    return slope


_FLOAT32, _FLOAT64, _INT64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)


def _plain_multi_margin(x, t, p, margin, weight) -> bool:
    """The usual ``multi_margin_loss`` call, which :func:`_common_multi_margin` serves: (N, C)
    C-contiguous float32/float64 scores, (N,) int64 targets every one a class (N > 0), p 1
    or 2, a real ``margin``, no weight. Identity and ``type`` tests only; a negative target
    viewed as uint64 is above 2⁶³, so one ``max < C`` settles the range. Anything else goes
    the general way, which checks and raises as torch does."""
    if not (type(x) is np.ndarray and type(t) is np.ndarray and x.ndim == 2 and t.ndim == 1
            and (x.dtype is _FLOAT32 or x.dtype is _FLOAT64) and t.dtype is _INT64
            and weight is None and type(p) is int and (p == 1 or p == 2)
            and type(margin) in (float, int) and x.flags.c_contiguous):
        return False
    n, c = x.shape
    return 0 < n == t.shape[0] and targets_below(t, c)


@np.errstate(**QUIET)
def _common_multi_margin(x, t, p, margin, reduction: str, grad: bool = False):
    """``multi_margin_loss`` (or with ``grad`` its gradient, ``grad_output=None``) of a
    :func:`_plain_multi_margin` call: the general path's operations, without its checks (25 of
    30 µs at 10 × 100; torch: 4 µs). The target entries are read and written through flat
    indices; the upstream gradient is one number (1, or 1/N for the mean) for every sample."""
    n, c = x.shape
    dtype = x.dtype.type
    index = row_starts(n, c) + t
    flat_x = x.ravel()
    z = np.add(x, (dtype(margin) - flat_x.take(index))[:, None])
    flat = z.ravel()
    if grad:
        h = _slope(z, p)                         # as the general path: see its gradient
        flat[index] = 0
        flat[index] = -_row_sums(h)
        g = dtype(1) / dtype(n) if reduction == "mean" else dtype(1)
        h *= g / dtype(c)
        return h
    h = np.fmax(z, 0, out=z)                     # as the general path: see multi_margin_loss
    if p == 2:
        h *= h
    flat[index] = 0
    loss = _row_sums(h) / dtype(c)
    if reduction == "none":
        return loss
    total = np.add.reduce(loss)           # loss.sum(), without its Python wrapper
    return total if reduction == "sum" else (total / n).astype(x.dtype)[()]


def multi_margin_loss(input: ArrayLike, target: ArrayLike, p: int = 1, margin: float = 1.0,
                      weight: ArrayLike | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean"):
    r"""Multi-class hinge loss over class-index targets.

    .. math::
        l_n = \frac{1}{C} \sum_{d \ne y_n} w_{y_n}
              \max(0,\; \Delta - x_{n,y_n} + x_{n,d})^p

    Each sample's sum is divided by the number of classes C (not C − 1); ``'mean'`` then
    divides by N, not by the weights (unlike ``cross_entropy``). The weight is the one of
    the *target* class. As in PyTorch's kernel a term counts only where the margin term is
    ``> 0``, so a NaN score of a wrong class adds nothing.

    Parameters
    ----------
    input : array_like, shape (N, C), (C,) or ()
        Raw scores, floating point; C ≥ 1, N may be 0.
    target : array_like of int, shape (N,) (or () / (1,) with a 1-D input)
        Class indices in [0, C).
    p : {1, 2}, default 1
    margin : float, default 1.0
    weight : array_like, shape (C,), optional
        Per-class weight, applied through the target class.
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of shape (N,) when ``reduction='none'`` and the target is 1-D.
    An empty batch gives ``nan`` for ``'mean'`` and 0 for ``'sum'`` (PyTorch returns
    uninitialised memory there).

    Raises
    ------
    ValueError
        ``p`` not 1 or 2, an input that is not (N, C)/(C,)/() with C ≥ 1, a target or weight
        of the wrong shape, or an unknown ``reduction``.
    IndexError
        A target outside [0, C).
    TypeError
        ``input`` not floating point or float16/bfloat16 (torch's CPU kernel has neither),
        ``target`` not integer, or ``margin`` not a number
        (torch's ``Number``: a complex with imaginary part 0 counts as real; any other
        complex is a ValueError).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]], dtype=np.float32)
    >>> print(f"{multi_margin_loss(x, np.array([3])):.4f}")
    0.3250
    """
    fn = "multi_margin_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    if _plain_multi_margin(input, target, p, margin, weight):
        return _common_multi_margin(input, target, p, margin, reduction)
    x, x2, y1, w, out_shape, margin = _multi_margin_inputs(input, target, p, margin, weight,
                                                             fn)
    n, c = x2.shape
    with np.errstate(invalid="ignore", over="ignore"):
        # the kernel keeps a term where z > 0: fmax(z, 0) drops the rest, nan included
        z = _multi_margin_z(x2, y1, margin)
        h = np.fmax(z, 0, out=z)
        if p == 2:
            h *= h
        if w is not None:
            h *= w[y1][:, None]
    h[np.arange(n), y1] = 0
    loss = (_row_sums(h) / x.dtype.type(c)).astype(x.dtype)
    return _reduction.reduce(loss.reshape(out_shape), reduction)


def multi_margin_loss_grad(input: ArrayLike, target: ArrayLike, p: int = 1, margin: float = 1.0,
                           weight: ArrayLike | None = None, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean", *,
                           grad_output=None) -> np.ndarray:
    r"""Gradient of :func:`multi_margin_loss` with respect to ``input``.

    .. math::
        \begin{aligned}
        \frac{\partial l_n}{\partial x_{n,d}} &= \frac{w_{y_n}}{C}\, h'_{nd}
            \quad (d \ne y_n), \qquad
        \frac{\partial l_n}{\partial x_{n,y_n}} = -\sum_{d \ne y_n}
            \frac{\partial l_n}{\partial x_{n,d}} \\
        h'_{nd} &= [z_{nd} > 0] \cdot (1 \text{ if } p = 1,\; 2 z_{nd} \text{ if } p = 2)
        \end{aligned}

    with :math:`z_{nd} = \Delta - x_{n,y_n} + x_{n,d}`. At the kink (``z = 0``) the slope is 0:
    torch's kernel tests ``z > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
    >>> print(multi_margin_loss_grad(x, np.array([3]), reduction="sum"))
    [[ 0.25  0.25  0.25 -0.75]]
    """
    fn = "multi_margin_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    if grad_output is None and _plain_multi_margin(input, target, p, margin, weight):
        return _common_multi_margin(input, target, p, margin, reduction, grad=True)
    x, x2, y1, w, out_shape, margin = _multi_margin_inputs(input, target, p, margin, weight,
                                                             fn)
    n, c = x2.shape
    g = _reduction.reduce_grad(grad_output, out_shape, x.dtype, reduction).reshape(n, 1)
    with np.errstate(invalid="ignore", over="ignore"):
        slope = _slope(_multi_margin_z(x2, y1, margin), p)
        if w is not None:
            slope *= w[y1][:, None]
    rows = np.arange(n)
    slope[rows, y1] = 0
    slope[rows, y1] = -_row_sums(slope)
    grad = slope * (g / x.dtype.type(c))
    return grad.astype(x.dtype).reshape(x.shape)


# ---- multi-label soft margin ---------------------------------------------------------------

def _soft_reduction(size_average, reduce, reduction, fn: str) -> str:
    """torch's ``multilabel_soft_margin_loss`` checks ``reduction`` in Python, after the legacy
    pair: 'none' | 'mean' | 'sum' only ('elementwise_mean' too is refused), and a non-string
    fails on ``reduction + " is not valid"`` with a TypeError."""
    if size_average is not None or reduce is not None:
        return resolve_reduction(size_average, reduce, "mean")
    if not isinstance(reduction, str):
        raise TypeError(f"{fn}: reduction must be a str, got {type(reduction).__name__} "
                        f"({reduction!r})")
    return strict_reduction(reduction, fn)


def _soft_inputs(input, target, weight, fn):
    x = as_float(input, "input", fn)
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension (its last), got a 0-D input")
    y = as_like(target, x, "target", fn)
    w = None if weight is None else as_like(weight, x, "weight", fn)
    arrays = {"input": x, "target": y} if w is None else {"input": x, "target": y, "weight": w}
    shape = broadcast_shape(fn, **arrays)
    return x, y, w, shape


def multilabel_soft_margin_loss(input: ArrayLike, target: ArrayLike,
                                weight: ArrayLike | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean"):
    r"""Multi-label soft margin loss: BCE with logits, averaged over each sample's classes.

    .. math::
        l_n = -\frac{1}{C} \sum_{c} w_c \left[ y_{nc} \log \sigma(x_{nc})
              + (1 - y_{nc}) \log \sigma(-x_{nc}) \right]

    that is ``binary_cross_entropy_with_logits(x, y, weight, reduction='none').mean(-1)``.
    ``'mean'`` then averages the N per-sample values.

    Parameters
    ----------
    input : array_like, shape (N, C) or (C,) (any (*, C): the class axis is the last)
        Logits, floating point.
    target : array_like, shape (N, C)
        0/1 labels (any real in [0, 1] works); cast to the input's dtype. Broadcast with the
        input, as PyTorch does.
    weight : array_like, optional
        Per-class weight (C,), or anything broadcastable with the input.
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of shape (N,) when ``reduction='none'``

    Raises
    ------
    ValueError
        A 0-D input, shapes that do not broadcast, or an unknown ``reduction``
        (``'elementwise_mean'`` too: torch checks this one in Python).
    TypeError
        ``input`` is not floating point, or ``reduction`` is not a str.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[2.0, -1.0, 0.0]], dtype=np.float32)
    >>> print(f"{multilabel_soft_margin_loss(x, np.array([[1, 0, 1]])):.4f}")
    0.3778
    """
    fn = "multilabel_soft_margin_loss"
    reduction = _soft_reduction(size_average, reduce, reduction, fn)
    x, y, w, _ = _soft_inputs(input, target, weight, fn)
    with np.errstate(**QUIET):
        log_p, log_q = _log_sigmoid_pair(x)
        same = y.shape == x.shape
        loss = np.multiply(y, log_p, out=log_p if same else None)      # in place: peak memory
        loss += np.multiply(1 - y, log_q, out=log_q if same else None)
        if w is not None:
            loss = loss * w
        c = x.dtype.type(x.shape[-1])
        # -(Σ_c l) is exactly Σ_c (-l): the sign is applied to the N sums, not to N·C terms
        loss = (np.negative(loss.sum(axis=x.ndim - 1)) / c).astype(x.dtype)
    return _reduction.reduce(loss, reduction)


def _log_sigmoid_pair(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log σ(x), log σ(−x))`` as torch's ``log_sigmoid`` kernel forms each, sharing its work.

    torch: ``log σ(u) = min(u, 0) − log1p(exp(−|u|))``. For ``u = −x`` the log1p term is the
    same, so both come from one ``exp`` and one ``log1p`` instead of two of each.
    float16/bfloat16 in float32, each rounded once (the kernel's opmath); the products and
    sums after it round per op, as torch's Python composite does.
    """
    if x.dtype in HALF_DTYPES:
        log_p, log_q = _log_sigmoid_pair(x.astype(np.float32))
        return log_p.astype(x.dtype), log_q.astype(x.dtype)
    soft = np.abs(x)
    np.negative(soft, out=soft)
    np.exp(soft, out=soft)
    np.log1p(soft, out=soft)
    zero = x.dtype.type(0)
    log_p = np.minimum(x, zero)
    log_p -= soft
    log_q = np.negative(x)        # min(−x, 0), not min(x, 0) − x: that is nan at x = −inf
    np.minimum(log_q, zero, out=log_q)
    log_q -= soft
    return log_p, log_q


def multilabel_soft_margin_loss_grad(input: ArrayLike, target: ArrayLike,
                                     weight: ArrayLike | None = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean", *,
                                     grad_output=None) -> np.ndarray:
    r"""Gradient of :func:`multilabel_soft_margin_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_{nc}} = \frac{w_c}{C}
            \left[ (1 - y_{nc})\, \sigma(x_{nc}) - y_{nc}\, \sigma(-x_{nc}) \right]
            = \frac{w_c}{C} (\sigma(x_{nc}) - y_{nc})

    (the left form is the one autograd evaluates, term by term).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0]])
    >>> print(multilabel_soft_margin_loss_grad(x, np.array([[1.0, 0.0]]), reduction="sum"))
    [[-0.25  0.25]]
    """
    fn = "multilabel_soft_margin_loss"
    reduction = _soft_reduction(size_average, reduce, reduction, fn)
    x, y, w, shape = _soft_inputs(input, target, weight, fn)
    axis = x.ndim - 1
    per_sample = shape[:axis] + shape[axis + 1:]
    g = _reduction.reduce_grad(grad_output, per_sample, x.dtype, reduction)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.expand_dims(g, axis) / x.dtype.type(x.shape[-1])
        if w is not None:
            g = g * w
        sig_pos, sig_neg = _sigmoid_pair(x)
        same = y.shape == x.shape
        slope = np.multiply(1 - y, sig_pos, out=sig_pos if same else None)
        slope -= np.multiply(y, sig_neg, out=sig_neg if same else None)
        grad = g * slope
    return sum_to_shape(grad, x.shape).astype(x.dtype)


def _sigmoid_pair(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(σ(x), σ(−x))`` as torch's ``log_sigmoid`` backward forms them: ``q = z / (1 + z)`` with
    ``z = exp(−|x|)`` on the small side and ``1 − q`` on the other, so a tail value stays a
    (subnormal) number where ``1 / (1 + exp(|x|))`` would overflow to 0. float16/bfloat16 in
    float32, rounded once (the kernel's opmath)."""
    xc = x.astype(np.float32) if x.dtype in HALF_DTYPES else x
    q = np.abs(xc)                        # in place, one buffer: q = z / (1 + z)
    np.negative(q, out=q)
    np.exp(q, out=q)
    big = np.add(q, 1)
    np.divide(q, big, out=q)
    np.subtract(1, q, out=big)            # 1 − q
    return (np.where(xc > 0, big, q).astype(x.dtype, copy=False),
            np.where(xc < 0, big, q).astype(x.dtype, copy=False))
