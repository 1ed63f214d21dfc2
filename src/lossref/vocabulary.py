"""Cross-entropy at vocabulary scale: ``linear_cross_entropy`` without ever holding the logits.

A language model's last layer maps each token's hidden vector (``in_features``) to one logit
per vocabulary entry; with 2048 tokens and 128 000 classes the float32 logits alone take 1 GiB.
``linear_cross_entropy`` fuses that projection with the cross-entropy: here the logits are
computed one block of (tokens × classes) at a time into a reused buffer, and each token's
log-softmax is accumulated across the class blocks (a running maximum and a rescaled sum of
exponentials, "online softmax"). Validation, weights, ``ignore_index``, ``label_smoothing``
and the reductions are those of :func:`lossref.cross_entropy`, through the same class-index
helpers (``_classes.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._classes import (check_index_target, class_axis, half_cross_entropy,
                       negative_log_likelihood, per_target, safe_targets)
from ._numerics import QUIET
from ._reduction import Reduction, resolve_reduction
from ._validation import (HALF_DTYPES, as_class_index, as_float, as_like, asarray,
                          check_class_range, check_class_weight, check_label_smoothing,
                          check_option, is_float_dtype)

__all__ = ["linear_cross_entropy"]

MIN_BLOCK_BYTES, MAX_BLOCK_BYTES = 1 << 18, 1 << 22
"""A block of logits takes 1/64 of the whole logits' size, but at least 256 KiB (smaller blocks
leave BLAS idle) and at most 4 MiB: two or three such buffers are alive at once, so the peak
stays far below the logits at vocabulary scale, and stops growing with the vocabulary."""


class _Problem:
    """A validated call: arrays flattened to one shape, ``(N, in)`` inputs against ``D`` linear
    maps of ``(C, in)`` (D = d1·…·dK positions, 1 without K-dimensional weights)."""

    def __init__(self, input, linear_weight, target, linear_bias, weight, ignore_index,
                 label_smoothing, options, fn):
        check_option(ignore_index, "ignore_index", fn, "int?")   # torch's parser, first
        check_option(label_smoothing, "label_smoothing", fn, "float")
        x = as_float(input, "input", fn)
        if x.ndim not in (1, 2):
            raise ValueError(f"{fn}: expected input with dimensionality 1 or 2, (in_features,) "
                             f"or (N, in_features), got shape {x.shape}")
        w_lin = as_like(linear_weight, x, "linear_weight", fn)
        if w_lin.ndim < 2:
            raise ValueError(f"{fn}: expected linear_weight with dimensionality at least 2, "
                             f"(C, in_features) or (C, d1, ..., dK, in_features), got shape "
                             f"{w_lin.shape}")
        if w_lin.shape[-1] != x.shape[-1]:
            raise ValueError(f"{fn}: expected equal input and linear_weight last dimensions "
                             f"(in_features), got {x.shape[-1]} and {w_lin.shape[-1]}")
        n_classes, out_features = w_lin.shape[0], w_lin.shape[1:-1]
        bias = None
        if linear_bias is not None:
            bias = as_like(linear_bias, x, "linear_bias", fn)
            if bias.shape != (n_classes, *out_features):
                raise ValueError(f"{fn}: expected linear_bias shape {(n_classes, *out_features)},"
                                 f" got {bias.shape}")
        if out_features and x.ndim == 1:
            raise ValueError(f"{fn}: K-dimensional loss defined by linear_weight shape "
                             f"{w_lin.shape} requires batched input (N, {x.shape[-1]}), got "
                             f"unbatched input of shape {x.shape}")
        self.logits_shape = (*x.shape[:-1], n_classes, *out_features)
        # a zero-stride stand-in for the logits: cross_entropy's shape checks read its shape
        like = np.broadcast_to(np.zeros((), x.dtype), self.logits_shape)
        self.axis = class_axis(like, fn)
        self.eps = check_label_smoothing(label_smoothing, fn)
        self.w = check_class_weight(weight, n_classes, x, fn)
        self.n_classes, self.dtype = n_classes, x.dtype
        self.x = x.reshape(-1, x.shape[-1])                            # (N, in)
        n, d = self.x.shape[0], math.prod(out_features)
        self.w_lin = w_lin.reshape(n_classes, d, x.shape[-1])          # (C, D, in)
        self.bias = None if bias is None else bias.reshape(n_classes, d)
        self.n_positions = d
        target = asarray(target)
        self.probabilities = target.shape == self.logits_shape
        if self.probabilities:
            if ignore_index is not None:
                raise ValueError(f"{fn}: ignore_index={ignore_index} cannot be specified when "
                                 "target contains probabilities (leave it at None)")
            if not is_float_dtype(target.dtype):
                raise TypeError(f"{fn}: a target of the logits' shape {self.logits_shape} is "
                                f"read as class probabilities and must be floating point, got "
                                f"dtype {target.dtype}")
            self.y = target.reshape(n, n_classes, d)     # cast block by block, never whole
            self.loss_shape = self.logits_shape[:self.axis] + self.logits_shape[self.axis + 1:]
            self.t = self.ignored = None
        else:
            self.ignore_index = -100 if ignore_index is None else ignore_index
            t = check_index_target(like, as_class_index(target, fn), fn)
            check_class_range(t, n_classes, self.ignore_index, fn)
            self.loss_shape = t.shape
            self.t, self.ignored = safe_targets(t.reshape(n, d), self.ignore_index)
            self.y = None
        chunk = None if options is None else getattr(options, "batch_chunk_size", None)
        logits_bytes = n * n_classes * d * x.dtype.itemsize
        block_bytes = min(MAX_BLOCK_BYTES, max(MIN_BLOCK_BYTES, logits_bytes // 64))
        elements = block_bytes // x.dtype.itemsize
        rows = chunk or max(math.isqrt(elements), elements // max(n_classes, 1))
        self.rows = max(1, min(n, rows))
        self.cols = max(1, min(n_classes, elements // self.rows))

    def class_mass(self, rows: slice, cols: slice, d: int, out: np.ndarray) -> np.ndarray | None:
        """``a[n, c]``, the weight each class's log-probability gets in the loss's linear term:
        ``w_c y'_{n,c}`` (probability targets, smoothed) or ``w_c`` (index targets, for the
        smoothing term; ``None`` when that is 1)."""
        if self.y is not None:
            a = out[:rows.stop - rows.start, :cols.stop - cols.start]
            np.copyto(a, self.y[rows, cols, d], casting="unsafe")
            if self.eps > 0:
                a *= self.dtype.type(1 - self.eps)
                a += self.dtype.type(self.eps / self.n_classes)
            if self.w is not None:
                a *= self.w[cols]
            return a
        return None if self.w is None else self.w[cols]

    def blocks(self, d: int, buffer: np.ndarray):
        """Every (rows, classes) block of the logits of position d, ``x W_dᵀ + b_d``, computed
        into ``buffer``: the same memory, reused for each block."""
        n, c = self.x.shape[0], self.n_classes
        for r0 in range(0, n, self.rows):
            rows = slice(r0, min(r0 + self.rows, n))
            for c0 in range(0, c, self.cols):
                cols = slice(c0, min(c0 + self.cols, c))
                z = buffer[:rows.stop - r0, :cols.stop - c0]
                np.matmul(self.x[rows], self.w_lin[cols, d].T, out=z)
                if self.bias is not None:
                    z += self.bias[cols, d]
                yield rows, cols, z


def _log_softmax_stats(p: _Problem, d: int):
    """For every token at position d, streamed over the class blocks: ``m`` (the largest logit),
    ``log_s`` (``log Σ_c e^{z_c - m}``), so that ``log p_c = (z_c - m) - log_s``; the target's
    logit ``z_t`` (index targets); ``lin = Σ_c a_c (z_c - m)`` and ``mass = Σ_c a_c`` with
    ``a`` from :meth:`_Problem.class_mass` (when the loss has a term over all classes).

    A new block may raise the running maximum from m to m': the sum so far is rescaled by
    ``e^{m - m'}`` and ``lin`` shifted by ``-(m' - m)·mass``, so nothing is computed twice.
    """
    n, dt = p.x.shape[0], p.dtype
    m = np.full(n, -np.inf, dt)
    s = np.zeros(n, dt)
    need_lin = p.y is not None or p.eps > 0
    lin = np.zeros(n, dt) if need_lin else None
    mass = np.zeros(n, dt) if need_lin else None
    z_t = np.zeros(n, dt) if p.t is not None else None
    buffer = np.empty((p.rows, p.cols), dt)
    a_buffer = np.empty((p.rows, p.cols), dt) if p.y is not None else None
    for rows, cols, z in p.blocks(d, buffer):
        if z_t is not None:
            t = p.t[rows, d]
            inside = (t >= cols.start) & (t < cols.stop)
            z_t[rows][inside] = z[inside, t[inside] - cols.start]
        m_old = m[rows]
        m_new = np.maximum(m_old, np.maximum.reduce(z, axis=1))
        first = cols.start == 0                      # nothing to rescale yet
        z -= m_new[:, None]
        if need_lin:
            a = p.class_mass(rows, cols, d, a_buffer)
            if a is None:
                block_lin, block_mass = np.einsum("rv->r", z), dt.type(z.shape[1])
            elif a.ndim == 1:
                block_lin, block_mass = z @ a, a.sum()
            else:
                block_lin, block_mass = np.einsum("rv,rv->r", z, a), np.einsum("rv->r", a)
            if first:
                lin[rows], mass[rows] = block_lin, block_mass
            else:
                lin[rows] -= (m_new - m_old) * mass[rows]
                lin[rows] += block_lin
                mass[rows] += block_mass
        np.exp(z, out=z)
        if first:
            s[rows] = np.einsum("rv->r", z)
        else:
            s[rows] *= np.exp(m_old - m_new)
            s[rows] += np.einsum("rv->r", z)
        m[rows] = m_new
    return m, np.log(s), z_t, lin, mass


def _losses(p: _Problem, reduction: str):
    """The loss (reduced as asked) and, for the gradient, the per-token statistics."""
    n = p.x.shape[0]
    stats = [_log_softmax_stats(p, d) for d in range(p.n_positions)]
    m, log_s = (np.stack([st[i] for st in stats], axis=1) for i in (0, 1))     # (N, D)
    lin, mass = (None if stats[0][i] is None else np.stack([st[i] for st in stats], axis=1)
                 for i in (3, 4))
    dt = p.dtype.type
    if p.y is not None:
        # -Σ_c w_c y'_c log p_c; 'mean' divides by the number of samples N·d1…dK
        loss = np.negative(lin - mass * log_s)
        n_samples = n * p.n_positions if p.n_classes else 0
        value = _reduction.reduce(per_target(loss, p.loss_shape), reduction, n_samples)
        return value, (m, log_s, mass, n_samples)
    z_t = np.stack([st[2] for st in stats], axis=1)
    log_p_t = np.subtract(z_t, m)                    # PyTorch's order: (z_t - m) - log_s
    log_p_t -= log_s
    loss, weight_sum = negative_log_likelihood(log_p_t, p.t, p.ignored, p.w)
    value = _reduction.reduce(per_target(loss, p.loss_shape), reduction, weight_sum)
    if p.eps > 0:
        smooth = np.negative(lin - mass * log_s)     # -Σ_c w_c log p_c
        if p.ignored is not None:
            smooth[p.ignored] = 0
        smooth = _reduction.reduce(per_target(smooth, p.loss_shape), reduction, weight_sum)
        value = dt(1 - p.eps) * value + smooth * dt(p.eps / p.n_classes)
    return value, (m, log_s, mass, weight_sum)


def _half(p: _Problem, reduction: str, grad_output=None, grad: bool = False):
    """float16/bfloat16: torch's reference composition, ``linear`` then ``cross_entropy``. Its
    CPU matmul accumulates in float32 and rounds the logits once; the cross-entropy then
    rounds as torch's kernels do (``_classes.half_cross_entropy``); the backward of
    ``linear`` multiplies the rounded logits' gradient in float32 and rounds once more. The
    logits are built whole here: half precision is for checking numbers, not for scale."""
    h = p.dtype
    x32, w32 = p.x.astype(np.float32), p.w_lin.astype(np.float32)
    logits = np.einsum("ni,cdi->ncd", x32, w32)
    if p.bias is not None:
        logits += p.bias.astype(np.float32)
    logits = logits.astype(h)                                      # (N, C, D)
    lastdim = len(p.logits_shape) <= 2                # the classes on the logits' last axis
    if p.y is not None:
        y3 = p.y.astype(h)
        out = half_cross_entropy(logits, None, p.w, None, reduction, p.eps, p.loss_shape,
                                 lastdim, y3=y3, grad_output=grad_output, grad=grad)
    else:
        t = p.t if p.ignored is None else np.where(p.ignored, p.ignore_index, p.t)
        out = half_cross_entropy(logits, t, p.w, p.ignore_index, reduction, p.eps,
                                 p.loss_shape, lastdim, grad_output=grad_output, grad=grad)
    if not grad:
        return out
    g32 = out.astype(np.float32)
    grads = (np.einsum("ncd,cdi->ni", g32, w32).astype(h),
             np.einsum("ncd,ni->cdi", g32, x32).astype(h))
    if p.bias is not None:
        grads += (g32.sum(axis=0).astype(h),)
    return grads


_FLOAT32, _FLOAT64, _INT64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)


def _plain_call(x, w, t, bias, weight, ignore_index, label_smoothing, options) -> bool:
    """The usual small call, which :func:`_common_linear` serves: (N, in) float32/float64
    input, (C, in) ``linear_weight`` of its dtype, (N,) int64 targets every one a class
    (N > 0), default options, and logits of at most ``MIN_BLOCK_BYTES`` (one block of the
    general path). Identity and ``type`` tests only; anything else goes the general way."""
    if not (type(x) is np.ndarray and type(w) is np.ndarray and type(t) is np.ndarray
            and x.ndim == 2 and w.ndim == 2 and t.ndim == 1
            and (x.dtype is _FLOAT32 or x.dtype is _FLOAT64) and w.dtype is x.dtype
            and t.dtype is _INT64 and bias is None and weight is None and ignore_index is None
            and options is None and label_smoothing == 0.0
            and type(label_smoothing) in (float, int)):
        return False
    n, c = x.shape[0], w.shape[0]
    return (0 < n == t.shape[0] and c > 0 and w.shape[1] == x.shape[1]
            and n * c * x.itemsize <= MIN_BLOCK_BYTES and np.maximum.reduce(t.view(np.uint64)) < c)


@np.errstate(**QUIET)
def _common_linear(x, w, t, reduction: str, grad: bool = False, return_loss: bool = False):
    """``linear_cross_entropy`` (or with ``grad`` its gradients, ``grad_output=None``) of a
    :func:`_plain_call`: the general path's operations on its one block of logits, without
    the set-up for many (the checks, the block plan, the per-position stacks: 80 µs of a
    185 µs call at 16 × 64 × 1000, whose matmul takes 77). The gradient reuses the logits of
    the loss's pass instead of recomputing them by the same matmul (the same numbers)."""
    n, c = x.shape[0], w.shape[0]
    dt = x.dtype.type
    z = np.empty((n, c), x.dtype)
    np.matmul(x, w.T, out=z)                        # the logits, as _Problem.blocks
    index = np.arange(0, n * c, c) + t
    z_t = z.ravel().take(index)
    m = np.maximum.reduce(z, axis=1)                # as _log_softmax_stats, first block
    shifted = np.subtract(z, m[:, None], out=None if grad else z)
    np.exp(shifted, out=shifted)
    log_s = np.log(np.einsum("rv->r", shifted))
    log_p_t = np.subtract(z_t, m)                   # PyTorch's order: (z_t - m) - log_s
    log_p_t -= log_s
    loss = np.negative(log_p_t, out=log_p_t)
    if reduction != "none":
        total = np.add.reduce(loss)
        loss = total if reduction == "sum" else total / dt(n)
    if not grad:
        return loss
    g = dt(1) / dt(n) if reduction == "mean" else dt(1)
    z -= m[:, None]                                 # δ = p - 1{c = t}, times g
    z -= log_s[:, None]
    np.exp(z, out=z)
    z *= g
    z.ravel()[index] -= g
    d_x = np.zeros(x.shape, x.dtype)
    d_x += z @ w
    d_w = np.zeros(w.shape, x.dtype)
    d_w += z.T @ x
    return (loss, (d_x, d_w)) if return_loss else (d_x, d_w)


def linear_cross_entropy(input: ArrayLike, linear_weight: ArrayLike, target: ArrayLike, *,
                         linear_bias: ArrayLike | None = None, weight: ArrayLike | None = None,
                         reduction: Reduction = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options=None):
    r"""Cross-entropy of the logits ``input @ linear_weight.T + linear_bias``, never built whole.

    Equal to ``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``: with
    :math:`z_{n,c} = x_n \cdot W_c + b_c`,

    .. math::
        l_n = w_{y_n}\Big(-z_{n,y_n} + \log \sum_c e^{z_{n,c}}\Big)

    and ``weight``, ``ignore_index``, ``label_smoothing``, probability targets and the
    reductions exactly as in :func:`lossref.cross_entropy` (``'mean'`` divides by the weights
    of the non-ignored targets). The logits are computed a block of (tokens × classes) at a
    time (1/64 of the logits' size per block, between 256 KiB and 4 MiB) and each token's
    :math:`\log\sum_c e^{z_{n,c}}` is accumulated across the class blocks, so the peak memory
    stays a few blocks whatever the vocabulary size.

    Parameters
    ----------
    input : array_like, shape (in_features,) or (N, in_features)
        Hidden vectors, floating point.
    linear_weight : array_like, shape (C, in_features) or (C, d1, ..., dK, in_features)
        The projection to the logits; K-dimensional weights give logits (N, C, d1, ..., dK)
        (one linear map per position, all reading the same input row) and need batched input.
    target : array_like
        Class indices of shape (), (N,) or (N, d1, ..., dK), integer; or class probabilities
        of the logits' shape (C,), (N, C) or (N, C, d1, ..., dK), floating point.
    linear_bias : array_like, shape (C,) or (C, d1, ..., dK), optional
    weight : array_like, shape (C,), optional
        Per-class weight.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    ignore_index : int, optional
        Ignored target value; ``None`` (the default) means -100 for index targets. Must stay
        ``None`` with probability targets.
    label_smoothing : float in [0, 1], default 0.0
    options : optional
        PyTorch's ``LinearCrossEntropyOptions`` (or anything with a ``batch_chunk_size``):
        only ``batch_chunk_size`` is read, as the number of tokens per block. lossref always
        works in blocks (PyTorch builds the logits whole when ``options`` is ``None``).

    Returns
    -------
    numpy scalar, or ndarray of the target's shape (the logits' shape without C for
    probability targets) when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes disagree (input, linear_weight, linear_bias, target, weight), ``label_smoothing``
        outside [0, 1], ``ignore_index`` with probability targets, unknown ``reduction``.
    TypeError
        Non-floating input, index targets not integer, probability targets not floating.
    IndexError
        A class index outside [0, C-1] that is not ``ignore_index``.

    Examples
    --------
    >>> import numpy as np
    >>> hidden = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> vocab = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])         # 3 classes
    >>> tokens = np.array([0, 1, 2])
    >>> print(f"{linear_cross_entropy(hidden, vocab, tokens):.4f}")
    0.7105
    >>> from lossref import cross_entropy
    >>> print(f"{cross_entropy(hidden @ vocab.T, tokens):.4f}")       # the logits, whole
    0.7105
    """
    fn = "linear_cross_entropy"
    reduction = resolve_reduction(None, None, reduction)
    if _plain_call(input, linear_weight, target, linear_bias, weight, ignore_index,
                   label_smoothing, options):
        return _common_linear(input, linear_weight, target, reduction)
    p = _Problem(input, linear_weight, target, linear_bias, weight, ignore_index,
                 label_smoothing, options, fn)
    if p.dtype in HALF_DTYPES:
        return _half(p, reduction)
    with np.errstate(**QUIET):
        return _losses(p, reduction)[0]


def linear_cross_entropy_grad(input: ArrayLike, linear_weight: ArrayLike, target: ArrayLike, *,
                              linear_bias: ArrayLike | None = None,
                              weight: ArrayLike | None = None, reduction: Reduction = "mean",
                              ignore_index: int | None = None, label_smoothing: float = 0.0,
                              options=None, grad_output: ArrayLike | None = None,
                              return_loss: bool = False):
    r"""Gradients of :func:`linear_cross_entropy`: ``(d_input, d_linear_weight)``, and
    ``d_linear_bias`` third when ``linear_bias`` is given; each of its argument's shape and
    dtype.

    With :math:`q_{n,c}` the weight the loss puts on :math:`-\log p_{n,c}` (times the upstream
    gradient and the mean's :math:`1/\sum w`) and :math:`Q_n = \sum_c q_{n,c}`, the logits'
    gradient is :math:`\delta_{n,c} = p_{n,c} Q_n - q_{n,c}`, and

    .. math::
        \frac{\partial}{\partial x_n} = \sum_c \delta_{n,c} W_c, \qquad
        \frac{\partial}{\partial W_c} = \sum_n \delta_{n,c}\, x_n, \qquad
        \frac{\partial}{\partial b_c} = \sum_n \delta_{n,c}.

    Index targets: :math:`q_{n,c} = g_n w_c\big((1-\varepsilon)[c = y_n] +
    \varepsilon/C\big)` (0 for ignored targets); probability targets: :math:`q_{n,c} =
    g_n w_c y'_{n,c}`. δ is computed block by block, in a second pass over the logits after
    the first has found every token's :math:`\log\sum_c e^{z_{n,c}}`: the logits are never
    whole, here either. With ``return_loss=True`` the result is ``(loss, grads)``: the loss of
    :func:`linear_cross_entropy`, which that first pass computes anyway.

    Examples
    --------
    >>> import numpy as np
    >>> hidden = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> vocab = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> d_hidden, d_vocab = linear_cross_entropy_grad(hidden, vocab, np.array([0, 1, 2]))
    >>> print(np.round(d_hidden, 4))
    [[-0.0518  0.2443]
     [ 0.1116 -0.1416]
     [-0.1408  0.089 ]]
    >>> d_vocab.shape
    (3, 2)
    """
    fn = "linear_cross_entropy"
    reduction = resolve_reduction(None, None, reduction)
    if grad_output is None and _plain_call(input, linear_weight, target, linear_bias, weight,
                                           ignore_index, label_smoothing, options):
        return _common_linear(input, linear_weight, target, reduction, grad=True,
                              return_loss=return_loss)
    p = _Problem(input, linear_weight, target, linear_bias, weight, ignore_index,
                 label_smoothing, options, fn)
    if p.dtype in HALF_DTYPES:
        grads = _half(p, reduction, grad_output, grad=True)
        grads = (grads[0].reshape(asarray(input).shape),
                 grads[1].reshape(asarray(linear_weight).shape)) + \
            tuple(b.reshape(asarray(linear_bias).shape) for b in grads[2:])
        return (_half(p, reduction), grads) if return_loss else grads
    dt = p.dtype
    n, d_count = p.x.shape[0], p.n_positions
    d_x = np.zeros(p.x.shape, dt)
    d_w = np.zeros(p.w_lin.shape, dt)
    d_b = None if p.bias is None else np.zeros(p.bias.shape, dt)
    with np.errstate(**QUIET):
        loss, (m, log_s, mass, denominator) = _losses(p, reduction)
        g = _reduction.reduce_grad(grad_output, p.loss_shape, dt, reduction, denominator)
        g = np.array(g, dtype=dt).reshape(n, d_count)
        if p.y is not None:
            total = g * mass                                       # Q_n
        else:
            w_t = np.ones(p.t.shape, dt) if p.w is None else p.w[p.t]
            w_all = dt.type(p.n_classes) if p.w is None else p.w.sum()
            target_q = g * w_t * dt.type(1 - p.eps)                # q at the target class
            total = target_q + g * (w_all * dt.type(p.eps / p.n_classes))
            if p.ignored is not None:                              # exactly 0, even if g is inf
                g = np.where(p.ignored, dt.type(0), g)
                target_q[p.ignored] = 0
                total[p.ignored] = 0
        buffer = np.empty((p.rows, p.cols), dt)
        a_buffer = np.empty((p.rows, p.cols), dt) if p.y is not None else None
        for d in range(d_count):
            for rows, cols, z in p.blocks(d, buffer):
                # δ = p Q - q, in place: z becomes the block's gradient with respect to the logits
                z -= m[rows, d, None]
                z -= log_s[rows, d, None]
                np.exp(z, out=z)
                z *= total[rows, d, None]
                if p.y is not None:
                    z -= p.class_mass(rows, cols, d, a_buffer) * g[rows, d, None]
                else:
                    if p.eps > 0:
                        smooth_q = dt.type(p.eps / p.n_classes) * g[rows, d, None]
                        z -= smooth_q if p.w is None else smooth_q * p.w[cols]
                    t = p.t[rows, d]
                    inside = np.flatnonzero((t >= cols.start) & (t < cols.stop))
                    if p.ignored is not None:
                        inside = inside[~p.ignored[rows, d][inside]]
                    z[inside, t[inside] - cols.start] -= target_q[rows, d][inside]
                d_x[rows] += z @ p.w_lin[cols, d]
                d_w[cols, d] += z.T @ p.x[rows]
                if d_b is not None:
                    d_b[cols, d] += np.einsum("rv->v", z)
    grads = (d_x.reshape(asarray(input).shape), d_w.reshape(asarray(linear_weight).shape))
    if d_b is not None:
        grads += (d_b.reshape(asarray(linear_bias).shape),)
    # the first pass over the logits gave the loss too: return_loss hands it out with the grads
    return (loss, grads) if return_loss else grads
