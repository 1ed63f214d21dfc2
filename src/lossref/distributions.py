"""Losses between distributions: KL divergence, Poisson and Gaussian negative log-likelihood.

Unlike the regression losses, PyTorch does not warn when input and target shapes differ here:
they broadcast silently (and so do they in lossref).

All three are composites of elementwise ops in torch; in float16 and bfloat16 each op rounds to
the dtype (so ``exp(x)`` overflows to inf above x = 11.09 in float16, as in torch), except a
multiplication by a Python number, which torch's CPU kernel does in float32 (``with_scalar``).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._numerics import QUIET   # every computation after validation runs under it
from ._reduction import REDUCTIONS, legacy_reduction, resolve_reduction, sum_to_shape
from ._elementwise import (block_total, float_pair, like_input, plain_pair, reduce_elementwise,
                           total_by_blocks, with_scalar, work_buffers)
from ._validation import asarray, broadcast_shape, check_option

__all__ = ["kl_div", "poisson_nll_loss", "gaussian_nll_loss"]


KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release.")


def _check_reduction_by_hand(reduction, fn: str, message: str) -> str:
    """The check poisson_nll_loss and gaussian_nll_loss write in Python, as torch writes it.

    torch compares with the three names (so ``'elementwise_mean'`` is refused here, unlike in
    the other losses) and builds its message as ``reduction + " is not ..."``: a reduction that
    is not a string fails that concatenation with a TypeError instead of the ValueError.
    """
    if isinstance(reduction, str) and reduction in REDUCTIONS:
        return reduction
    if not isinstance(reduction, str):
        raise TypeError(f"{fn}: reduction must be a str ('none', 'mean' or 'sum'), got "
                        f"{reduction!r} of type {type(reduction).__name__}")
    raise ValueError(f"{fn}: {reduction} {message} (expected 'none', 'mean' or 'sum')")


# ---- KL divergence -----------------------------------------------------------------------------


def _kl_inputs(input, target, size_average, reduce, reduction, log_target, fn):
    """The reduction actually applied, and the batch size to divide by afterwards (or None)."""
    if size_average is not None or reduce is not None:
        applied = legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(KL_MEAN_WARNING, UserWarning, stacklevel=3)
        applied = "sum" if reduction == "batchmean" else resolve_reduction(None, None, reduction)
    check_option(log_target, "log_target", fn, "bool")  # torch's parser, after the reduction
    x, y, shape = float_pair(input, target, fn)
    # torch tests the reduction *argument* here, even when the legacy pair overrode it
    batch = x.shape[0] if reduction == "batchmean" and x.ndim != 0 else None
    return x, y, shape, applied, batch


def kl_div(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean", log_target: bool = False):
    r"""Kullback-Leibler divergence, pointwise: ``input`` holds log-probabilities.

    .. math::
        l_n = \begin{cases}
            y_n (\log y_n - x_n), & \text{log\_target=False} \\
            e^{y_n} (y_n - x_n), & \text{log\_target=True}
        \end{cases}

    with :math:`0 \log 0 = 0` (PyTorch's ``xlogy``), so a target of 0 contributes 0 — unless
    :math:`x_n = -\infty`, where :math:`0 \cdot \infty` is NaN. With ``log_target`` a target of
    :math:`-\infty` gives NaN the same way.

    Parameters
    ----------
    input : array_like, shape (N, *)
        Log-probabilities (e.g. ``log_softmax`` output), floating point.
    target : array_like, broadcastable with ``input``
        Probabilities, or log-probabilities when ``log_target=True``.
    size_average, reduce : bool, optional
        Deprecated; when either is given it overrides ``reduction``.
    reduction : {'mean', 'batchmean', 'sum', 'none'}, default 'mean'
        ``'batchmean'`` divides the sum by ``input.shape[0]`` (nothing for a 0-d input): the KL
        divergence per sample. ``'mean'`` divides by the number of elements, which is not a
        KL divergence, and warns as PyTorch does.
    log_target : bool, default False

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes that do not broadcast, unknown ``reduction``.
    TypeError
        ``input`` is not floating point; ``log_target`` is not a bool.

    Warns
    -----
    UserWarning
        ``reduction='mean'`` (PyTorch's message).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> log_q = np.log(np.array([[0.25, 0.75], [0.5, 0.5]]))
    >>> print(f"{kl_div(log_q, p, reduction='batchmean'):.4f}")
    0.2560
    >>> print(f"{kl_div(log_q, np.log(p), reduction='sum', log_target=True):.4f}")
    0.5119
    """
    fn = "kl_div"
    if (type(log_target) is bool and size_average is None and reduce is None
            and type(reduction) is str and reduction in _KL_TOTALS
            and plain_pair(input, target, "sum")):
        # the common call: what _kl_inputs makes of it, without its ~10 µs of checks that
        # such arrays pass unchanged (issue 29); the same warning, for the same caller
        if reduction == "mean":
            warnings.warn(KL_MEAN_WARNING, UserWarning, stacklevel=2)
        batch = input.shape[0] if reduction == "batchmean" and input.ndim != 0 else None
        applied = "sum" if reduction == "batchmean" else reduction
        return _kl_value(input, target, applied, batch, log_target)
    x, y, shape, applied, batch = _kl_inputs(input, target, size_average, reduce, reduction,
                                             log_target, fn)
    return _kl_value(x, y, applied, batch, log_target)


#: the reductions of kl_div's fast path
_KL_TOTALS = frozenset(("mean", "sum", "batchmean"))


def _kl_value(x: np.ndarray, y: np.ndarray, applied: str, batch: int | None,
              log_target: bool):
    """kl_div's value once its inputs are read: the elementwise terms, reduced as ``applied``
    says, then divided by ``batch`` when given ('batchmean')."""
    with np.errstate(**QUIET):
        if log_target:
            loss = np.exp(y) * (y - x)
        else:
            # torch's composite formula: in half precision every op rounds (xlogy's kernel
            # too: c10's log of a Half returns a Half)
            ylogy = np.where(y == 0, 0, y * np.log(y))  # xlogy(y, y): 0 where y = 0, NaN stays
            loss = ylogy - y * x
        out = _reduction.reduce(loss, applied)
        return out if batch is None else (out / batch).astype(x.dtype)[()]


def kl_div_grad(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                reduce: bool | None = None, reduction: str = "mean", log_target: bool = False,
                *, grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`kl_div` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = \begin{cases}
            -y_n, & \text{log\_target=False} \\
            -e^{y_n}, & \text{log\_target=True}
        \end{cases}

    times the reduction's factor (1/N for ``'batchmean'``, 1/numel for ``'mean'``), summed over
    broadcast copies.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> kl_div_grad(np.log(p), p, reduction="batchmean")
    array([[-0.25, -0.25],
           [-0.45, -0.05]])
    """
    fn = "kl_div"
    x, y, shape, applied, batch = _kl_inputs(input, target, size_average, reduce, reduction,
                                             log_target, fn)
    with np.errstate(**QUIET):
        out_shape = () if applied != "none" else shape
        if batch is not None:  # the division by the batch comes last, so its backward first
            g = np.ones(out_shape, x.dtype) if grad_output is None else np.asarray(grad_output)
            grad_output = (g / np.asarray(batch, dtype=x.dtype)).astype(x.dtype)
        g = _reduction.reduce_grad(grad_output, shape, x.dtype, applied)
        dy = -np.exp(y) if log_target else -y
        return sum_to_shape(g * dy, x.shape)


# ---- Poisson NLL -------------------------------------------------------------------------------


def _poisson_inputs(input, target, log_input, full, eps, size_average, reduce, reduction, fn):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = _check_reduction_by_hand(reduction, fn, "is not a valid value for reduction")
    check_option(log_input, "log_input", fn, "bool")  # then torch's parser, in argument order
    check_option(full, "full", fn, "bool")
    eps = float(check_option(eps, "eps", fn, "float"))
    x, y, shape = float_pair(input, target, fn)
    return x, y, shape, reduction, eps


def poisson_nll_loss(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                     full: bool = False, size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean"):
    r"""Negative log-likelihood of counts ``target`` under a Poisson with rate ``input``.

    .. math::
        l_n = \begin{cases}
            e^{x_n} - y_n x_n, & \text{log\_input=True} \\
            x_n - y_n \log(x_n + \varepsilon), & \text{log\_input=False}
        \end{cases}

    plus, when ``full=True``, Stirling's approximation of :math:`\log(y_n!)`,

    .. math::
        y_n \log y_n - y_n + \tfrac12 \log(2 \pi y_n),

    only where :math:`y_n > 1` (0 elsewhere: :math:`\log 0! = \log 1! = 0`). The term does not
    depend on the input, so it changes the loss's value but never its gradient.

    Parameters
    ----------
    input : array_like, shape (*)
        The log of the rate (``log_input=True``) or the rate itself, floating point.
    target : array_like, broadcastable with ``input``
        Observed counts (any real number is accepted, as in PyTorch).
    log_input : bool, default True
    full : bool, default False
        Add the Stirling term.
    size_average, reduce : bool, optional
        Deprecated; when either is given it overrides ``reduction``.
    eps : float, default 1e-8
        Added to the rate inside the log when ``log_input=False``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes that do not broadcast, unknown ``reduction``.
    TypeError
        ``input`` is not floating point; ``log_input`` or ``full`` is not a bool,
        ``eps`` not a real number, ``reduction`` not a string.

    Examples
    --------
    >>> import numpy as np
    >>> rate = np.array([1.0, 2.0, 3.0])
    >>> counts = np.array([0.0, 2.0, 5.0])
    >>> poisson_nll_loss(np.log(rate), counts, reduction="none").round(4)
    array([ 1.    ,  0.6137, -2.4931])
    >>> poisson_nll_loss(np.log(rate), counts, full=True, reduction="none").round(4)
    array([1.    , 1.2655, 2.2778])
    """
    fn = "poisson_nll_loss"
    if (log_input is True and full is False and type(eps) is float and size_average is None
            and reduce is None and plain_pair(input, target, reduction)):
        # the common call: the general path below ends in the same total_by_blocks for it,
        # after ~10 µs of checks that such arrays pass unchanged (issue 29)
        with np.errstate(**QUIET):
            return total_by_blocks(_log_rate_sum, reduction, input, target)
    x, y, shape, reduction, eps = _poisson_inputs(input, target, log_input, full, eps,
                                                  size_average, reduce, reduction, fn)
    with np.errstate(**QUIET):
        if log_input and not full:
            return reduce_elementwise(_log_rate_loss, reduction, x, y, block_sum=_log_rate_sum)
        if log_input:
            loss = _log_rate_loss(x, y)
        else:
            loss = x - y * np.log(x + eps)  # half: eps rounds to the dtype first, as torch's add
        if full:
            # each op rounds in half precision (torch's composite); 2π·y in float32 first,
            # as torch's multiplication by a Python number of a half tensor computes it
            stirling = y * np.log(y) - y + 0.5 * np.log(with_scalar(np.multiply, y,
                                                                    2 * math.pi))
            loss = loss + np.where(y <= 1, 0, stirling).astype(x.dtype)
        return _reduction.reduce(loss, reduction)


def _log_rate_loss(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``exp(x) - y·x``, torch's composite, elementwise (each op rounds in half precision)."""
    return np.exp(x) - y * x


def _log_rate_sum(x: np.ndarray, y: np.ndarray) -> float:
    """Σ :func:`_log_rate_loss` of one block (``total_by_blocks``): the same three steps in two
    reused buffers, then a dot. (Not Σexp(x) - Σy·x, two dots: the terms nearly cancel where
    the rate fits the counts, and the difference of the two sums would lose them.)"""
    e, product = work_buffers(x.dtype)
    e = np.exp(x, out=e[:x.size])
    e -= np.multiply(y, x, out=product[:x.size])
    return block_total(e)


def poisson_nll_loss_grad(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                          full: bool = False, size_average: bool | None = None,
                          eps: float = 1e-8, reduce: bool | None = None,
                          reduction: str = "mean", *, grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`poisson_nll_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = \begin{cases}
            e^{x_n} - y_n, & \text{log\_input=True} \\
            1 - y_n / (x_n + \varepsilon), & \text{log\_input=False}
        \end{cases}

    (``full`` does not change it), times the reduction's factor, summed over broadcast copies.

    Examples
    --------
    >>> import numpy as np
    >>> poisson_nll_loss_grad(np.log([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 5.0]),
    ...                       reduction="sum").round(4)
    array([ 1.,  0., -2.])
    """
    fn = "poisson_nll_loss"
    x, y, shape, reduction, eps = _poisson_inputs(input, target, log_input, full, eps,
                                                  size_average, reduce, reduction, fn)
    with np.errstate(**QUIET):
        g = _reduction.reduce_grad(grad_output, shape, x.dtype, reduction)
        # autograd's order: each branch's gradient is summed to the input's shape (undoing the
        # broadcast against the target) before the input-only factors exp(x), 1/(x + eps)
        g_y = sum_to_shape(g * y, x.shape)
        if log_input:
            return sum_to_shape(g, x.shape) * np.exp(x) - g_y
        return sum_to_shape(g, x.shape) - g_y / (x + eps)


# ---- Gaussian NLL ------------------------------------------------------------------------------


def _clamp_bound(eps, fn: str) -> float:
    """``eps`` as torch's ``var.clamp_(min=eps)`` reads it (a Python-level option: no parser).

    clamp takes any real number or a one-element tensor, and a complex number whose imaginary
    part is 0 (its real part); a str or a list is a TypeError, None a RuntimeError in torch.
    """
    if isinstance(eps, numbers.Number) and not isinstance(eps, numbers.Real):
        if complex(eps).imag != 0:
            raise ValueError(f"{fn}: eps={eps!r} cannot be converted to a real number "
                             "(torch: value cannot be converted to type double)")
        return complex(eps).real
    if eps is None:
        raise ValueError(f"{fn}: eps=None (torch.clamp: At least one of 'min' or 'max' must "
                         "not be None)")
    if isinstance(eps, numbers.Real) or (hasattr(eps, "shape") and asarray(eps).size == 1):
        return float(asarray(eps).reshape(()))
    raise TypeError(f"{fn}: eps must be a number, got {eps!r} of type {type(eps).__name__}")


def _gaussian_inputs(input, target, var, reduction, eps, fn):
    """Arrays, the clamped variance (shaped to broadcast), and how to give var's gradient back.

    Returns ``x, y, v, var_shape, reduction`` where ``var_shape`` is the caller's var shape
    (``None`` when var was a Python float: no gradient for it).
    """
    x, y, _ = float_pair(input, target, fn)
    if isinstance(var, float):
        if var < 0:
            raise ValueError(f"{fn}: var has negative entry/entries: var={var!r} "
                             "(variances must be >= 0)")
        v, var_shape = np.broadcast_to(np.asarray(var, dtype=x.dtype), x.shape), None
    elif isinstance(var, (numbers.Number, np.bool_)):
        raise TypeError(f"{fn}: var must be a Python float or an array of variances, got "
                        f"{var!r} of type {type(var).__name__} (PyTorch refuses it too; "
                        f"write float(var))")
    else:
        v = like_input(var, x, "var", fn)
        var_shape = v.shape
        negative = v < 0
        if negative.any():
            raise ValueError(f"{fn}: var has negative entry/entries, e.g. "
                             f"{v[negative].flat[0]!r} (variances must be >= 0)")
        if v.shape != x.shape:
            if x.shape[:-1] == v.shape:  # one variance per row: (N, D) input, (N,) var
                v = v[..., None]
            elif not (x.ndim == v.ndim
                      and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
                raise ValueError(f"{fn}: var is of incorrect size: var shape {v.shape} for "
                                 f"input shape {x.shape} (expected the input's shape, "
                                 f"input.shape[:-1], or the input's shape with one dimension 1)")
    reduction = _check_reduction_by_hand(reduction, fn, "is not valid")  # after var, as torch
    broadcast_shape(fn, input=x, target=y, var=v)
    # torch clamps under no_grad: the gradient flows as if v = eps (a copy only if needed)
    bound = _clamp_bound(eps, fn)
    if not (v >= bound).all():
        v = np.maximum(v, bound)
    return x, y, v, var_shape, reduction


def gaussian_nll_loss(input: ArrayLike, target: ArrayLike, var: ArrayLike | float,
                      full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    r"""Negative log-likelihood of ``target`` under a Gaussian of mean ``input``, variance ``var``.

    .. math::
        l_n = \tfrac12 \left( \log \max(v_n, \varepsilon)
              + \frac{(x_n - y_n)^2}{\max(v_n, \varepsilon)} \right)
              \;[+\; \tfrac12 \log 2\pi \text{ if full}]

    The clamp at ``eps`` happens outside autograd in PyTorch: where :math:`v_n < \varepsilon`
    the loss *and its gradient* are those at :math:`v_n = \varepsilon` (the gradient with
    respect to var is not 0 there; see :func:`lossref.grad.gaussian_nll_loss`).

    Parameters
    ----------
    input : array_like, shape (N, *) or (*)
        Predicted means, floating point.
    target : array_like, broadcastable with ``input``
        Observations.
    var : array_like or float
        Variances (>= 0): of the input's shape (one per prediction); of ``input.shape[:-1]``
        (one per row, shared along the last dimension); of the input's shape with exactly
        one dimension of size 1; or a Python float shared by all. Other shapes raise.
    full : bool, default False
        Add the constant :math:`\tfrac12 \log 2\pi`.
    eps : float, default 1e-6
        Lower clamp of ``var``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        A negative variance, a ``var`` shape not listed above, shapes that do not broadcast,
        unknown ``reduction``, a complex ``eps`` with an imaginary part, ``eps=None``.
    TypeError
        ``input`` is not floating point; ``var`` is an int or a NumPy scalar (PyTorch takes
        only a Python float or a tensor); ``eps`` not a number; ``reduction`` not a string.
        (``full`` is read for its truth value, as torch reads it.)

    Examples
    --------
    >>> import numpy as np
    >>> mu = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> y = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> gaussian_nll_loss(mu, y, np.array([1.0, 2.0]), reduction="none").round(4)
    array([[0.    , 0.5   ],
           [0.5966, 1.3466]])
    >>> print(f"{gaussian_nll_loss(mu, y, 1.0, full=True):.4f}")
    1.6689
    """
    fn = "gaussian_nll_loss"
    x, y, v, _, reduction = _gaussian_inputs(input, target, var, reduction, eps, fn)
    with np.errstate(**QUIET):
        loss = 0.5 * (np.log(v) + (x - y) ** 2 / v)
        if full:
            loss += 0.5 * math.log(2 * math.pi)  # half: the constant rounds first, as torch's add
        return _reduction.reduce(loss, reduction)


def gaussian_nll_loss_grad(input: ArrayLike, target: ArrayLike, var: ArrayLike | float,
                           full: bool = False, eps: float = 1e-6, reduction: str = "mean", *,
                           grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`gaussian_nll_loss`: ``(d_input, d_var)``, or ``d_input`` for a float var.

    With :math:`\tilde v_n = \max(v_n, \varepsilon)`,

    .. math::
        \begin{aligned}
        \frac{\partial l_n}{\partial x_n} &= \frac{x_n - y_n}{\tilde v_n} \\
        \frac{\partial l_n}{\partial v_n} &= \frac{1}{2 \tilde v_n}
            - \frac{(x_n - y_n)^2}{2 \tilde v_n^2}
        \end{aligned}

    times the reduction's factor. Where var was clamped (:math:`v_n < \varepsilon`) the var
    gradient is evaluated at :math:`\varepsilon`, not set to 0: PyTorch clamps under
    ``no_grad``, so autograd sees the clamp as the identity. ``d_var`` has var's own shape
    (summed over the positions a shared variance was broadcast to). When ``var`` is a Python
    float there is no var gradient and the function returns ``d_input`` alone.

    Returns
    -------
    tuple (d_input, d_var) of the input's and var's shapes, or d_input when var is a float

    Examples
    --------
    >>> import numpy as np
    >>> d_input, d_var = gaussian_nll_loss_grad(np.array([0.0, 1.0]), np.array([0.0, 0.0]),
    ...                                         np.array([1.0, 0.0]), reduction="sum")
    >>> d_input
    array([      0., 1000000.])
    >>> d_var        # the clamped entry: 1/(2 eps) - 1/(2 eps**2) at eps = 1e-6
    array([ 5.000000e-01, -4.999995e+11])
    """
    fn = "gaussian_nll_loss"
    x, y, v, var_shape, reduction = _gaussian_inputs(input, target, var, reduction, eps, fn)
    with np.errstate(**QUIET):
        d = np.asarray(x - y)
        shape = np.broadcast_shapes(d.shape, v.shape)
        g = _reduction.reduce_grad(grad_output, shape, x.dtype, reduction)
        # autograd's order: the 0.5 in front hands h = 0.5·g on; the quotient d²/v gives h/v to
        # d² and -h·(d²/v)/v to v, each summed to its operand's shape; log(v) receives h summed
        # to v's shape, then divided by v. The exact factor 0.5 goes in first (a quotient
        # may overflow in half precision where half of it does not), in place, and h is never
        # an array of its own: three arrays of the input's size at the peak.
        h_over_v = np.multiply(g, 0.5, dtype=x.dtype)
        h_over_v = np.asarray(np.divide(h_over_v, v, out=h_over_v if h_over_v.shape == shape
                                        and h_over_v.ndim else None))
        d_input = np.multiply(d, 2)
        d_input *= sum_to_shape(h_over_v, d.shape)
        d_input = sum_to_shape(d_input, x.shape)
        if var_shape is None:
            return d_input
        # d's buffer becomes h·((d·d/v)/v) when it has the full shape
        q = np.multiply(d, d, out=d) if d.shape == shape else d * d
        q /= v
        q /= v
        q *= 0.5
        q *= g
        if v.shape == shape:   # sum_to_shape(h, v.shape) / v is h/v itself
            d_var = np.subtract(h_over_v, q, out=h_over_v)
        else:
            d_var = 0.5 * sum_to_shape(g, v.shape) / v - sum_to_shape(q, v.shape)
        return d_input, d_var.reshape(var_shape)
