"""Ranking losses: margin ranking on pairs of scores, triplet margins on embeddings.

The triplet losses measure distances with PyTorch's ``pairwise_distance``,
``‖x1 − x2 + eps‖_p`` over the last dimension: the ``eps`` is added to the *difference*
before the norm, so two identical vectors are ``eps·D^(1/p)`` apart, not 0, and the norm's
gradient is defined there.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._numerics import QUIET
from ._reduction import resolve_reduction, strict_reduction, sum_to_shape
from ._validation import (HALF_DTYPES, as_float, as_like, asarray, broadcast_shape,
                          check_option, check_triplet_margin)

__all__ = ["margin_ranking_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss"]


# ---- margin ranking ------------------------------------------------------------------------

def _ranking_inputs(input1, input2, target, margin, fn):
    check_option(margin, "margin", fn, "float")
    x1 = as_float(input1, "input1", fn)
    x2 = as_float(input2, "input2", fn)
    dtype = np.result_type(x1, x2)
    y = as_like(target, x1.astype(dtype, copy=False), "target", fn)
    if not x1.ndim == x2.ndim == y.ndim:
        raise ValueError(f"{fn}: input1, input2 and target should have the same number of "
                         f"dimensions, got shapes {x1.shape}, {x2.shape} and {y.shape}")
    shape = broadcast_shape(fn, input1=x1, input2=x2, target=y)
    return x1, x2, y, dtype, shape


def margin_ranking_loss(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                        margin: float = 0, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean"):
    r"""Margin ranking loss: ``input1`` should rank above ``input2`` when ``y = 1``, else below.

    .. math::
        l_n = \max(0, -y_n (x_{1n} - x_{2n}) + \Delta)

    Parameters
    ----------
    input1, input2 : array_like
        Scores, floating point; the result has their promoted dtype.
    target : array_like
        ``1`` or ``-1``. The three arrays must have the same number of dimensions (as in
        PyTorch) and broadcast together; the output has the broadcast shape.
    margin : float, default 0
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        Different numbers of dimensions, shapes that do not broadcast, or an unknown
        ``reduction``.
    TypeError
        An input is not floating point, or ``margin`` is not a real number (torch's ``float``).

    Examples
    --------
    >>> import numpy as np
    >>> s1, s2 = np.array([0.8, 0.3, 0.5]), np.array([0.2, 0.6, 0.5])
    >>> print(margin_ranking_loss(s1, s2, np.array([1, 1, -1]), margin=0.1, reduction="none"))
    [0.  0.4 0.1]
    """
    fn = "margin_ranking_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    loss = _common_ranking(input1, input2, target, margin)
    if loss is None:
        x1, x2, y, dtype, _ = _ranking_inputs(input1, input2, target, margin, fn)
        with np.errstate(invalid="ignore"):
            loss = _ranking_hinge(x1, x2, y, dtype, margin)
            np.maximum(loss, np.zeros((), dtype), out=loss)     # clamp_min: nan stays nan
    return _reduction.reduce(loss, reduction)


@np.errstate(invalid="ignore")      # as the full path's with-block (a decorator costs less)
def _common_ranking(x1, x2, y, margin) -> np.ndarray | None:
    """``margin_ranking_loss``'s per-element losses for the usual call, or ``None`` for any
    other: three float32/float64 arrays of one shape (at least 1-D) and dtype, a Python
    number for ``margin``.

    The same NumPy calls as the full path (the hinge in place, then ``clamp_min``) without its
    checks and promotions, which cost as much as the work at 10³ elements.
    """
    if not (type(x1) is np.ndarray and type(x2) is np.ndarray and type(y) is np.ndarray):
        return None
    dtype = x1.dtype
    if not (dtype.char in "fd" and x2.dtype is dtype and y.dtype is dtype and x1.ndim
            and x1.shape == x2.shape == y.shape and type(margin) in (int, float)):
        return None
    d = np.subtract(x1, x2)
    np.multiply(d, y, out=d)
    loss = np.subtract(dtype.type(margin), d, out=d)
    return np.maximum(loss, np.zeros((), dtype), out=loss)


def _ranking_hinge(x1, x2, y, dtype, margin) -> np.ndarray:
    """``-y·(x1 - x2) + margin``, a fresh array; ``margin - y·(x1 - x2)`` is the same IEEE
    operation (negation is exact), written in place to spare two passes."""
    d = np.asarray(np.subtract(x1, x2, dtype=dtype))   # 0-D stays an array
    d = np.multiply(d, y, out=d if d.shape == np.broadcast_shapes(d.shape, y.shape) else None)
    return np.subtract(dtype.type(margin), d, out=d)


def margin_ranking_loss_grad(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                             margin: float = 0, size_average: bool | None = None,
                             reduce: bool | None = None, reduction: str = "mean", *,
                             grad_output=None) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients of :func:`margin_ranking_loss`: the tuple ``(d/d input1, d/d input2)``.

    .. math::
        \frac{\partial l_n}{\partial x_{1n}} = -\frac{\partial l_n}{\partial x_{2n}}
            = -y_n\,[-y_n (x_{1n} - x_{2n}) + \Delta \ge 0]

    At the kink (the bracket exactly 0) the slope passes, as torch's ``clamp_min`` does.

    Examples
    --------
    >>> import numpy as np
    >>> s1, s2 = np.array([0.8, 0.3, 0.5]), np.array([0.2, 0.6, 0.5])
    >>> g1, g2 = margin_ranking_loss_grad(s1, s2, np.array([1, 1, -1]), reduction="sum")
    >>> print(g1 + 0.0, g2 + 0.0)
    [ 0. -1.  1.] [ 0.  1. -1.]
    """
    fn = "margin_ranking_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x1, x2, y, dtype, shape = _ranking_inputs(input1, input2, target, margin, fn)
    g = _reduction.reduce_grad(grad_output, shape, dtype, reduction)
    with np.errstate(invalid="ignore"):
        active = _ranking_hinge(x1, x2, y, dtype, margin) >= 0
    g1 = np.where(active, -(g * y), np.zeros((), dtype))
    return (sum_to_shape(g1, x1.shape).astype(x1.dtype),
            sum_to_shape(np.negative(g1), x2.shape).astype(x2.dtype))


# ---- the pairwise distance and its backward ------------------------------------------------

def _norm(d: np.ndarray, p: float) -> np.ndarray:
    """``‖d‖_p`` over the last axis, as ``torch.linalg.vector_norm``; p = 0 counts non-zeros."""
    with np.errstate(**QUIET):
        if d.dtype in HALF_DTYPES:
            # torch's vector_norm on float16/bfloat16 computes in float32 and rounds once
            return _norm(d.astype(np.float32), p).astype(d.dtype)
        if p == 2:
            # Σ d² in one pass (einsum multiplies and sums without a temporary d * d)
            return np.sqrt(np.einsum("...i,...i->...", d, d))
        if p == 0:
            return (d != 0).sum(axis=-1).astype(d.dtype)
        a = np.abs(d)
        if p == 1:
            return a.sum(axis=-1)
        if p == np.inf:
            return a.max(axis=-1)
        if p == -np.inf:
            return a.min(axis=-1)
        # torch accumulates Σ|d|^p and takes its 1/p-th power in float64 for float32 inputs
        a64 = a.astype(np.float64)
        return ((a64 ** p).sum(axis=-1) ** (1 / p)).astype(d.dtype)


def _sgn(d: np.ndarray) -> np.ndarray:
    """torch's ``sgn`` on reals: -1, 0 or 1, and 0 for NaN."""
    return ((d > 0).astype(d.dtype) - (d < 0).astype(d.dtype))


def _norm_grad(g: np.ndarray, d: np.ndarray, p: float, norm: np.ndarray) -> np.ndarray:
    """PyTorch's ``norm_backward``: d(Σ g·‖d‖_p)/d d, including its choices at 0.

    May overwrite ``d`` (the caller's difference, not needed afterwards).
    """
    dt = d.dtype
    zero = np.zeros((), dt)
    with np.errstate(**QUIET):
        if p == 2:
            # torch: g · (d / ‖d‖).masked_fill_(‖d‖ == 0, 0), in that order (it rounds so in
            # float16), in place in d: two passes, no new array
            out = d if d.flags.writeable else d.copy()
            np.divide(out, norm[..., None], out=out)
            if (norm == 0).any():
                out[np.broadcast_to(norm[..., None] == 0, out.shape)] = 0
            return np.multiply(out, g[..., None].astype(dt, copy=False), out=out)
        g, norm = g[..., None], norm[..., None]
        if p == 0:
            return np.zeros_like(d)
        if p == 1:
            return _sgn(d) * g
        if np.isinf(p):
            a = np.abs(d)
            mask = ((a == norm) | np.isnan(a)).astype(dt)
            return _sgn(d) * ((g / mask.sum(axis=-1, keepdims=True)) * mask)
        a = np.abs(d)
        if p < 1:
            scaled = _sgn(d) * np.where(d == 0, zero, a ** dt.type(p - 1))
            return scaled * g * norm ** dt.type(1 - p)
        scale = np.where(norm == 0, zero, g / norm ** dt.type(p - 1))
        if p < 2:
            return _sgn(d) * a ** dt.type(p - 1) * scale
        return d * a ** dt.type(p - 2) * scale


def _check_norm_order(shape: tuple, p: float, fn: str) -> None:
    if len(shape) and shape[-1] == 0 and (p < 0 or np.isinf(p)):
        raise ValueError(f"{fn}: cannot compute the {p} norm over an empty last dimension "
                         f"(shape {shape}): that norm has no value for zero elements")


def _difference(x1: np.ndarray, x2: np.ndarray, eps: float) -> np.ndarray:
    """``x1 - x2 + eps`` with a last axis to take the norm over (a 0-D pair gets one)."""
    d = np.subtract(x1, x2)
    if d.dtype in HALF_DTYPES:
        # torch adds the Python float eps in float32 and rounds once to the half dtype
        d = (d.astype(np.float32) + np.float32(eps)).astype(d.dtype)
    else:
        d += d.dtype.type(eps)                     # in place: one array, not two
    return d.reshape(1) if d.ndim == 0 else d


def _distance(x1, x2, p, eps):
    return _norm(_difference(x1, x2, eps), p)


def _pair(x1, x2, p, eps):
    """The difference ``x1 - x2 + eps`` and its norm: the gradient reuses the difference."""
    d = _difference(x1, x2, eps)
    return d, _norm(d, p)


# ---- triplet margin ------------------------------------------------------------------------

def _triplet_inputs(anchor, positive, negative, margin, fn):
    check_triplet_margin(margin, fn)
    a = as_float(anchor, "anchor", fn)
    p = as_float(positive, "positive", fn)
    n = as_float(negative, "negative", fn)
    if not a.ndim == p.ndim == n.ndim:
        raise ValueError(f"{fn}: the anchor, positive, and negative arrays are expected to have "
                         f"the same number of dimensions, but got: anchor {a.ndim}D, positive "
                         f"{p.ndim}D, and negative {n.ndim}D inputs")
    broadcast_shape(fn, anchor=a, positive=p, negative=n)
    dtype = np.result_type(a, p, n)
    return a.astype(dtype, copy=False), p.astype(dtype, copy=False), n.astype(dtype, copy=False)


def _triplet_distances(dist, a, p, n, swap):
    """``d(a, p)``, ``d(a, n)`` and, with ``swap``, ``d(p, n)`` (else None)."""
    d_pos = np.asarray(dist(a, p))
    d_neg = np.asarray(dist(a, n))
    d_swap = np.asarray(dist(p, n)) if swap else None
    return d_pos, d_neg, d_swap


def _triplet_loss(d_pos, d_neg, d_swap, margin, dtype):
    with np.errstate(invalid="ignore"):
        if d_swap is not None:
            d_neg = np.minimum(d_neg, d_swap)
        loss = (dtype.type(margin) + d_pos) - d_neg
        return np.maximum(loss, np.zeros((), dtype)).astype(dtype)


def triplet_margin_loss(anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean"):
    r"""Triplet margin loss: the anchor should be closer to the positive than to the negative.

    .. math::
        \begin{aligned}
        d(u, v) &= \lVert u - v + \epsilon \rVert_p
                   \quad\text{(over the last dimension)} \\
        l_n &= \max(0,\; d(a_n, p_n) - d(a_n, n_n) + \Delta)
        \end{aligned}

    The ``eps`` sits *inside* the difference (PyTorch's ``pairwise_distance``), not outside
    the norm. With ``swap=True`` the negative distance is ``min(d(a, n), d(p, n))``: the
    positive stands in for the anchor when it is closer to the negative (Balntas et al.).

    Parameters
    ----------
    anchor, positive, negative : array_like, shape (N, D) or (D,) (any (*, D))
        Floating point, the same number of dimensions, broadcastable together.
    margin : float, default 1.0
        Must be > 0.
    p : float, default 2
        The norm's order: 1, 2, any real (also 0, negative, ±inf) as ``torch.linalg.vector_norm``.
    eps : float, default 1e-6
    swap : bool, default False
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of shape (N,) (the broadcast shape without its last axis)
    when ``reduction='none'``

    Raises
    ------
    ValueError
        ``margin <= 0``, different numbers of dimensions, shapes that do not broadcast, a
        norm with no value on an empty last dimension (p < 0 or ±inf), or an unknown
        ``reduction``.
    TypeError
        An input is not floating point; ``margin`` cannot be compared with 0 (a str, None,
        a complex), ``p`` or ``eps`` is not a real number, or ``swap`` is not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0.0, 0.0]]); pos = np.array([[1.0, 0.0]]); neg = np.array([[0.0, 1.5]])
    >>> print(np.round(triplet_margin_loss(a, pos, neg), 4))
    0.5
    """
    fn = "triplet_margin_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    loss = _common_triplet(anchor, positive, negative, margin, p, eps, swap)
    if loss is None:
        a, pos, neg = _triplet_inputs(anchor, positive, negative, margin, fn)
        _check_triplet_options(p, eps, swap, fn)
        _check_norm_order(np.broadcast_shapes(a.shape, pos.shape, neg.shape), p, fn)
        dist = lambda u, v: _distance(u, v, p, eps)  # noqa: E731
        loss = _triplet_loss(*_triplet_distances(dist, a, pos, neg, swap), margin, a.dtype)
    return _reduction.reduce(loss, reduction)


def _common_triplet(a, pos, neg, margin, p, eps, swap) -> np.ndarray | None:
    """The triplet losses of the usual call, or ``None`` for any other: three float32/float64
    arrays of one shape (at least 1-D) and dtype, the 2-norm, Python numbers for ``eps`` and
    ``margin > 0``, a bool ``swap``.

    The same NumPy calls as the full path (each difference plus eps, its 2-norm by einsum,
    the hinge) without its checks, promotions and helpers: at 3 × 256 those cost more than
    the work (about 25 of 65 µs).
    """
    if not (type(a) is np.ndarray and type(pos) is np.ndarray and type(neg) is np.ndarray):
        return None
    dtype = a.dtype
    if not (dtype.char in "fd" and pos.dtype is dtype and neg.dtype is dtype and a.ndim
            and a.shape == pos.shape == neg.shape and type(p) in (int, float) and p == 2
            and type(eps) in (int, float) and type(swap) is bool
            and type(margin) in (int, float) and margin > 0):
        return None
    e = dtype.type(eps)
    pairs = [(a, pos), (a, neg), (pos, neg)] if swap else [(a, pos), (a, neg)]
    differences = []
    for u, v in pairs:                    # u - v + eps, warning as the full path does
        d = np.subtract(u, v)
        d += e
        differences.append(d)
    with np.errstate(**QUIET):
        d_pos, d_neg, *d_swap = [np.sqrt(np.einsum("...i,...i->...", d, d)) for d in differences]
    with np.errstate(invalid="ignore"):                   # _triplet_loss, without its copy
        if swap:
            d_neg = np.minimum(d_neg, d_swap[0])
        return np.maximum((dtype.type(margin) + d_pos) - d_neg, np.zeros((), dtype))


def _check_triplet_options(p, eps, swap, fn):
    """torch's C++ parser: ``p`` and ``eps`` are floats, ``swap`` a bool (not an int)."""
    check_option(p, "p", fn, "float")
    check_option(eps, "eps", fn, "float")
    check_option(swap, "swap", fn, "bool")


def _triplet_grad(a, pos, neg, margin, p, eps, swap, reduction, grad_output, originals):
    dtype = a.dtype
    # each difference is formed once, its norm read from it, and its memory reused by the
    # gradient (the forward's distances are not recomputed)
    d_ap, dist_ap = _pair(a, pos, p, eps)
    d_an, dist_an = _pair(a, neg, p, eps)
    d_pn, dist_pn = _pair(pos, neg, p, eps) if swap else (None, None)
    shapes = [d.shape for d in (dist_ap, dist_an, dist_pn) if d is not None]
    g = _reduction.reduce_grad(grad_output, np.broadcast_shapes(*shapes), dtype, reduction)
    zero = np.zeros((), dtype)
    with np.errstate(invalid="ignore"):
        d_min = dist_an if dist_pn is None else np.minimum(dist_an, dist_pn)
        active = (dtype.type(margin) + dist_ap) - d_min >= 0
        g_pos = np.where(active, g, zero)
        g_min = -g_pos
        if swap:
            # torch's minimum backward: a tie splits the gradient in two halves
            split = np.where(dist_an == dist_pn, g_min / 2, g_min)
            g_neg = np.where(dist_an > dist_pn, zero, split)
            g_swap = np.where(dist_an < dist_pn, zero, split)
        else:
            g_neg = g_min
    # d‖x_i − x_j + eps‖ is +gd for x_i and −gd for x_j
    gd_ap = _norm_grad(sum_to_shape(g_pos, dist_ap.shape), d_ap, p, dist_ap)
    gd_an = _norm_grad(sum_to_shape(g_neg, dist_an.shape), d_an, p, dist_an)
    grad_p = np.negative(sum_to_shape(gd_ap, pos.shape))
    grad_n = np.negative(sum_to_shape(gd_an, neg.shape))
    if swap:
        gd_pn = _norm_grad(sum_to_shape(g_swap, dist_pn.shape), d_pn, p, dist_pn)
        grad_p += sum_to_shape(gd_pn, pos.shape)
        grad_n -= sum_to_shape(gd_pn, neg.shape)
    grad_a = np.add(sum_to_shape(gd_ap, a.shape), sum_to_shape(gd_an, a.shape),
                    out=gd_ap if gd_ap.shape == a.shape else None)
    grads = (grad_a.reshape(a.shape), grad_p.reshape(pos.shape), grad_n.reshape(neg.shape))
    return tuple(gr.astype(asarray(o).dtype, copy=False) for gr, o in zip(grads, originals))


def triplet_margin_loss_grad(anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike,
                             margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                             swap: bool = False, size_average: bool | None = None,
                             reduce: bool | None = None, reduction: str = "mean", *,
                             grad_output=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of :func:`triplet_margin_loss`: ``(d/d anchor, d/d positive, d/d negative)``.

    With :math:`u = a - p + \epsilon` and :math:`v = a - n + \epsilon`, for an active triplet
    (:math:`d(a,p) - d(a,n) + \Delta \ge 0`, the kink included, as torch's ``clamp_min``):

    .. math::
        \begin{aligned}
        \frac{\partial l}{\partial a} &= \nabla\lVert u\rVert_p - \nabla\lVert v\rVert_p \\
        \frac{\partial l}{\partial p} &= -\nabla\lVert u\rVert_p, \quad
        \frac{\partial l}{\partial n} = \nabla\lVert v\rVert_p \\
        \nabla\lVert u\rVert_2 &= u / \lVert u\rVert_2 \;(0 \text{ where } u = 0)
        \end{aligned}

    Other orders follow torch's ``norm_backward`` (sign(u) for p = 1, the arg-max for ∞, 0
    for p = 0). With ``swap``, the minimum's gradient goes to the smaller distance, half to
    each on a tie, as torch's ``minimum``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0.0, 0.0]]); pos = np.array([[1.0, 0.0]]); neg = np.array([[0.0, 1.5]])
    >>> ga, gp, gn = triplet_margin_loss_grad(a, pos, neg, eps=0.0)
    >>> print(ga, gp, gn)
    [[-1.  1.]] [[ 1. -0.]] [[ 0. -1.]]
    """
    fn = "triplet_margin_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    a, pos, neg = _triplet_inputs(anchor, positive, negative, margin, fn)
    _check_triplet_options(p, eps, swap, fn)
    _check_norm_order(np.broadcast_shapes(a.shape, pos.shape, neg.shape), p, fn)
    return _triplet_grad(a, pos, neg, margin, p, eps, swap, reduction, grad_output,
                         (anchor, positive, negative))


def triplet_margin_with_distance_loss(anchor: ArrayLike, positive: ArrayLike,
                                      negative: ArrayLike, *,
                                      distance_function: Callable | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean"):
    r"""Triplet margin loss with any distance: ``max(0, d(a, p) - d(a, n) + margin)``.

    .. math::
        l_n = \max(0,\; d(a_n, p_n) - d(a_n, n_n) + \Delta)

    Parameters
    ----------
    anchor, positive, negative : array_like
        Floating point, the same number of dimensions.
    distance_function : callable, optional
        Takes two NumPy arrays and returns their distances, one per pair (the role of a
        torch function in ``torch.nn.functional``). ``None`` means the pairwise distance
        ``‖u − v + 1e-6‖_2`` over the last dimension, as ``torch.pairwise_distance``.
    margin : float, default 1.0
        Must be > 0.
    swap : bool, default False
        Use ``min(d(a, n), d(p, n))`` as the negative distance.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of the distances' shape when ``reduction='none'``

    Raises
    ------
    ValueError
        An unknown ``reduction`` (``'elementwise_mean'`` too, as torch), ``margin <= 0``,
        or different numbers of dimensions.
    TypeError
        An input is not floating point, or ``margin`` cannot be compared with 0.

    Examples
    --------
    >>> import numpy as np
    >>> def cosine_distance(u, v):
    ...     return 1 - (u * v).sum(-1) / np.sqrt((u * u).sum(-1) * (v * v).sum(-1))
    >>> a = np.array([[1.0, 0.0]]); pos = np.array([[1.0, 1.0]]); neg = np.array([[0.0, 1.0]])
    >>> loss = triplet_margin_with_distance_loss(a, pos, neg, distance_function=cosine_distance,
    ...                                          margin=0.5)
    >>> print(np.round(loss, 4))
    0.0
    >>> print(np.round(triplet_margin_with_distance_loss(a, pos, neg), 4))
    0.5858
    """
    fn = "triplet_margin_with_distance_loss"
    reduction = strict_reduction(reduction, fn)
    if distance_function is None:                        # the pairwise distance: p = 2
        loss = _common_triplet(anchor, positive, negative, margin, 2.0, 1e-6, swap)
        if loss is not None:
            return _reduction.reduce(loss, reduction)
    a, pos, neg = _triplet_inputs(anchor, positive, negative, margin, fn)
    if distance_function is None:
        distance_function = lambda u, v: _distance(u, v, 2.0, 1e-6)  # noqa: E731
    d_pos, d_neg, d_swap = _triplet_distances(distance_function, a, pos, neg, swap)
    dtype = np.result_type(d_pos, d_neg) if np.issubdtype(d_pos.dtype, np.floating) else a.dtype
    return _reduction.reduce(_triplet_loss(d_pos, d_neg, d_swap, margin, dtype), reduction)


def triplet_margin_with_distance_loss_grad(anchor: ArrayLike, positive: ArrayLike,
                                           negative: ArrayLike, *,
                                           distance_function: Callable | None = None,
                                           margin: float = 1.0, swap: bool = False,
                                           reduction: str = "mean", grad_output=None
                                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of :func:`triplet_margin_with_distance_loss`, for the default distance only.

    With ``distance_function=None`` (the pairwise distance, p = 2, eps = 1e-6) this is
    :func:`lossref.grad.triplet_margin_loss` with those options: ``(d/d anchor, d/d positive,
    d/d negative)``. lossref cannot differentiate an arbitrary NumPy callable, so any other
    ``distance_function`` raises ``NotImplementedError``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0.0, 0.0]]); pos = np.array([[1.0, 0.0]]); neg = np.array([[0.0, 1.5]])
    >>> ga, gp, gn = triplet_margin_with_distance_loss_grad(a, pos, neg)
    >>> print(np.round(gn, 4) + 0.0)
    [[ 0. -1.]]
    """
    fn = "triplet_margin_with_distance_loss"
    if distance_function is not None:
        raise NotImplementedError(
            f"{fn}: the gradient is only available for distance_function=None (the pairwise "
            f"distance); lossref cannot differentiate {distance_function!r}. Differentiate your "
            f"distance by hand, or use torch.autograd")
    reduction = strict_reduction(reduction, fn)
    a, pos, neg = _triplet_inputs(anchor, positive, negative, margin, fn)
    return _triplet_grad(a, pos, neg, margin, 2.0, 1e-6, swap, reduction, grad_output,
                         (anchor, positive, negative))
