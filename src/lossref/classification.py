"""Multi-class losses: negative log-likelihood and cross-entropy."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._numerics import log_softmax
from ._reduction import resolve_reduction
from ._validation import (as_class_index, as_float, as_like, check_class_range,
                          check_class_weight, check_label_smoothing)

__all__ = ["cross_entropy", "nll_loss"]


def _class_axis(x: np.ndarray, fn: str) -> int:
    """The class dimension: 0 for an unbatched ``(C,)`` input, else 1 in ``(N, C, d1, …, dK)``."""
    if x.ndim < 1:
        raise ValueError(f"{fn}: input must have at least 1 dimension, (C,) or (N, C, d1, ..., dK); "
                         f"got a 0-d array")
    return 0 if x.ndim == 1 else 1


def _check_index_target(x: np.ndarray, t: np.ndarray, fn: str) -> np.ndarray:
    """Class-index target shape: ``()`` for ``(C,)`` input, ``(N, d1, …, dK)`` for ``(N, C, d1, …, dK)``."""
    if x.ndim == 1:
        if t.shape not in ((), (1,)):
            raise ValueError(f"{fn}: an unbatched input of shape {x.shape} takes a single class "
                             f"index as target, got target shape {t.shape}")
        return t.reshape(())
    if t.ndim == 0 or t.shape[0] != x.shape[0]:
        got = t.shape[0] if t.ndim else "a 0-d target"
        raise ValueError(f"{fn}: Expected input batch_size ({x.shape[0]}) to match target "
                         f"batch_size ({got}).")
    expected = (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        raise ValueError(f"{fn}: Expected target shape {expected} for input shape {x.shape}, "
                         f"got {t.shape}")
    return t


def _negative_log_likelihood(logp: np.ndarray, t: np.ndarray, w: np.ndarray | None,
                             ignore_index: int):
    """Per-element ``-w[t] * logp[t]`` (0 where ignored) and the mean's denominator.

    The denominator is the sum of the weights of the non-ignored targets (their count
    without ``weight``). Picking is flat indexing: no one-hot matrix is built.
    """
    ignored = t == ignore_index
    safe_t = np.where(ignored, 0, t) if ignored.any() else t
    if logp.ndim == 1:
        picked = logp[safe_t]
    else:
        picked = np.take_along_axis(logp, np.expand_dims(safe_t, 1), axis=1).squeeze(1)
    loss = np.negative(picked)
    if w is None:
        weight_sum = logp.dtype.type(np.count_nonzero(~ignored))
    else:
        target_w = w[safe_t]
        loss *= target_w
        weight_sum = np.where(ignored, 0, target_w).sum(dtype=logp.dtype)
    if ignored.any():
        loss = np.where(ignored, logp.dtype.type(0), loss)
    return loss, weight_sum


def nll_loss(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean"):
    r"""Negative log-likelihood loss: pick the target's entry and negate it.

    .. math::
        l_n = -w_{y_n} x_{n, y_n}, \qquad w_c = \text{weight}[c]\cdot 1\{c \ne \text{ignore\_index}\}

    ``'mean'`` divides :math:`\sum_n l_n` by :math:`\sum_n w_{y_n}` (the weights of the
    non-ignored targets), not by N. ``input`` is expected to hold log-probabilities
    (``log_softmax`` output); nothing checks it, so raw scores give a meaningless
    (possibly negative) number.

    Parameters
    ----------
    input : array_like, shape (C,), (N, C) or (N, C, d1, ..., dK)
        Log-probabilities, floating point.
    target : array_like of int, shape (), (N,) or (N, d1, ..., dK)
        Class indices in [0, C-1], or ``ignore_index``.
    weight : array_like, shape (C,), optional
        Per-class weight.
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    ignore_index : int, default -100
        Target value that contributes neither to the loss nor to the mean's denominator.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of the target's shape when ``reduction='none'``

    Raises
    ------
    ValueError
        Batch or spatial shapes disagree, ``weight`` is not of length C, unknown ``reduction``.
    TypeError
        ``input`` is not floating point, or ``target`` does not hold integers.
    IndexError
        A target is outside [0, C-1] and is not ``ignore_index``.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[1, 2], [1, 3], [1, 3]], dtype=np.float32)
    >>> nll_loss(scores, np.array([0, 1, 1]), reduction="none")
    array([-1., -3., -3.], dtype=float32)
    """
    fn = "nll_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x = as_float(input, "input", fn)
    axis = _class_axis(x, fn)
    t = _check_index_target(x, as_class_index(target, fn), fn)
    n_classes = x.shape[axis]
    w = check_class_weight(weight, n_classes, x, fn)
    check_class_range(t, n_classes, ignore_index, fn)

    loss, weight_sum = _negative_log_likelihood(x, t, w, ignore_index)
    return _reduction.reduce(loss, reduction, weight_sum)


def cross_entropy(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0):
    r"""Cross-entropy between logits and class indices or class probabilities.

    Class-index targets (``log_softmax`` then ``nll_loss``):

    .. math::
        l_n = -w_{y_n} \log \frac{e^{x_{n,y_n}}}{\sum_c e^{x_{n,c}}}
            = w_{y_n}\Big(-x_{n,y_n} + \log \sum_c e^{x_{n,c}}\Big)

    With ``label_smoothing`` :math:`\varepsilon`, the target puts
    :math:`1 - \varepsilon + \varepsilon/C` on the true class and :math:`\varepsilon/C`
    on every class (the true one included):

    .. math::
        l = (1 - \varepsilon)\, \mathrm{nll} + \frac{\varepsilon}{C}
            \sum_c -w_c \log p_{n,c}

    and the ``'mean'`` of both terms divides by the sum of the weights of the
    non-ignored targets. Probability targets :math:`y_{n,c}` (same shape as the
    input) give :math:`l_n = -\sum_c w_c\, y_{n,c} \log p_{n,c}`, and their mean
    divides by the number of samples N (times d1…dK), weights or not.

    Parameters
    ----------
    input : array_like, shape (C,), (N, C) or (N, C, d1, ..., dK)
        Unnormalised logits, floating point.
    target : array_like
        Class indices of shape (), (N,) or (N, d1, ..., dK), integer; or class
        probabilities of the input's shape, floating point.
    weight : array_like, shape (C,), optional
        Per-class weight.
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    ignore_index : int, default -100
        Ignored target value (class-index targets only).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    label_smoothing : float in [0, 1], default 0.0

    Returns
    -------
    numpy scalar, or ndarray of shape (), (N,) or (N, d1, ..., dK) when ``reduction='none'``

    Raises
    ------
    ValueError
        Shapes disagree, ``weight`` is not of length C, ``label_smoothing`` outside
        [0, 1], ``ignore_index`` set with probability targets, unknown ``reduction``.
    TypeError
        ``input`` not floating point; index targets not integer; probability targets
        not floating point.
    IndexError
        A class index outside [0, C-1] that is not ``ignore_index``.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[1, 2], [1, 3], [1, 3]], dtype=np.float32)
    >>> labels = np.array([0, 1, 1])
    >>> print(np.round(cross_entropy(logits, labels, reduction="none"), 4))
    [1.3133 0.1269 0.1269]
    >>> print(f"{cross_entropy(logits, labels, weight=[1.0, 2.0]):.4f}")
    0.3642
    """
    fn = "cross_entropy"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x = as_float(input, "input", fn)
    axis = _class_axis(x, fn)
    eps = check_label_smoothing(label_smoothing, fn)
    n_classes = x.shape[axis]
    w = check_class_weight(weight, n_classes, x, fn)
    target = np.asarray(target)
    if target.shape == x.shape:
        return _cross_entropy_probabilities(x, target, w, axis, ignore_index, reduction, eps)

    t = _check_index_target(x, as_class_index(target, fn), fn)
    check_class_range(t, n_classes, ignore_index, fn)
    logp = log_softmax(x, axis)
    loss, weight_sum = _negative_log_likelihood(logp, t, w, ignore_index)
    nll = _reduction.reduce(loss, reduction, weight_sum)
    if eps == 0.0:
        return nll

    # Smoothing term: -sum_c w_c log p_c per sample, contracted over the class axis
    # (no (N, C) temporary), zero where the target is ignored.
    smooth = -(np.tensordot(w, logp, axes=([0], [axis])) if w is not None else logp.sum(axis))
    smooth = np.where(t == ignore_index, x.dtype.type(0), smooth).astype(x.dtype, copy=False)
    smooth = _reduction.reduce(smooth, reduction, weight_sum)
    dtype = x.dtype.type
    return dtype(1 - eps) * nll + smooth * dtype(eps / n_classes)


def _cross_entropy_probabilities(x, target, w, axis, ignore_index, reduction, eps):
    """Cross-entropy against class probabilities (soft targets) of the input's shape."""
    fn = "cross_entropy"
    if not np.issubdtype(target.dtype, np.floating):
        raise TypeError(f"{fn}: a target of the input's shape {x.shape} is read as class "
                        f"probabilities and must be floating point, got dtype {target.dtype}")
    if ignore_index >= 0:
        raise ValueError(f"{fn}: ignore_index={ignore_index} is not supported with class-"
                         "probability targets (leave it at the default -100)")
    n_classes = x.shape[axis]
    y = as_like(target, x, "target", fn)
    if eps > 0.0:
        y = y * x.dtype.type(1 - eps) + x.dtype.type(eps / n_classes)
    terms = log_softmax(x, axis)
    terms *= y
    if w is not None:
        terms *= w.reshape((-1,) + (1,) * (x.ndim - axis - 1))
    if reduction == "none":
        return -terms.sum(axis)
    total = -terms.sum()
    if reduction == "sum":
        return total
    n_samples = x.size // n_classes if n_classes else 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / n_samples if x.size else x.dtype.type(np.nan)).astype(x.dtype)
