"""Regression losses: L1, MSE, smooth L1 and Huber (with their gradients).

All four compare ``input`` and ``target`` element by element after broadcasting them
against each other, as PyTorch does. When the two shapes differ PyTorch warns ("Using a
target size ... that is different to the input size ...") and goes on: an ``(N, 1)``
prediction against an ``(N,)`` target becomes an ``(N, N)`` table of errors. lossref
emits the same ``UserWarning`` with the same text and returns the same (wrong) number.

The functional forms of ``l1_loss``, ``mse_loss`` and ``huber_loss`` take a ``weight`` of
the input's shape (the classes do not). Their means differ: l1 and mse divide Σ w·e by
Σ w, huber takes the plain mean of w·e (divides by the number of elements).

float16 and bfloat16 inputs round as torch's CPU kernels do: after every operation (NumPy's
and ml_dtypes' half arithmetic), except smooth L1 in bfloat16, which torch computes in float32
and rounds once; the reductions accumulate in float32 (``_reduction.reduce``).
"""

from __future__ import annotations

import warnings
from functools import partial
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._elementwise import block_total, in_opmath, like_input, reduce_elementwise
from ._numerics import BLOCK_BYTES, QUIET   # every computation after validation runs under it
from ._reduction import REDUCTIONS, legacy_reduction, resolve_reduction, sum_to_shape
from ._validation import HALF_DTYPES, as_float, broadcast_shape, check_option, is_bfloat16

__all__ = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"]



def _torch_size(shape: tuple) -> str:
    return f"torch.Size({list(shape)})"


def _warn_if_sizes_differ(x: np.ndarray, y: np.ndarray) -> None:
    """PyTorch's warning, word for word, when target and input shapes differ.

    Called as loss -> setup -> ``_pair`` -> here, so ``stacklevel=5`` names the loss's caller.
    """
    if x.shape != y.shape:
        warnings.warn(
            f"Using a target size ({_torch_size(y.shape)}) that is different to the input size "
            f"({_torch_size(x.shape)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning, stacklevel=5)


def _pair(input, target, fn: str) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Input and target as arrays of the input's dtype, the size warning, their broadcast shape."""
    x = as_float(input, "input", fn)
    y = like_input(target, x, "target", fn)
    _warn_if_sizes_differ(x, y)
    return x, y, broadcast_shape(fn, input=x, target=y)


def _input_shaped_weight(weight, x: np.ndarray, fn: str) -> np.ndarray | None:
    """The functional ``weight=``: one weight per input element, exactly the input's shape.

    (Not broadcast: torch compares ``weight.size()`` with ``input.size()``; binary.py's
    ``pos_weight``-style weights broadcast instead, hence the different name.)
    """
    if weight is None:
        return None
    w = like_input(weight, x, "weight", fn)
    if w.shape != x.shape:
        raise ValueError(f"{fn}: Weights and input must have the same size: weight shape "
                         f"{w.shape}, input shape {x.shape}")
    return w


def _weighted_reduction(reduction: str, fn: str) -> str:
    """The weighted branch of torch's l1/mse/huber checks the reduction by hand.

    So 'elementwise_mean' is refused there, with torch's message.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: Invalid reduction mode: {reduction}. "
                         "Expected one of 'none', 'mean', 'sum'.")
    return reduction


def _l1_mse_setup(input, target, size_average, reduce, reduction, weight, fn):
    x, y, shape = _pair(input, target, fn)
    if weight is None:
        return x, y, None, resolve_reduction(size_average, reduce, reduction)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    w = _input_shaped_weight(weight, x, fn)
    return x, y, w, _weighted_reduction(reduction, fn)


def _reduce_weighted(elements, x: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                     reduction: str, mean_over_weights: bool):
    """The per-element loss ``elements(x, y)`` times ``w`` (if any), reduced.

    Without weights the reduction runs a cache-sized block at a time (``_elementwise``);
    the weighted mean divides by Σw or by the count.
    """
    if w is None:
        return reduce_elementwise(elements, reduction, x, y)
    loss = elements(x, y)
    loss *= w
    weight_sum = w.sum() if mean_over_weights else None
    return _reduction.reduce(loss, reduction, weight_sum=weight_sum)


def _upstream(grad_output, shape: tuple, dtype, reduction: str, w: np.ndarray | None,
              mean_over_weights: bool) -> np.ndarray:
    """d(Σ grad_output · loss) / d e_n for the per-element errors e_n (weights included)."""
    weight_sum = w.sum() if (w is not None and mean_over_weights) else None
    g = _reduction.reduce_grad(grad_output, shape, dtype, reduction, weight_sum=weight_sum)
    return g if w is None else g * w


def _sign(d: np.ndarray) -> np.ndarray:
    """``sign(d)`` with torch's sgn, 0 at 0 and at NaN, as ``(d > 0) - (d < 0)``, into ``d``.

    (``np.sign`` gives NaN at NaN, and replacing it costs two more passes.)
    """
    return np.subtract(d > 0, d < 0, dtype=d.dtype, out=d if d.ndim else None)


def _difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x - y`` as a fresh array the steps after it may write into (0-d too, not a scalar)."""
    return np.asarray(np.subtract(x, y))


def _absolute_error(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``|x - y|`` in one buffer."""
    d = _difference(x, y)
    return np.abs(d, out=d)


def _squared_error(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(x - y)²`` in one buffer (torch's kernel: ``diff * diff``)."""
    d = _difference(x, y)
    return np.multiply(d, d, out=d)


# ---- L1 ----------------------------------------------------------------------------------------


def l1_loss(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean", weight: ArrayLike | None = None):
    r"""Mean absolute error between ``input`` and ``target``.

    .. math::
        l_n = w_n\, |x_n - y_n|

    with :math:`w_n = 1` unless the functional ``weight`` is given. ``'mean'`` divides
    :math:`\sum_n l_n` by :math:`\sum_n w_n` (the number of elements without weights).

    Parameters
    ----------
    input : array_like, shape (*)
        Predictions, floating point (float32 stays float32).
    target : array_like, broadcastable with ``input``
        Targets, cast to the input's dtype. A different shape warns as in PyTorch and
        broadcasts (an ``(N, 1)`` input against an ``(N,)`` target gives ``(N, N)`` errors).
    size_average, reduce : bool, optional
        Deprecated; when either is given it overrides ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    weight : array_like, optional
        One weight per input element, of exactly the input's shape (functional only;
        ``L1Loss`` has none). The weighted mean is :math:`\sum w_n e_n / \sum w_n`.

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes that do not broadcast, ``weight`` not of the input's shape, unknown ``reduction``.
    TypeError
        ``input`` is not floating point.

    Warns
    -----
    UserWarning
        ``target`` and ``input`` shapes differ (PyTorch's message).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    >>> y = np.array([1.5, 2.0, 1.0], dtype=np.float32)
    >>> l1_loss(x, y, reduction="none")
    array([0.5, 0. , 3. ], dtype=float32)
    >>> print(f"{l1_loss(x, y):.4f}  {l1_loss(x, y, weight=np.array([2.0, 1.0, 1.0])):.4f}")
    1.1667  1.0000
    """
    fn = "l1_loss"
    x, y, w, reduction = _l1_mse_setup(input, target, size_average, reduce, reduction, weight, fn)
    with np.errstate(**QUIET):
        return _reduce_weighted(_absolute_error, x, y, w, reduction, mean_over_weights=True)


def l1_loss_grad(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 weight: ArrayLike | None = None, *, grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`l1_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = w_n\, \operatorname{sign}(x_n - y_n)

    times the reduction's factor (1/N, or 1/Σw with ``weight``), summed over the positions an
    input element was broadcast to. As in torch, sign(0) = 0, and sign(NaN) = 0 too.

    Examples
    --------
    >>> import numpy as np
    >>> l1_loss_grad(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0]))
    array([-0.33333333,  0.        ,  0.33333333])
    """
    fn = "l1_loss"
    x, y, w, reduction = _l1_mse_setup(input, target, size_average, reduce, reduction, weight, fn)
    with np.errstate(**QUIET):
        d = _difference(x, y)
        g = _upstream(grad_output, d.shape, x.dtype, reduction, w, mean_over_weights=True)
        s = _sign(d)
        s *= g
        return sum_to_shape(s, x.shape)


# ---- MSE ---------------------------------------------------------------------------------------


def mse_loss(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean", weight: ArrayLike | None = None):
    r"""Mean squared error between ``input`` and ``target``.

    .. math::
        l_n = w_n\, (x_n - y_n)^2

    with :math:`w_n = 1` unless the functional ``weight`` is given. ``'mean'`` divides
    :math:`\sum_n l_n` by :math:`\sum_n w_n` (the number of elements without weights).

    Parameters
    ----------
    input : array_like, shape (*)
        Predictions, floating point.
    target : array_like, broadcastable with ``input``
        Targets, cast to the input's dtype. A different shape warns and broadcasts: the classic
        ``(N, 1)`` prediction against an ``(N,)`` target averages an ``(N, N)`` table of every
        prediction against every target.
    size_average, reduce : bool, optional
        Deprecated; when either is given it overrides ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    weight : array_like, optional
        One weight per input element, of exactly the input's shape (functional only).
        The weighted mean is :math:`\sum w_n e_n / \sum w_n`.

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes that do not broadcast, ``weight`` not of the input's shape, unknown ``reduction``.
    TypeError
        ``input`` is not floating point.

    Warns
    -----
    UserWarning
        ``target`` and ``input`` shapes differ (PyTorch's message).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    >>> y = np.array([1.5, 2.0, 1.0], dtype=np.float32)
    >>> print(f"{mse_loss(x, y):.4f}")
    3.0833
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     print(f"{mse_loss(x[:, None], y):.4f}")   # (3, 1) against (3,): a (3, 3) table
    2.4167
    """
    fn = "mse_loss"
    x, y, w, reduction = _l1_mse_setup(input, target, size_average, reduce, reduction, weight, fn)
    with np.errstate(**QUIET):
        return _reduce_weighted(_squared_error, x, y, w, reduction, mean_over_weights=True)


def mse_loss_grad(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                  reduce: bool | None = None, reduction: str = "mean",
                  weight: ArrayLike | None = None, *, grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`mse_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = 2\, w_n\, (x_n - y_n)

    times the reduction's factor (1/N, or 1/Σw with ``weight``), summed over broadcast copies.

    Examples
    --------
    >>> import numpy as np
    >>> mse_loss_grad(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0]), reduction="sum")
    array([-1.,  0.,  6.])
    """
    fn = "mse_loss"
    x, y, w, reduction = _l1_mse_setup(input, target, size_average, reduce, reduction, weight, fn)
    with np.errstate(**QUIET):
        d = _difference(x, y)
        if w is None:
            # torch's mse_loss_backward: (x - y) · norm, then · grad_output, each product
            # rounded to the dtype (norm = 2/N for 'mean', else 2). In float16 the order decides
            # what underflows: (x - y)·(2/N) can flush to 0 before a large grad_output arrives.
            d *= 2.0 / max(d.size, 1) if reduction == "mean" else 2.0
            d *= _reduction.reduce_grad(grad_output, d.shape, x.dtype,
                                        "none" if reduction == "none" else "sum")
            return sum_to_shape(d, x.shape)
        g = _upstream(grad_output, d.shape, x.dtype, reduction, w, mean_over_weights=True)
        d *= 2
        d *= g
        return sum_to_shape(d, x.shape)


# ---- smooth L1 ---------------------------------------------------------------------------------


def _smooth_l1_setup(input, target, size_average, reduce, reduction, beta, fn):
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
    x, y, reduction, beta = _smooth_l1_setup(input, target, size_average, reduce, reduction,
                                             beta, fn)
    with np.errstate(**QUIET):
        if beta == 0.0:  # torch calls l1_loss, |x - y| itself
            return reduce_elementwise(_absolute_error, reduction, x, y)
        if is_bfloat16(x.dtype):
            # torch's bfloat16 kernel converts to float32, computes, rounds once (opmath);
            # its float16 kernel rounds after every operation, as NumPy's float16 does
            loss = in_opmath(partial(_smooth_l1, beta=beta), x, y)
            return _reduction.reduce(loss, reduction)
        return reduce_elementwise(partial(_smooth_l1, beta=beta), reduction, x, y,
                                  block_sum=_kinked_sum(0.5 / beta, 1.0, beta, x))


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
    x, y, reduction, beta = _smooth_l1_setup(input, target, size_average, reduce, reduction,
                                             beta, fn)
    with np.errstate(**QUIET):
        d = _difference(x, y)
        g = _reduction.reduce_grad(grad_output, d.shape, x.dtype, reduction)
        if beta > 0.0:  # clip(d / β, -1, 1) is d/β inside the kink and ±1 from |d| = β on
            slope = np.divide(d, beta, out=d)
            np.minimum(slope, 1, out=slope)
            np.maximum(slope, -1, out=slope)
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


def _huber_setup(input, target, reduction, delta, weight, fn):
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
    x, y, w, reduction, delta = _huber_setup(input, target, reduction, delta, weight, fn)
    with np.errstate(**QUIET):
        if w is None:
            return reduce_elementwise(partial(_huber, delta=delta), reduction, x, y,
                                      block_sum=_kinked_sum(0.5, delta, delta, x))
        return _reduce_weighted(partial(_huber, delta=delta), x, y, w, reduction,
                                mean_over_weights=False)


def _kinked_sum(scale: float, slope: float, kink: float, x: np.ndarray
                ) -> Callable[..., float]:
    """``block_sum(x, y)``: Σ of smooth L1 (scale 0.5/β, slope 1) or Huber (scale 0.5, slope δ)
    over one block, for ``reduce_elementwise``.

    With ``c = min(z, kink)`` each element is ``scale·c² + slope·(z - c)``: the square below
    the kink (where ``z - c = 0``), ``scale·kink² + slope·(z - kink)`` — the line — above it.
    Summed as ``scale·Σc² + slope·Σ(z - c)``, a block takes five passes (Σc² is one BLAS dot)
    instead of the nine of the per-element form, both sums as dots: this is what brings the
    reduced losses to torch's speed. Each term is ≥ 0, so nothing cancels; the sum differs from
    the sum of torch's elements in the last bits only. (Not Σz - Σc: where most z lie far
    below the kink, that difference of two large sums would lose the few that lie above it.)

    Two buffers of a block are made once per call and reused by every block, and the kink is
    a block of equal numbers: NumPy 2.x's ``minimum`` against one number runs a loop about
    1.5x slower than against an array (measured, 4·10⁶ float32).
    """
    step = min(BLOCK_BYTES // x.itemsize, x.size)    # the longest block of ``x``
    z_buffer, c_buffer = np.empty(step, x.dtype), np.empty(step, x.dtype)
    kinks = np.full(step, kink, x.dtype)

    def block_sum(x: np.ndarray, y: np.ndarray) -> float:
        n = x.size
        z = np.subtract(x, y, out=z_buffer[:n])
        np.abs(z, out=z)
        c = np.minimum(z, kinks[:n], out=c_buffer[:n])
        squares = float(np.dot(c, c))
        z -= c
        return scale * squares + slope * block_total(z)

    return block_sum


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
    x, y, w, reduction, delta = _huber_setup(input, target, reduction, delta, weight, fn)
    with np.errstate(**QUIET):
        d = _difference(x, y)
        g = _upstream(grad_output, d.shape, x.dtype, reduction, w, mean_over_weights=False)
        slope = np.minimum(d, delta, out=d)   # clip(d, -δ, δ), in place
        np.maximum(slope, -delta, out=slope)
        slope *= g
        return sum_to_shape(slope, x.shape)
