"""Binary cross-entropy, on probabilities and on logits."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import clamp_log, log1m_clamped, log_sigmoid
from . import _reduction
from ._reduction import resolve_reduction
from ._validation import (asarray, as_float, as_like, check_broadcast, check_same_shape,
                          check_unit_interval)

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]


def _elementwise_weight(weight, x: np.ndarray, name: str, fn: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = as_like(weight, x, name, fn)
    check_broadcast(w, x.shape, name, fn)
    return w


def binary_cross_entropy(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean"):
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
    x = as_float(input, "input", fn)
    y = asarray(target)
    check_same_shape(x, y, fn)
    y = as_like(y, x, "target", fn)
    w = _elementwise_weight(weight, x, "weight", fn)
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


def binary_cross_entropy_with_logits(input: ArrayLike, target: ArrayLike,
                                     weight: ArrayLike | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: ArrayLike | None = None):
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
    reduction = resolve_reduction(size_average, reduce, reduction)
    x = as_float(input, "input", fn)
    y = asarray(target)
    check_same_shape(x, y, fn)
    y = as_like(y, x, "target", fn)
    w = _elementwise_weight(weight, x, "weight", fn)
    p = _elementwise_weight(pos_weight, x, "pos_weight", fn)

    log_sig = log_sigmoid(x)
    if p is not None:
        log_sig *= (p - 1) * y + 1
    loss = 1 - y
    loss *= x
    loss -= log_sig
    if w is not None:
        loss *= w
    return _reduction.reduce(loss, reduction)

