"""Reductions: ``'none' | 'mean' | 'sum'`` and the legacy ``size_average``/``reduce`` pair."""

from __future__ import annotations

import math
import warnings
from typing import Literal, get_args

import numpy as np

from ._numerics import QUIET
from ._validation import HALF_DTYPES, asarray

__all__ = ["Reduction", "REDUCTIONS", "legacy_reduction", "resolve_reduction",
           "strict_reduction", "reduce", "reduce_grad", "sum_to_shape"]

#: The valid reductions, spelled once: the type hint of every ``reduction`` parameter, and
#: the tuple :func:`resolve_reduction` validates against (MLX's habit).
Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)


def legacy_reduction(size_average: bool | None, reduce: bool | None,
                     emit_warning: bool = True) -> str:
    """Map the deprecated ``size_average`` / ``reduce`` pair to a ``reduction`` string.

    This is the mapping of ``torch.nn._reduction.legacy_get_string``: a ``None``
    argument counts as ``True``; ``reduce=False`` wins over ``size_average``.

    =============  ===========  ===========
    size_average   reduce       reduction
    =============  ===========  ===========
    True / None    True / None  ``'mean'``
    False          True / None  ``'sum'``
    any            False        ``'none'``
    =============  ===========  ===========

    Parameters
    ----------
    size_average, reduce : bool or None
        The legacy arguments as a caller passed them.
    emit_warning : bool, default True
        Emit PyTorch's ``UserWarning`` ("size_average and reduce args will be
        deprecated, please use reduction='…' instead.").

    Returns
    -------
    str
        ``'none'``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> legacy_reduction(False, None, emit_warning=False)
    'sum'
    >>> legacy_reduction(True, False, emit_warning=False)
    'none'
    """
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        reduction = "mean"
    elif reduce:
        reduction = "sum"
    else:
        reduction = "none"
    if emit_warning:
        warnings.warn(
            "size_average and reduce args will be deprecated, "
            f"please use reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    return reduction


def resolve_reduction(size_average: bool | None, reduce: bool | None, reduction: str
                      ) -> Reduction:
    """The reduction a loss call asks for: the legacy pair overrides ``reduction`` when given."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      UserWarning, stacklevel=3)
        return "mean"
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction "
                         "(expected 'none', 'mean' or 'sum')")
    return reduction


def strict_reduction(reduction, fn: str) -> Reduction:
    """'none' | 'mean' | 'sum' only: torch's Python-only losses check ``reduction`` themselves and
    do not take the legacy 'elementwise_mean' spelling that ``_Reduction.get_enum`` still maps
    to 'mean'."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction "
                         f"(expected 'none', 'mean' or 'sum'; {fn} takes no 'elementwise_mean')")
    return reduction


def reduce(loss: np.ndarray, reduction: Reduction, weight_sum=None):
    """Reduce per-element losses.

    ``'mean'`` divides the sum by ``weight_sum`` when given (the weighted mean of
    ``nll_loss``/``cross_entropy``), else by the number of elements. An empty
    batch gives ``nan`` for the mean and ``0`` for the sum, as in PyTorch; a sum of
    ``inf`` and ``-inf`` is ``nan`` and a sum that overflows is ``inf``, without a warning.

    float16 and bfloat16 losses are reduced as torch reduces them on the CPU: ``sum``
    accumulates in float32 and rounds once to the loss's dtype (``at::sum``'s cascade sum
    with a float accumulator); ``mean`` is that float32 sum divided by the count in float32,
    rounded once (``at::mean`` casts reduced floating types to float, sums, divides, casts
    back), so a float16 mean of 10⁵ ones is 1, not ``inf / 1e5``. A weighted mean
    (``weight_sum`` given) rounds the float32 sum to the dtype before dividing; half-precision
    ``nll_loss`` (and ``cross_entropy`` through it) reduces with torch's kernel's cascade in
    the dtype instead: ``_classes.half_nll_reduce``.

    Examples
    --------
    >>> reduce(np.ones(100_000, np.float16), "mean")
    np.float16(1.0)
    >>> reduce(np.ones(100_000, np.float16), "sum")
    np.float16(inf)
    """
    if reduction == "none":
        return loss
    dtype = loss.dtype
    half = dtype in HALF_DTYPES
    # inf + (-inf), x / 0: nan; a sum past the largest float: inf; silently, as torch
    with np.errstate(**QUIET):
        total = loss.sum(dtype=np.float32) if half else loss.sum()
        if reduction == "sum":
            return np.asarray(total).astype(dtype)[()] if half else total
        denominator = loss.size if weight_sum is None else weight_sum
        if half:
            if weight_sum is not None:    # nll_loss's kernel (and a sum / count): the sum is
                total = np.float32(np.asarray(total).astype(dtype))  # stored in the dtype first
            denominator = np.float32(denominator)
        return (total / denominator).astype(dtype)[()]


def reduce_grad(grad_output, shape: tuple, dtype, reduction: Reduction, weight_sum=None
                ) -> np.ndarray:
    """The backward of :func:`reduce`: d(Σ grad_output · reduce(loss)) / d loss, of ``shape``.

    Every ``lossref.grad.NAME`` starts here and multiplies the result by the derivative
    of its per-element loss (the chain rule, read from the output back to the input).

    Parameters
    ----------
    grad_output : array_like or None
        The upstream gradient, of the loss output's shape: ``()`` for ``'mean'``/``'sum'``,
        ``shape`` for ``'none'``. ``None`` means ones, as ``loss.backward()`` does.
    shape : tuple
        Shape of the per-element loss that was reduced.
    dtype : numpy dtype
        The input's dtype; the result has it. For float16/bfloat16 the mean's division is
        done in float32 and rounded once, as torch's CPU ``div`` by a scalar does for the
        reduced floating types (so a count above 65504 is not an ``inf`` denominator).
    reduction : {'none', 'mean', 'sum'}
        Already resolved (see :func:`resolve_reduction`).
    weight_sum : scalar, optional
        The denominator of a weighted mean (Σ w[y] over kept targets), as in :func:`reduce`.

    Returns
    -------
    ndarray of ``shape`` and ``dtype`` (possibly a read-only broadcast view: copy before
    writing into it)

    Examples
    --------
    >>> reduce_grad(None, (2, 2), np.float32, "mean")
    array([[0.25, 0.25],
           [0.25, 0.25]], dtype=float32)
    >>> reduce_grad(np.array([1.0, -2.0]), (2,), np.float64, "none")
    array([ 1., -2.])
    """
    out_shape = tuple(shape) if reduction == "none" else ()
    if grad_output is None:
        # a 0-d one is np.array(1): np.ones(()) costs 1.8 µs, a tenth of a small gradient
        g = np.ones(out_shape, dtype=dtype) if out_shape else np.array(1, dtype=dtype)
    else:
        g = asarray(grad_output)   # a torch tensor too
        if g.shape != out_shape:
            raise ValueError(f"grad_output of shape {g.shape} must have the shape of the loss "
                             f"output, {out_shape} (reduction={reduction!r})")
        g = g.astype(dtype, copy=False)
    if reduction == "none":
        return g
    if reduction == "mean":
        denominator = math.prod(shape) if weight_sum is None else weight_sum
        half = np.dtype(dtype) in HALF_DTYPES
        if weight_sum is None and denominator > 0 and not half:
            # g / count in the dtype, as below; a count ≥ 1 cannot overflow or make a NaN, so
            # no error state is needed (it costs 2.5 µs, a tenth of a small gradient)
            g = g / np.asarray(denominator, dtype=dtype)
        else:
            compute = np.float32 if half else dtype
            with np.errstate(**QUIET):
                g = (g.astype(compute) / np.asarray(denominator, dtype=compute)).astype(dtype)
    return np.broadcast_to(g, tuple(shape))


def sum_to_shape(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The backward of broadcasting: sum ``g`` over the dimensions broadcasting added or grew.

    An input of ``shape`` that was broadcast to ``g.shape`` receives the sum of the gradient
    over every position it was copied to, as torch's autograd does (``sum_to_size``). The
    result is always an ndarray (a 0-d one for ``shape == ()``, never a NumPy scalar).

    Examples
    --------
    >>> sum_to_shape(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> sum_to_shape(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    g, shape = np.asarray(g), tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)
