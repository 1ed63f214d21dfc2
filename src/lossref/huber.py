"""Smooth L1 and Huber losses (with their gradients): squared near zero, a straight line beyond
a kink. ``huber_loss(δ) = δ · smooth_l1_loss(β = δ)``.

Split out of ``regression.py`` for length; they share its input handling (the broadcast and
PyTorch's size warning, the functional ``weight``, the reductions), imported from there.

float16 inputs round after every operation as torch's CPU kernels do; bfloat16 smooth L1 is
computed in float32 and rounded once, as torch's kernel does; the reductions accumulate in
float32 (``_reduction.reduce``).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._elementwise import (block_total, constant_block, in_opmath, mean_factor, plain_pair,
                           reduce_elementwise, total_by_blocks, work_buffers)
from ._numerics import QUIET   # every computation after validation runs under it
from ._reduction import resolve_reduction, sum_to_shape
from ._validation import check_option, is_bfloat16
from .regression import (_absolute_error, _absolute_error_sum, _difference,
                         _input_shaped_weight, _pair, _reduce_weighted, _sign, _upstream,
                         _weighted_reduction)

__all__ = ["huber_loss", "smooth_l1_loss"]


# ---- smooth L1 ---------------------------------------------------------------------------------


def _smooth_l1_inputs(input, target, size_average, reduce, reduction, beta, fn):
    x, y, _ = _pair(input, target, fn)
    reduction = resolve_reduction(size_average, reduce, reduction)
    # torch tests ``beta == 0.0`` in Python before its parser sees beta: 0j and False are L1
    beta = 0.0 if beta == 0.0 else float(check_option(beta, "beta", fn, "float"))
    if not beta >= 0:
        raise ValueError("smooth_l1_loss does not support negative values for beta, "
                         f"got beta={beta!r} (expected beta >= 0)")
    return x, y, reduction, beta


def smooth_l1_loss(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0):
    r"""Smooth L1 loss: squared near zero, absolute beyond ``beta``.

    .. math::
        l_n = \begin{cases}
            0.5\, (x_n - y_n)^2 / \beta, & |x_n - y_n| < \beta \\
            |x_n - y_n| - 0.5\, \beta, & \text{otherwise}
        \end{cases}

    ``beta = 0`` is exactly :func:`l1_loss` (PyTorch calls it). ``huber_loss(δ) =
    δ · smooth_l1_loss(β = δ)``: the two share their kink, the slopes differ by δ.

    Parameters
    ----------
    input : array_like, shape (*)
        Predictions, floating point.
    target : array_like, broadcastable with ``input``
        Targets; a different shape warns and broadcasts as in :func:`mse_loss`.
    size_average, reduce : bool, optional
        Deprecated; when either is given it overrides ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    beta : float, default 1.0
        Where the square turns into the absolute value; must be >= 0.

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        ``beta < 0`` (or NaN), shapes that do not broadcast, unknown ``reduction``.
    TypeError
        ``input`` is not floating point; ``beta`` is not a real number (torch's
        parser; a beta equal to 0, even ``0j``, is :func:`l1_loss` before that check).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    >>> y = np.array([1.5, 2.0, 1.0], dtype=np.float32)
    >>> smooth_l1_loss(x, y, reduction="none")
    array([0.125, 0.   , 2.5  ], dtype=float32)
    """
    fn = "smooth_l1_loss"
    if (type(beta) is float and beta > 0 and size_average is None and reduce is None
            and plain_pair(input, target, reduction)):
        # the common call: the general path below ends in the same total_by_blocks for it,
        # after ~10 µs of checks that such arrays pass unchanged (issue 29)
        with np.errstate(**QUIET):
            return total_by_blocks(_kinked_sum, reduction, input, target, beta, beta)
    x, y, reduction, beta = _smooth_l1_inputs(input, target, size_average, reduce, reduction,
                                              beta, fn)
    with np.errstate(**QUIET):
        if beta == 0.0:  # torch calls l1_loss, |x - y| itself
            return reduce_elementwise(_absolute_error, reduction, x, y,
                                      block_sum=_absolute_error_sum)
        if is_bfloat16(x.dtype):
            # torch's bfloat16 kernel converts to float32, computes, rounds once (opmath);
            # its float16 kernel rounds after every operation, as NumPy's float16 does
            loss = in_opmath(partial(_smooth_l1, beta=beta), x, y)
            return _reduction.reduce(loss, reduction)
        return reduce_elementwise(partial(_smooth_l1, beta=beta), reduction, x, y,
                                  block_sum=_kinked_sum, params=(beta, beta))


def _smooth_l1(x: np.ndarray, y: np.ndarray, beta: float) -> np.ndarray:
    """The per-element smooth L1 of torch's kernel, without a branch per element.

    torch: ``z < β ? 0.5·z·z/β : z - 0.5·β`` with ``z = |x - y|``. ``np.where`` on a mask that
    is random element by element costs a mispredicted branch for half of them (~15 ns each,
    7x the arithmetic); the two branches are instead joined by a maximum. The square is
    taken of ``min(z, β⁻)`` (β⁻ the float just below β): below β that is z, torch's square
    bit for bit, and the square is the larger branch there; from β on it is a number at most
    0.5·β, never above the line ``z - 0.5·β``, which the maximum returns. NaN stays NaN.
    """
    z = _absolute_error(x, y)
    beta = z.dtype.type(beta)   # torch's kernel reads β in the input's dtype
    if beta == 0:               # a β that rounds to 0 there: every z is on the line
        return z
    c = np.minimum(z, np.nextafter(beta, z.dtype.type(0)))
    square = np.multiply(c, 0.5)   # torch's order: ((0.5 · z) · z) / β
    square *= c
    square /= beta
    line = np.subtract(z, 0.5 * beta, out=z)
    return np.maximum(square, line, out=line)


def smooth_l1_loss_grad(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0,
                        *, grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`smooth_l1_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = \begin{cases}
            (x_n - y_n) / \beta, & |x_n - y_n| < \beta \\
            \operatorname{sign}(x_n - y_n), & \text{otherwise}
        \end{cases}

    ``beta = 0`` takes :func:`lossref.grad.l1_loss` (sign(0) = 0), as torch does.

    Examples
    --------
    >>> import numpy as np
    >>> smooth_l1_loss_grad(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0]),
    ...                     reduction="sum")
    array([-0.5,  0. ,  1. ])
    """
    fn = "smooth_l1_loss"
    if (grad_output is None and type(beta) is float and beta > 0 and size_average is None
            and reduce is None and plain_pair(input, target, reduction)):
        # the common call: the steps below with 1/N (or nothing, for 'sum') as a number,
        # without ~10 µs of checks and of broadcasting an upstream of ones (issue 29)
        with np.errstate(**QUIET):
            slope = _difference(input, target)
            np.divide(slope, beta, out=slope)
            np.clip(slope, -1, 1, out=slope)
            factor = mean_factor(reduction, input)
            if factor is not None:
                slope *= factor
            return slope
    x, y, reduction, beta = _smooth_l1_inputs(input, target, size_average, reduce, reduction,
                                              beta, fn)
    with np.errstate(**QUIET):
        d = _difference(x, y)
        g = _reduction.reduce_grad(grad_output, d.shape, x.dtype, reduction)
        if beta > 0.0:  # clip(d / β, -1, 1) is d/β inside the kink and ±1 from |d| = β on
            slope = np.divide(d, beta, out=d)
            # one pass of NumPy's clip loop: ~1.7x faster than a minimum and a maximum with a
            # number (NumPy 2's slower scalar loops), the same numbers, NaN kept
            np.clip(slope, -1, 1, out=slope)
        else:
            slope = _sign(d)
        slope *= g
        return sum_to_shape(slope, x.shape)


# ---- Huber -------------------------------------------------------------------------------------


def _check_delta(delta, fn: str) -> float:
    """torch's parser (delta is a ``float``), then its kernel's ``delta > 0`` (NaN refused)."""
    delta = float(check_option(delta, "delta", fn, "float"))
    if not delta > 0:
        raise ValueError("huber_loss does not support non-positive values for delta, "
                         f"got delta={delta!r} (expected delta > 0)")
    return delta


def _huber_inputs(input, target, reduction, delta, weight, fn):
    x, y, _ = _pair(input, target, fn)
    if weight is None:  # torch: the reduction is checked first, then delta
        reduction = resolve_reduction(None, None, reduction)
        return x, y, None, reduction, _check_delta(delta, fn)
    w = _input_shaped_weight(weight, x, fn)
    delta = _check_delta(delta, fn)  # torch: delta first (the unreduced kernel), then reduction
    return x, y, w, _weighted_reduction(reduction, fn), delta


def huber_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean", delta: float = 1.0,
               weight: ArrayLike | None = None):
    r"""Huber loss: squared near zero, ``delta``-scaled absolute value beyond ``delta``.

    .. math::
        l_n = w_n \begin{cases}
            0.5\, (x_n - y_n)^2, & |x_n - y_n| < \delta \\
            \delta\, (|x_n - y_n| - 0.5\, \delta), & \text{otherwise}
        \end{cases}

    so ``huber_loss(δ) = δ · smooth_l1_loss(β = δ)``. With the functional ``weight`` the
    ``'mean'`` is the plain mean of :math:`w_n e_n` (divided by the number of elements,
    not by Σw as in :func:`l1_loss` and :func:`mse_loss`).

    Parameters
    ----------
    input : array_like, shape (*)
        Predictions, floating point.
    target : array_like, broadcastable with ``input``
        Targets; a different shape warns and broadcasts as in :func:`mse_loss`.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    delta : float, default 1.0
        Where the square turns into the straight line; must be > 0.
    weight : array_like, optional
        One weight per input element, of exactly the input's shape (functional only).

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        ``delta <= 0`` (or NaN), shapes that do not broadcast, ``weight`` not of the input's
        shape, unknown ``reduction``.
    TypeError
        ``input`` is not floating point; ``delta`` is not a real number (``HuberLoss``
        refuses it at construction, as torch does).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    >>> y = np.array([1.5, 2.0, 1.0], dtype=np.float32)
    >>> huber_loss(x, y, reduction="none", delta=2.0)
    array([0.125, 0.   , 4.   ], dtype=float32)
    >>> print(f"{huber_loss(x, y, weight=np.array([2.0, 1.0, 1.0])):.4f}")
    0.9167
    """
    fn = "huber_loss"
    if weight is None and type(delta) is float and delta > 0 and plain_pair(input, target,
                                                                              reduction):
        # the common call, as in smooth_l1_loss: the general path's own total_by_blocks
        with np.errstate(**QUIET):
            return total_by_blocks(_kinked_sum, reduction, input, target, delta, 1.0)
    x, y, w, reduction, delta = _huber_inputs(input, target, reduction, delta, weight, fn)
    with np.errstate(**QUIET):
        if w is None:
            return reduce_elementwise(partial(_huber, delta=delta), reduction, x, y,
                                      block_sum=_kinked_sum, params=(delta, 1.0))
        return _reduce_weighted(partial(_huber, delta=delta), x, y, w, reduction,
                                mean_over_weights=False)


#: the smallest kink :func:`_kinked_sum` takes its two-dot form for: products ``c·z`` with
#: ``z >= c = kink`` stay normal numbers (no gradual underflow eating their digits)
_SMALLEST_KINK = {np.dtype(np.float32): 2.0 ** -60, np.dtype(np.float64): 2.0 ** -500}


def _kinked_sum(x: np.ndarray, y: np.ndarray, kink: float, divisor: float) -> float:
    """Σ of smooth L1 (kink β, divisor β) or Huber (kink δ, divisor 1) over one block, for
    ``total_by_blocks``.

    With ``z = |x - y|`` and ``c = min(z, kink)``, Huber's element is ``c·(z - c/2)``: ``z²/2``
    below the kink (``c = z``), ``δ·(z - δ/2)`` — the line — from it on; smooth L1's is that
    divided by β. So the block's sum is ``dot(c, z) - dot(c, c)/2``: two BLAS dots after three
    passes (difference, abs, minimum), against ten passes for the per-element form and its
    sum. ``c ≤ z`` makes the subtracted dot at most half the first: the difference loses at
    most one bit, and the sum differs from the sum of torch's elements in the last bits only.
    (A form with ``Σz - Σc`` would cancel catastrophically where most z lie below the kink.)

    A kink so small that ``kink·z`` could underflow takes the sum as ``Σc²/2 + kink·Σ(z - c)``
    instead (one pass more, every term ≥ 0). The buffers are this thread's reused
    ``work_buffers``; the kink is a block of equal numbers (``constant_block``: NumPy's
    ``minimum`` against a number is slower).
    """
    n = x.size
    z_buffer, c_buffer = work_buffers(x.dtype)
    z = np.subtract(x, y, out=z_buffer[:n])
    np.abs(z, out=z)
    c = np.minimum(z, constant_block(kink, x.dtype)[:n], out=c_buffer[:n])
    if kink >= _SMALLEST_KINK[x.dtype]:
        total = float(np.dot(c, z)) - 0.5 * float(np.dot(c, c))
    else:
        squares = float(np.dot(c, c))
        z -= c
        total = 0.5 * squares + kink * block_total(z)
    return total / divisor


def _huber(x: np.ndarray, y: np.ndarray, delta: float) -> np.ndarray:
    """The per-element Huber loss of torch's kernel, without a branch per element.

    torch: ``z < δ ? 0.5·z·z : δ·(z - 0.5·δ)`` with ``z = |x - y|``. As in :func:`_smooth_l1`,
    the two branches are joined by a maximum instead of ``np.where``: the square of
    ``c = min(z, δ)`` is torch's square below δ (where it is the larger branch), and
    ``0.5·δ·δ`` from δ on, which rounds exactly as ``δ·(0.5·δ)``, the line at z = δ, and the
    line only grows from there. Bit for bit torch's value; NaN stays NaN.
    """
    z = _absolute_error(x, y)
    c = np.minimum(z, delta)
    square = np.multiply(c, 0.5)
    square *= c
    line = np.subtract(z, 0.5 * delta, out=z)
    line *= delta
    return np.maximum(square, line, out=line)


def huber_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
                    delta: float = 1.0, weight: ArrayLike | None = None, *,
                    grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`huber_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = w_n \operatorname{clip}(x_n - y_n, -\delta, \delta)

    times the reduction's factor (1/N also with ``weight``), summed over broadcast copies.

    Examples
    --------
    >>> import numpy as np
    >>> huber_loss_grad(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0]),
    ...                 reduction="sum", delta=2.0)
    array([-0.5,  0. ,  2. ])
    """
    fn = "huber_loss"
    if (grad_output is None and weight is None and type(delta) is float and delta > 0
            and plain_pair(input, target, reduction)):
        # the common call, as in smooth_l1_loss_grad
        with np.errstate(**QUIET):
            slope = _difference(input, target)
            np.clip(slope, -delta, delta, out=slope)
            factor = mean_factor(reduction, input)
            if factor is not None:
                slope *= factor
            return slope
    x, y, w, reduction, delta = _huber_inputs(input, target, reduction, delta, weight, fn)
    with np.errstate(**QUIET):
        d = _difference(x, y)
        g = _upstream(grad_output, d.shape, x.dtype, reduction, w, mean_over_weights=False)
        slope = np.clip(d, -delta, delta, out=d)   # in place; one pass, as in smooth_l1's
        slope *= g
        return sum_to_shape(slope, x.shape)
