"""Margin losses on scores and embeddings: soft margin, hinge embedding, cosine embedding.

Each loss reads ``±1`` targets: a positive pair (``y = 1``) is pulled together, a negative
pair (``y = -1``) is pushed apart until it clears a margin. Their siblings live next door:
``ranking.py`` (margin ranking, triplets) and ``multilabel.py`` (multi-class and multi-label
margins). Every gradient sits right below its forward.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._elementwise import (block_total, plain_pair, reduce_elementwise, total_by_blocks,
                           work_buffers)
from ._numerics import QUIET
from ._reduction import resolve_reduction, sum_to_shape
from ._validation import (HALF_DTYPES, as_float, as_like, asarray, broadcast_shape,
                          check_broadcast, check_option, float_pair)

__all__ = ["soft_margin_loss", "hinge_embedding_loss", "cosine_embedding_loss"]

COSINE_EPS = float(np.float32(1e-12))
"""Added to both squared norms by PyTorch's ``cosine_embedding_loss``: its ``EPSILON`` is a C++
``float``, so in float64 it is 1e-12 rounded to float32, 9.999999960041972e-13."""


# ---- soft margin ---------------------------------------------------------------------------

def _soft_margin_inputs(input, target, fn):
    x = as_float(input, "input", fn)
    y = asarray(target)
    check_broadcast(y, x.shape, "target", fn)
    return x, as_like(y, x, "target", fn)


def soft_margin_loss(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean"):
    r"""Soft margin loss: the logistic loss on ``±1`` targets.

    .. math::
        l_n = \log(1 + e^{-y_n x_n})

    computed literally, as PyTorch does: ``exp`` overflows to ``inf`` once ``-y·x`` passes
    about 88.7 (float32) or 709.8 (float64), and the loss is then ``inf``. (The stable
    form ``max(-y·x, 0) + log1p(exp(-|y·x|))`` would give a finite value; lossref
    mirrors torch instead.)

    Parameters
    ----------
    input : array_like, shape (*)
        Raw scores, floating point.
    target : array_like, broadcastable to the input's shape (without growing it)
        Usually ``1`` or ``-1``; any real value is used as it is. Cast to the input's dtype.
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of the input's shape when ``reduction='none'``

    Raises
    ------
    ValueError
        ``target`` does not broadcast to the input's shape, or an unknown ``reduction``.
    TypeError
        ``input`` is not floating point.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([2.0, -1.0, 0.0], dtype=np.float32)
    >>> print(np.round(soft_margin_loss(x, np.array([1, 1, -1]), reduction="none"), 4))
    [0.1269 1.3133 0.6931]
    >>> soft_margin_loss(np.array([-100.0], dtype=np.float32), np.array([1.0]))
    np.float32(inf)
    """
    fn = "soft_margin_loss"
    if size_average is None and reduce is None and plain_pair(input, target, reduction):
        # the common call: the general path below ends in the same total_by_blocks for it,
        # after ~10 µs of checks that such arrays pass unchanged (issue 29)
        with np.errstate(**QUIET):
            return total_by_blocks(_soft_margin_sum, reduction, input, target)
    reduction = resolve_reduction(size_average, reduce, reduction)
    x, y = _soft_margin_inputs(input, target, fn)
    with np.errstate(**QUIET):    # exp overflows to inf, silently (torch's value)
        return reduce_elementwise(_soft_margin, reduction, x, y, block_sum=_soft_margin_sum)


def _soft_margin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``log1p(exp(-x · y))``, torch's formula and order, elementwise."""
    return np.log1p(np.exp(np.negative(x) * y))


def _soft_margin_sum(x: np.ndarray, y: np.ndarray) -> float:
    """Σ :func:`_soft_margin` of one block (``total_by_blocks``), the same four steps in one
    reused buffer, then a dot: no array of the input's size is made."""
    z = np.negative(x, out=work_buffers(x.dtype)[0][:x.size])
    z *= y
    np.exp(z, out=z)
    return block_total(np.log1p(z, out=z))


def soft_margin_loss_grad(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                          reduce: bool | None = None, reduction: str = "mean", *,
                          grad_output=None) -> np.ndarray:
    r"""Gradient of :func:`soft_margin_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = -\frac{y_n z_n}{1 + z_n}, \qquad z_n = e^{-y_n x_n}

    in PyTorch's order of operations, so where the forward overflowed (``z = inf``) the
    gradient is ``inf / inf = nan``, as torch's backward returns.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([2.0, -1.0, 0.0])
    >>> print(np.round(soft_margin_loss_grad(x, np.array([1.0, 1.0, -1.0])), 4))
    [-0.0397 -0.2437  0.1667]
    """
    fn = "soft_margin_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x, y = _soft_margin_inputs(input, target, fn)
    g = _reduction.reduce_grad(grad_output, x.shape, x.dtype, reduction)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.exp(np.negative(y) * x)
        grad = -(y * z)
        grad /= z + 1
        grad *= g
    return grad


# ---- hinge embedding -----------------------------------------------------------------------

def hinge_embedding_loss(input: ArrayLike, target: ArrayLike, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean"):
    r"""Hinge embedding loss: ``x`` for positive pairs, ``max(0, margin - x)`` for negative ones.

    ``input`` is usually a distance between the two members of a pair.

    .. math::
        l_n = [y_n \ne -1]\, x_n + [y_n \ne 1] \max(0, \Delta - x_n)

    with :math:`\Delta` the ``margin``. The two brackets are PyTorch's: a target that is
    neither 1 nor -1 (0, 0.5, ...) gets *both* terms.

    Parameters
    ----------
    input : array_like, shape (*)
        Floating point, usually non-negative distances.
    target : array_like, broadcastable with the input
        ``1`` or ``-1``; cast to the input's dtype. The output has the broadcast shape.
    margin : float, default 1.0
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of the broadcast shape when ``reduction='none'``

    Raises
    ------
    ValueError
        ``input`` and ``target`` do not broadcast, or an unknown ``reduction``.
    TypeError
        ``input`` is not floating point, or ``margin`` is not a real number (torch's ``float``).

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([0.3, 0.3, 1.5, 0.3])
    >>> print(hinge_embedding_loss(d, np.array([1, -1, -1, 0]), reduction="none"))
    [0.3 0.7 0.  1. ]
    """
    fn = "hinge_embedding_loss"
    if (type(margin) is float and size_average is None and reduce is None
            and plain_pair(input, target, reduction)):
        # the common call: the general path below ends in the same total_by_blocks for it,
        # after ~10 µs of checks that such arrays pass unchanged (issue 29)
        with np.errstate(**QUIET):
            return total_by_blocks(_hinge_sum, reduction, input, target, margin)
    reduction = resolve_reduction(size_average, reduce, reduction)
    check_option(margin, "margin", fn, "float")
    x, y, shape = float_pair(input, target, fn)
    if x.dtype in _MASK_INT:   # float32/float64: the branch-free selection below
        def elements(x, y):
            return _hinge_into(x, y, margin, np.empty(shape, x.dtype),
                               np.empty(shape, _MASK_INT[x.dtype]))
        with np.errstate(**QUIET):
            return reduce_elementwise(elements, reduction, x, y, block_sum=_hinge_sum,
                                      params=(margin,))
    dtype = x.dtype.type
    # torch: where(y != 1, clamp_min(Δ - x, 0), 0) + where(y != -1, x, 0). Each where is a
    # masked ufunc writing into one buffer of the output's shape, in torch's order and
    # rounding: peak memory 1.25x the input (the buffer and a mask), not 3.25x
    with np.errstate(invalid="ignore", over="ignore"):
        loss = np.zeros(shape, x.dtype)
        np.subtract(dtype(margin), x, out=loss, where=y != 1)     # Δ - x where y ≠ 1, else 0
        np.maximum(loss, dtype(0), out=loss)                      # clamp_min(·, 0)
        np.add(loss, x, out=loss, where=y != -1)                  # + x where y ≠ -1
    return _reduction.reduce(loss, reduction)


#: the integer type of each float's width, to select floats by their bits
_MASK_INT = {np.dtype(np.float32): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.int64)}


def _hinge_into(x: np.ndarray, y: np.ndarray, margin: float, out: np.ndarray,
                mask: np.ndarray) -> np.ndarray:
    """torch's ``where(y != 1, clamp_min(Δ - x, 0), 0) + where(y != -1, x, 0)`` for float32/64,
    into ``out`` (the broadcast shape), with ``mask`` an integer buffer of the same shape.

    Each ``where`` keeps a float or puts +0.0 in its place: here its bits are ANDed with a
    mask of all ones or all zeros (``-(y != 1)``), exactly torch's selection, NaN and ±inf
    included. A masked ufunc (``where=``) or ``np.where`` branches on every element, and with
    random ±1 targets half the branches mispredict: the loss of 10⁶ float32 took 26 ms that
    way (torch: 22 ms), 3.3 ms with these nine branch-free passes. (Multiplying by 0/1 instead
    would turn an infinite distance into NaN.)
    """
    out_bits = out.view(mask.dtype)
    # (np.broadcast_to costs 7 µs: only for an input smaller than the output)
    x_bits = (x if x.shape == out.shape else np.broadcast_to(x, out.shape)).view(mask.dtype)
    np.subtract(x.dtype.type(margin), x, out=out)               # Δ - x
    np.maximum(out, x.dtype.type(0), out=out)                   # clamp_min(·, 0)
    np.not_equal(y, 1, out=mask)                                # 1 where y ≠ 1
    np.negative(mask, out=mask)                                 # all ones where y ≠ 1
    np.bitwise_and(out_bits, mask, out=out_bits)                # where(y ≠ 1, ·, 0)
    np.not_equal(y, -1, out=mask)
    np.negative(mask, out=mask)
    np.bitwise_and(x_bits, mask, out=mask)                      # where(y ≠ -1, x, 0)
    return np.add(out, mask.view(x.dtype), out=out)


def _hinge_sum(x: np.ndarray, y: np.ndarray, margin: float) -> float:
    """Σ :func:`_hinge_into` over one block, in this thread's work buffers."""
    out, mask = work_buffers(x.dtype)
    n = x.size
    return block_total(_hinge_into(x, y, margin, out[:n], mask[:n].view(_MASK_INT[x.dtype])))


def hinge_embedding_loss_grad(input: ArrayLike, target: ArrayLike, margin: float = 1.0,
                              size_average: bool | None = None, reduce: bool | None = None,
                              reduction: str = "mean", *, grad_output=None) -> np.ndarray:
    r"""Gradient of :func:`hinge_embedding_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_n} = [y_n \ne -1]
            - [y_n \ne 1]\,[\Delta - x_n \ge 0]

    At the kink (``x = margin``) the hinge term still passes its slope −1, as torch's
    ``clamp_min`` does (it lets the gradient through where ``Δ - x >= 0``); a NaN input
    gets no gradient from the hinge term.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([0.3, 0.3, 1.0, 1.5])
    >>> print(hinge_embedding_loss_grad(d, np.array([1, -1, -1, -1]), reduction="sum"))
    [ 1. -1. -1.  0.]
    """
    fn = "hinge_embedding_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    check_option(margin, "margin", fn, "float")
    x, y, shape = float_pair(input, target, fn)
    g = _reduction.reduce_grad(grad_output, shape, x.dtype, reduction)
    with np.errstate(invalid="ignore"):
        inside = x.dtype.type(margin) - x >= 0
    slope = (y != -1).astype(x.dtype) - ((y != 1) & inside).astype(x.dtype)
    return sum_to_shape(g * slope, x.shape).astype(x.dtype)


# ---- cosine embedding ----------------------------------------------------------------------

def _cosine_inputs(input1, input2, target, margin, fn):
    check_option(margin, "margin", fn, "float")
    x1 = as_float(input1, "input1", fn)
    x2 = as_float(input2, "input2", fn)
    dtype = np.result_type(x1, x2)
    x1, x2 = x1.astype(dtype, copy=False), x2.astype(dtype, copy=False)
    y = as_like(target, x1, "target", fn)
    if y.ndim > 1:
        raise ValueError(f"{fn}: target must be 0-D or 1-D (one ±1 per pair), got shape "
                         f"{y.shape}; multi-target is not supported")
    want = 2 if y.ndim == 1 else 1
    if x1.ndim != want or x2.ndim != want:
        raise ValueError(f"{fn}: a {y.ndim}-D target expects {want}-D inputs, but found inputs "
                         f"of shapes {x1.shape} and {x2.shape}")
    pairs = broadcast_shape(fn, input1=x1, input2=x2)[:-1]
    try:
        np.broadcast_shapes(pairs, y.shape)
    except ValueError:
        raise ValueError(f"{fn}: target of shape {y.shape} does not broadcast with the "
                         f"{pairs} pairs of the inputs") from None
    return x1, x2, y


def _cosine(x1, x2):
    """PyTorch's cosine: ``Σ x1·x2 / sqrt((Σ x1² + eps)(Σ x2² + eps))``, and its pieces."""
    if x1.dtype in HALF_DTYPES:
        # torch's composite rounds after every op: each product to the half dtype, each sum
        # accumulated in float32 and rounded once, + EPSILON in float32 and rounded, then
        # mag1 · mag2 in the half dtype, where it overflows to inf past 65504 (float16) and
        # the cosine becomes 0 (the loss of a positive pair 1.0, whatever the angle)
        def dot(u, v):
            return np.multiply(u, v).sum(axis=-1, dtype=np.float32)

        def plus_eps(m):
            return (m + np.float32(COSINE_EPS)).astype(x1.dtype)

        prod_sum = dot(x1, x2).astype(x1.dtype)
        mag1, mag2 = plus_eps(dot(x1, x1)), plus_eps(dot(x2, x2))
    else:
        eps = x1.dtype.type(COSINE_EPS)
        # Σ x1·x2, Σ x1², Σ x2²: einsum multiplies and sums in one pass, without a temporary
        prod_sum = np.einsum("...i,...i->...", x1, x2)
        mag1 = np.einsum("...i,...i->...", x1, x1) + eps
        mag2 = np.einsum("...i,...i->...", x2, x2) + eps
    denom = np.sqrt(mag1 * mag2)
    return prod_sum / denom, mag1, mag2, denom


def cosine_embedding_loss(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                          margin: float = 0, size_average: bool | None = None,
                          reduce: bool | None = None, reduction: str = "mean"):
    r"""Cosine embedding loss: a positive pair's cosine up to 1, a negative one below a margin.

    .. math::
        \begin{aligned}
        c_n &= \frac{x_{1n} \cdot x_{2n}}
                    {\sqrt{(\lVert x_{1n} \rVert^2 + \epsilon)
                           (\lVert x_{2n} \rVert^2 + \epsilon)}} \\
        l_n &= \begin{cases} 1 - c_n & y_n = 1 \\
                             \max(0, c_n - \Delta) & y_n = -1 \\
                             0 & \text{otherwise} \end{cases}
        \end{aligned}

    with :math:`\epsilon = 10^{-12}` added to each squared norm (PyTorch's ``EPSILON``, a C++
    ``float``: 9.999999960041972e-13 in float64), so a zero vector has cosine 0, not 0/0.

    Parameters
    ----------
    input1, input2 : array_like, shape (N, D) or (D,)
        Floating point; they broadcast against each other (``(1, D)`` with ``(N, D)``).
    target : array_like, shape (N,) with 2-D inputs, () with 1-D inputs
        ``1`` or ``-1``; any other value gives a loss of 0.
    margin : float, default 0
        Usually in [-1, 1]; 0 to 0.5 is the documented suggestion.
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'`` returns one value per pair.

    Returns
    -------
    numpy scalar, or ndarray of shape (N,) when ``reduction='none'``

    Raises
    ------
    ValueError
        ``target`` is not 0-D/1-D, the inputs' dimensions do not fit it, the shapes do not
        broadcast, or an unknown ``reduction``.
    TypeError
        An input is not floating point, or ``margin`` is not a real number (torch's ``float``).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> b = np.array([[1.0, 1.0], [1.0, 1.0]])
    >>> print(np.round(cosine_embedding_loss(a, b, np.array([1, -1]), reduction="none"), 4))
    [0.2929 1.    ]
    """
    fn = "cosine_embedding_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x1, x2, y = _cosine_inputs(input1, input2, target, margin, fn)
    zero = np.zeros((), x1.dtype)
    with np.errstate(**QUIET):
        cos = _cosine(x1, x2)[0]
        pos = 1 - cos
        neg = np.maximum(cos - x1.dtype.type(margin), zero)
        loss = np.where(y == 1, pos, zero) + np.where(y == -1, neg, zero)
    return _reduction.reduce(np.asarray(loss, dtype=x1.dtype), reduction)


def cosine_embedding_loss_grad(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                               margin: float = 0, size_average: bool | None = None,
                               reduce: bool | None = None, reduction: str = "mean", *,
                               grad_output=None) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients of :func:`cosine_embedding_loss`: the tuple ``(d/d input1, d/d input2)``.

    .. math::
        \begin{aligned}
        \frac{\partial c}{\partial x_1} &= \frac{x_2}{\text{den}}
            - c\,\frac{x_1}{\lVert x_1 \rVert^2 + \epsilon} \\
        \frac{\partial l}{\partial c} &= -[y = 1] + [y = -1]\,[c - \Delta \ge 0]
        \end{aligned}

    and symmetrically for ``x2``. At ``c = margin`` the negative term passes its slope, as
    torch's ``clamp_min`` does.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]])
    >>> g1, g2 = cosine_embedding_loss_grad(a, b, np.array([1]))
    >>> print(np.round(g1, 4) + 0.0, np.round(g2, 4))
    [[ 0.     -0.7071]] [[-0.3536  0.3536]]
    """
    fn = "cosine_embedding_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x1, x2, y = _cosine_inputs(input1, input2, target, margin, fn)
    dt = x1.dtype
    with np.errstate(**QUIET):
        cos, mag1, mag2, denom = _cosine(x1, x2)
        out_shape = np.broadcast_shapes(cos.shape, y.shape)
        g = _reduction.reduce_grad(grad_output, out_shape, dt, reduction)
        slope = ((y == -1) & (cos - dt.type(margin) >= 0)).astype(dt) - (y == 1).astype(dt)
        g_cos = sum_to_shape(g * slope, cos.shape)
        # autograd's order, step by step back through cos = prod_sum / sqrt(mag1 · mag2),
        # so that the cancellation residue of parallel vectors rounds as torch's does
        g_prod = (g_cos / denom)[..., None]
        g_denom = -g_cos * (cos / denom)
        g_mags = g_denom / (2 * denom)
        g_mag1 = sum_to_shape(g_mags * mag2, mag1.shape)[..., None]
        g_mag2 = sum_to_shape(g_mags * mag1, mag2.shape)[..., None]
        # x·x sends g·x twice; g·x + g·x is exactly (2g)·x, one multiplication
        grad1 = _add_scaled(sum_to_shape(g_prod * x2, x1.shape), x1, 2 * g_mag1)
        grad2 = _add_scaled(sum_to_shape(g_prod * x1, x2.shape), x2, 2 * g_mag2)
    return (grad1.astype(asarray(input1).dtype, copy=False),
            grad2.astype(asarray(input2).dtype, copy=False))


def _add_scaled(acc: np.ndarray, x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``acc + scale·x``, into ``acc`` when it is a fresh array of the result's shape."""
    term = x * scale
    if acc.shape == term.shape and acc.flags.writeable:
        acc += term
        return acc
    return acc + term
