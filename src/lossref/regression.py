"""Regression losses: L1 and MSE (with their gradients), and the pieces smooth L1 and Huber
(``huber.py``) share with them.

All four regression losses compare ``input`` and ``target`` element by element after broadcasting them
against each other, as PyTorch does. When the two shapes differ PyTorch warns ("Using a
target size ... that is different to the input size ...") and goes on: an ``(N, 1)``
prediction against an ``(N,)`` target becomes an ``(N, N)`` table of errors. lossref
emits the same ``UserWarning`` with the same text and returns the same (wrong) number.

The functional forms of ``l1_loss``, ``mse_loss`` and ``huber_loss`` take a ``weight`` of
the input's shape (the classes do not). Their means differ: l1 and mse divide Σ w·e by
Σ w, huber takes the plain mean of w·e (divides by the number of elements).

float16 and bfloat16 inputs round as torch's CPU kernels do: after every operation (NumPy's
and ml_dtypes' half arithmetic); the reductions accumulate in float32 (``_reduction.reduce``).
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._elementwise import (block_total, like_input, mean_factor, plain_pair, reduce_elementwise,
                           total_by_blocks, work_buffers)
from ._numerics import QUIET   # every computation after validation runs under it
from ._reduction import REDUCTIONS, legacy_reduction, resolve_reduction, sum_to_shape
from ._validation import as_float, broadcast_shape

__all__ = ["l1_loss", "mse_loss"]



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


def _l1_mse_inputs(input, target, size_average, reduce, reduction, weight, fn):
    x, y, shape = _pair(input, target, fn)
    if weight is None:
        return x, y, None, resolve_reduction(size_average, reduce, reduction)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    w = _input_shaped_weight(weight, x, fn)
    return x, y, w, _weighted_reduction(reduction, fn)


def _reduce_weighted(elements, x: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                     reduction: str, mean_over_weights: bool, block_sum=None):
    """The per-element loss ``elements(x, y)`` times ``w`` (if any), reduced.

    Without weights the reduction runs a cache-sized block at a time (``_elementwise``, with
    ``block_sum`` for a block when given); the weighted mean divides by Σw or by the count.
    """
    if w is None:
        return reduce_elementwise(elements, reduction, x, y, block_sum=block_sum)
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


def _absolute_error_sum(x: np.ndarray, y: np.ndarray) -> float:
    """Σ|x - y| of one block (``total_by_blocks``): two passes in a reused buffer and a dot."""
    z = np.subtract(x, y, out=work_buffers(x.dtype)[0][:x.size])
    return block_total(np.abs(z, out=z))


def _squared_error_sum(x: np.ndarray, y: np.ndarray) -> float:
    """Σ(x - y)² of one block: the difference in a reused buffer, then ``dot(d, d)``, which
    squares and adds in one pass (each square is not rounded to the dtype first, as in
    torch's elements: the sum differs from theirs in the last bits only)."""
    d = np.subtract(x, y, out=work_buffers(x.dtype)[0][:x.size])
    return float(np.dot(d, d))


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
    if (weight is None and size_average is None and reduce is None
            and plain_pair(input, target, reduction)):
        # the common call: the general path below ends in the same total_by_blocks for it,
        # after ~10 µs of checks that such arrays pass unchanged (issue 29)
        with np.errstate(**QUIET):
            return total_by_blocks(_absolute_error_sum, reduction, input, target)
    x, y, w, reduction = _l1_mse_inputs(input, target, size_average, reduce, reduction, weight, fn)
    with np.errstate(**QUIET):
        return _reduce_weighted(_absolute_error, x, y, w, reduction, mean_over_weights=True,
                                block_sum=_absolute_error_sum)


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
    if (grad_output is None and weight is None and size_average is None and reduce is None
            and plain_pair(input, target, reduction)):
        # the common call: the steps below with 1/N (or nothing, for 'sum') as a number,
        # without ~10 µs of checks and of broadcasting an upstream of ones (issue 29)
        with np.errstate(**QUIET):
            s = _sign(_difference(input, target))
            factor = mean_factor(reduction, input)
            if factor is not None:
                s *= factor
            return np.asarray(s)     # (a 0-d input's sign is a NumPy scalar)
    x, y, w, reduction = _l1_mse_inputs(input, target, size_average, reduce, reduction, weight, fn)
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
    if (weight is None and size_average is None and reduce is None
            and plain_pair(input, target, reduction)):
        # the common call, as in l1_loss: the general path's own total_by_blocks
        with np.errstate(**QUIET):
            return total_by_blocks(_squared_error_sum, reduction, input, target)
    x, y, w, reduction = _l1_mse_inputs(input, target, size_average, reduce, reduction, weight, fn)
    with np.errstate(**QUIET):
        return _reduce_weighted(_squared_error, x, y, w, reduction, mean_over_weights=True,
                                block_sum=_squared_error_sum)


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
    if (grad_output is None and weight is None and size_average is None and reduce is None
            and plain_pair(input, target, reduction)):
        # the common call: the steps below without the multiplication by an upstream of
        # ones, which changes no number, and without ~10 µs of checks (issue 29)
        with np.errstate(**QUIET):
            d = _difference(input, target)
            d *= 2.0 / d.size if reduction == "mean" else 2.0
            return d
    x, y, w, reduction = _l1_mse_inputs(input, target, size_average, reduce, reduction, weight, fn)
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
