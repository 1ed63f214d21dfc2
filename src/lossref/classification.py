"""Multi-class losses: negative log-likelihood and cross-entropy."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._numerics import as_samples, log_softmax_sums
from ._reduction import resolve_reduction
from ._validation import (asarray, as_class_index, as_float, as_like, check_class_range,
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


def _targets(t: np.ndarray, ignore_index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets safe to index with (ignored ones replaced by class 0) and the ignored mask.

    The mask is ``None`` when no target equals ``ignore_index``, so the common case does no
    masking work at all.
    """
    ignored = t == ignore_index
    if not ignored.any():
        return t, None
    return np.where(ignored, 0, t), ignored


def _pick(x3: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``x3[n, t[n, d], d]`` for every sample n and position d of an ``(N, C, D)`` array.

    Flat indexing into the input: one value per target, no (N, C) one-hot matrix.
    """
    n, c, d = x3.shape
    index = np.multiply(t, d, dtype=np.intp)                 # class offset within a sample
    index += np.arange(0, n * c * d, c * d).reshape(n, 1)    # + where each sample starts
    if d > 1:
        index += np.arange(d)                                # + the position
    return np.take(x3, index)


def _negative_log_likelihood(log_p_t: np.ndarray, t: np.ndarray, ignored: np.ndarray | None,
                             w: np.ndarray | None):
    """Per-target ``-w[t] * log_p_t`` (0 where ignored) and the mean's denominator.

    ``log_p_t`` holds the log-probability of each target class, ``t`` the (safe) targets.
    The denominator is the sum of the weights of the non-ignored targets (their count
    without ``weight``).
    """
    loss = np.negative(log_p_t)
    if w is None:
        kept = t.size if ignored is None else np.count_nonzero(~ignored)
        weight_sum = loss.dtype.type(kept)
    else:
        target_w = w[t]
        loss *= target_w
        if ignored is not None:
            target_w[ignored] = 0
        weight_sum = target_w.sum(dtype=loss.dtype)
    if ignored is not None:
        loss[ignored] = 0
    return loss, weight_sum


def _per_target(loss: np.ndarray, shape: tuple):
    """Per-target values in the target's shape (a NumPy scalar for an unbatched input)."""
    return loss.reshape(shape)[()]


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

    x3 = as_samples(x)
    safe_t, ignored = _targets(t.reshape(x3.shape[0], x3.shape[2]), ignore_index)
    loss, weight_sum = _negative_log_likelihood(_pick(x3, safe_t), safe_t, ignored, w)
    return _reduction.reduce(_per_target(loss, t.shape), reduction, weight_sum)


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
    target = asarray(target)
    if target.shape == x.shape:
        return _cross_entropy_probabilities(x, target, w, axis, ignore_index, reduction, eps)

    t = _check_index_target(x, as_class_index(target, fn), fn)
    check_class_range(t, n_classes, ignore_index, fn)

    x3 = as_samples(x)                       # (N, C, D)
    safe_t, ignored = _targets(t.reshape(x3.shape[0], x3.shape[2]), ignore_index)
    m, log_norm, smooth = log_softmax_sums(x3, w=w, class_sums=eps > 0.0)
    # Only the target's log-probability is needed, in PyTorch's order: (x_t - m) - log_norm.
    log_p_t = np.subtract(_pick(x3, safe_t), m[:, 0])
    log_p_t -= log_norm[:, 0]
    loss, weight_sum = _negative_log_likelihood(log_p_t, safe_t, ignored, w)
    nll = _reduction.reduce(_per_target(loss, t.shape), reduction, weight_sum)
    if eps == 0.0:
        return nll

    # Smoothing term: -sum_c w_c log p_c per sample, zero where the target is ignored.
    np.negative(smooth, out=smooth)
    if ignored is not None:
        smooth[ignored] = 0
    smooth = _reduction.reduce(_per_target(smooth, t.shape), reduction, weight_sum)
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
    x3 = as_samples(x)
    # -sum_c w_c y_c log p_c per sample, PyTorch's products (log p * y) * w
    loss = np.negative(log_softmax_sums(x3, y=as_samples(y), w=w, class_sums=True)[2])
    # 'mean' divides by the number of samples N·d1…dK, weights or not; an empty input
    # (no samples, or no classes) divides by 0 and gives nan, as in PyTorch.
    n_samples = x.size // n_classes if n_classes else 0
    return _reduction.reduce(_per_target(loss, x.shape[:axis] + x.shape[axis + 1:]), reduction,
                             weight_sum=n_samples)
