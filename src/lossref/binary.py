"""Binary cross-entropy, on probabilities and on logits."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._elementwise import (block_total, plain_pair, reduce_elementwise, total_by_blocks,
                           work_buffers)
from ._numerics import QUIET, clamp_below, clamp_log, log1m_clamped, log_sigmoid, sigmoid
from . import _reduction
from ._reduction import Reduction, resolve_reduction
from ._validation import (HALF_DTYPES, asarray, as_float, as_like, check_broadcast,
                          check_same_shape, check_unit_interval)

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]


def _elementwise_weight(weight, x: np.ndarray, name: str, fn: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = as_like(weight, x, name, fn)
    check_broadcast(w, x.shape, name, fn)
    return w


def _inputs(input, target, weight, fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Input, target of the same shape cast to its dtype, and the weight (checked in that order)."""
    x = as_float(input, "input", fn)
    y = asarray(target)
    check_same_shape(x, y, fn)
    y = as_like(y, x, "target", fn)
    return x, y, _elementwise_weight(weight, x, "weight", fn)


def binary_cross_entropy(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: Reduction = "mean"):
    r"""Binary cross-entropy between probabilities ``input`` and targets ``target``.

    .. math::
        l_n = -w_n \left[ y_n \max(\log x_n, -100) + (1 - y_n) \max(\log(1 - x_n), -100) \right]

    The clamp at -100 is PyTorch's: it keeps the loss finite when a probability is
    exactly 0 or 1, so ``binary_cross_entropy([0.], [1.]) == 100``.

    Parameters
    ----------
    input : array_like, shape (*)
        Probabilities in [0, 1], floating point (float32 stays float32).
    target : array_like, shape (*), same as ``input``
        Targets in [0, 1] (soft labels allowed); cast to the input's dtype.
    weight : array_like, optional
        Per-element rescaling weight, broadcastable to the input's shape.
    size_average, reduce : bool, optional
        Deprecated; when either is given it overrides ``reduction``
        (see :func:`lossref.legacy_reduction`).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'`` divides the sum by the number of elements, not by the weights.

    Returns
    -------
    numpy scalar, or ndarray of shape (*) when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes differ, ``weight`` does not broadcast, an element of ``input`` or ``target``
        lies outside [0, 1] or is NaN, or ``reduction`` is unknown.
    TypeError
        ``input`` is not floating point.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.5, 0.4, 0.3], [0.3, 0.2, 0.5]], dtype=np.float32)
    >>> y = np.array([[0, 1, 0], [1, 0, 0]], dtype=np.float32)
    >>> print(f"{binary_cross_entropy(x, y, reduction='sum'):.4f}")
    4.0864
    >>> binary_cross_entropy(np.array([0.0]), np.array([1.0]))
    np.float64(100.0)
    """
    fn = "binary_cross_entropy"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x, y, w = _inputs(input, target, weight, fn)
    check_unit_interval(x, "input", fn)
    check_unit_interval(y, "target", fn)

    # PyTorch's kernel, term by term, in two buffers:
    # (y - 1) * max(log(1 - x), -100) - y * max(log(x), -100)
    log_term = log1m_clamped(x)
    loss = np.subtract(y, 1)
    loss *= log_term
    log_term = clamp_log(x, out=log_term)
    log_term *= y
    loss -= log_term
    if w is not None:
        loss *= w
    return _reduction.reduce(loss, reduction)


def binary_cross_entropy_grad(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
                              size_average: bool | None = None, reduce: bool | None = None,
                              reduction: Reduction = "mean", *, grad_output: ArrayLike | None = None
                              ) -> np.ndarray:
    r"""Gradient of :func:`binary_cross_entropy` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = w_n \frac{x_n - y_n}{\max(x_n (1 - x_n),\ 10^{-12})}

    times the upstream gradient (``grad_output``, divided by the number of elements for
    ``'mean'``). The denominator is PyTorch's: it is clamped at 1e-12 rather than following
    the forward's -100 clamp, so a probability of exactly 0 with target 1 gets -1e12 (and the
    clamped forward would have said 0).

    Parameters
    ----------
    input, target, weight, size_average, reduce, reduction
        As for :func:`binary_cross_entropy` (the same checks and errors).
    grad_output : array_like, optional
        The upstream gradient, of the loss output's shape: ``()`` for ``'mean'``/``'sum'``,
        the input's shape for ``'none'``. ``None`` means ones.

    Returns
    -------
    ndarray of the input's shape and dtype
        ``d(Σ grad_output · loss) / d input``. ``target`` and ``weight`` get no gradient.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.5, 0.75, 0.0])
    >>> y = np.array([1.0, 0.0, 1.0])
    >>> print(binary_cross_entropy_grad(x, y, reduction="sum"))
    [-2.e+00  4.e+00 -1.e+12]
    """
    fn = "binary_cross_entropy"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x, y, w = _inputs(input, target, weight, fn)
    check_unit_interval(x, "input", fn)
    check_unit_interval(y, "target", fn)

    g = _upstream(grad_output, x, reduction)
    denominator = np.subtract(1, x, out=np.empty_like(x))   # (out=: a 0-d input stays an array)
    denominator *= x
    # PyTorch's EPSILON in the backward, in the input's dtype: float16 rounds 1e-12 to 0, so a
    # probability of exactly 0 or 1 divides by 0 there (inf or nan), as torch's kernel does
    clamp_below(denominator, x.dtype.type(1e-12))
    grad = np.subtract(x, y, out=np.empty_like(x))
    with np.errstate(**QUIET):
        grad *= g
        grad /= denominator
        if w is not None:
            grad *= w
        return _mean_of(grad, reduction)


def binary_cross_entropy_with_logits(input: ArrayLike, target: ArrayLike,
                                     weight: ArrayLike | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: Reduction = "mean", pos_weight: ArrayLike | None = None):
    r"""Binary cross-entropy on logits: a sigmoid and BCE in one stable step.

    .. math::
        l_n = -w_n \left[ p\, y_n \log \sigma(x_n) + (1 - y_n) \log(1 - \sigma(x_n)) \right]
            = w_n \left[ (1 - y_n)\, x_n - (1 + (p - 1) y_n) \log \sigma(x_n) \right]

    with :math:`p` the ``pos_weight``. The right-hand form uses
    :math:`\log(1 - \sigma(x)) = \log \sigma(x) - x` and
    :math:`\log \sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, so it stays finite and
    exact for logits of any size (±1e4 included), where ``sigmoid`` then ``log``
    rounds to 0 and hits the -100 clamp.

    Parameters
    ----------
    input : array_like, shape (*)
        Logits (unbounded real scores), floating point.
    target : array_like, shape (*), same as ``input``
        Targets, usually in [0, 1]; not range-checked (as in PyTorch).
    weight : array_like, optional
        Per-element weight, broadcastable to the input's shape.
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    pos_weight : array_like, optional
        Weight of the positive term, broadcast against the input from the last
        dimension: a shape ``(C,)`` vector weights each of C classes (labels).

    Returns
    -------
    numpy scalar, or ndarray of shape (*) when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes differ, ``weight``/``pos_weight`` do not broadcast to the input, or an
        unknown ``reduction``.
    TypeError
        ``input`` is not floating point.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2], [2, 2], [3, 4], [4, 5]], dtype=np.float32)
    >>> y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    >>> print(f"{binary_cross_entropy_with_logits(x, y, reduction='sum', pos_weight=[3.0]):.4f}")
    12.7158
    """
    fn = "binary_cross_entropy_with_logits"
    if (weight is None and pos_weight is None and size_average is None and reduce is None
            and plain_pair(input, target, reduction)):
        # the common call: the general path below ends in the same total_by_blocks for it,
        # after ~10 µs of checks that such arrays pass unchanged (issue 29)
        with np.errstate(**QUIET):
            return total_by_blocks(_logits_loss_sum, reduction, input, target)
    reduction = resolve_reduction(size_average, reduce, reduction)
    x, y, w = _inputs(input, target, weight, fn)
    p = _elementwise_weight(pos_weight, x, "pos_weight", fn)

    if p is None and w is None and x.dtype not in HALF_DTYPES:
        with np.errstate(**QUIET):
            return reduce_elementwise(_logits_loss, reduction, x, y, block_sum=_logits_loss_sum)
    log_sig = log_sigmoid(x)
    # ±inf logits give 0 · inf or inf - inf somewhere: nan, silently, as in PyTorch
    with np.errstate(**QUIET):
        if p is not None:
            log_sig *= (p - 1) * y + 1
        loss = 1 - y
        loss *= x
        loss -= log_sig
    if w is not None:
        loss *= w
    return _reduction.reduce(loss, reduction)


BLOCK = 1 << 15
"""Elements per block of :func:`_logits_loss_blocked`: 128 KiB of float32, so the block's
buffers stay in the core's L2 cache across the formula's eight passes."""


def _logits_loss(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(1 - y) x - log σ(x)`` elementwise, float32/float64, without weights (the operations
    of the general form above), a block at a time when the input is large."""
    if x.size > BLOCK:
        return _logits_loss_blocked(x, y)
    loss = np.subtract(1, y)
    loss *= x
    loss -= log_sigmoid(x)
    return loss


def _logits_loss_sum(x: np.ndarray, y: np.ndarray) -> float:
    """Σ :func:`_logits_loss` of one block (``total_by_blocks``): the same operations (those of
    ``_numerics.log_sigmoid`` inlined) in two reused buffers, then a dot."""
    n = x.size
    a, log_sig = work_buffers(x.dtype)
    a, log_sig = a[:n], log_sig[:n]
    np.abs(x, out=a)                                    # log σ(x) = min(x, 0) - log1p(e^-|x|)
    np.negative(a, out=a)
    np.exp(a, out=a)
    np.log1p(a, out=a)
    np.minimum(x, x.dtype.type(0), out=log_sig)
    log_sig -= a
    np.subtract(1, y, out=a)                            # (1 - y) x - log σ(x)
    a *= x
    a -= log_sig
    return block_total(a)


def _logits_loss_blocked(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(1 - y) x - log σ(x)``, the same operations as above, a cache-sized block at a time:
    each of the eight elementwise passes then reads its block from cache, not from memory
    (1.3x faster at 4·10⁶ float32 elements)."""
    xf, yf = x.reshape(-1), y.reshape(-1)
    loss = np.empty(xf.shape, x.dtype)
    with np.errstate(**QUIET):
        for start in range(0, xf.size, BLOCK):
            block = slice(start, start + BLOCK)
            out = loss[block]
            np.subtract(1, yf[block], out=out)
            out *= xf[block]
            out -= log_sigmoid(xf[block])
    return loss.reshape(x.shape)


def binary_cross_entropy_with_logits_grad(input: ArrayLike, target: ArrayLike,
                                          weight: ArrayLike | None = None,
                                          size_average: bool | None = None,
                                          reduce: bool | None = None, reduction: Reduction = "mean",
                                          pos_weight: ArrayLike | None = None, *,
                                          grad_output: ArrayLike | None = None) -> np.ndarray:
    r"""Gradient of :func:`binary_cross_entropy_with_logits` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n}
            = w_n \big[ (p\, y_n + 1 - y_n)\, \sigma(x_n) - p\, y_n \big]

    which is :math:`w_n (\sigma(x_n) - y_n)` without ``pos_weight`` (:math:`p = 1`), times the
    upstream gradient (divided by the number of elements for ``'mean'``). It is bounded for
    every logit, ±inf included: :math:`\sigma(\pm\infty)` is 1 or 0.

    Parameters
    ----------
    input, target, weight, size_average, reduce, reduction, pos_weight
        As for :func:`binary_cross_entropy_with_logits` (the same checks and errors).
    grad_output : array_like, optional
        The upstream gradient, of the loss output's shape: ``()`` for ``'mean'``/``'sum'``,
        the input's shape for ``'none'``. ``None`` means ones.

    Returns
    -------
    ndarray of the input's shape and dtype
        ``d(Σ grad_output · loss) / d input``. ``target``, ``weight`` and ``pos_weight``
        get no gradient.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 0.0, 20.0], dtype=np.float32)
    >>> y = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    >>> binary_cross_entropy_with_logits_grad(x, y, reduction="sum")
    array([-0.5,  0.5,  1. ], dtype=float32)
    >>> binary_cross_entropy_with_logits_grad(x, y, reduction="sum", pos_weight=[3.0])
    array([-1.5,  0.5,  1. ], dtype=float32)
    """
    fn = "binary_cross_entropy_with_logits"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x, y, w = _inputs(input, target, weight, fn)
    p = _elementwise_weight(pos_weight, x, "pos_weight", fn)

    g = _upstream(grad_output, x, reduction)
    with np.errstate(**QUIET):       # nan logits give nan, as in PyTorch
        if p is None:
            grad = np.subtract(sigmoid(x), y, out=np.empty_like(x))
        else:
            py = np.multiply(p, y, out=np.empty_like(x))
            grad = py + 1
            grad -= y
            grad *= sigmoid(x)
            grad -= py
        grad *= g
        if w is not None:
            grad *= w
        return _mean_of(grad, reduction)


def _upstream(grad_output, x: np.ndarray, reduction: str) -> np.ndarray:
    """The upstream gradient per element, not yet divided by the mean's count: torch's BCE
    backward kernels multiply by ``grad_output`` first and divide by ``numel`` last
    (:func:`_mean_of`), and in float16 the order decides what overflows."""
    return _reduction.reduce_grad(grad_output, x.shape, x.dtype,
                                  "sum" if reduction == "mean" else reduction)


def _mean_of(grad: np.ndarray, reduction: str) -> np.ndarray:
    """``grad / numel`` for ``'mean'`` (torch's ``grad_input.div_(input.numel())``), in float32
    for the half dtypes and rounded once, as torch's division by a scalar."""
    if reduction != "mean":
        return grad
    if grad.dtype in HALF_DTYPES:
        return (grad.astype(np.float32) / np.float32(grad.size)).astype(grad.dtype)
    grad /= grad.dtype.type(grad.size)
    return grad
