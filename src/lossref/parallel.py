"""Cross-entropy with the vocabulary split over ranks (Megatron-LM's tensor-parallel loss).

Each rank holds the logits of a contiguous slice of the classes, ``(N, V_local)`` starting at
class ``vocab_start``; every rank holds the same ``N`` targets, as global class indices. The
loss of the whole ``(N, V)`` logits comes out on every rank without gathering them: three
all-reduces of ``N`` numbers each (the row maxima, the sums of exponentials, the target's
logit, which lives on one rank only), and one more for the sum over all classes that label
smoothing needs. lossref stays torch-free: the collective is an argument,
``all_reduce(array, op)`` with ``op`` in ``{'max', 'sum'}``, returning the group's reduction of
``array`` (a chapter passes one that wraps ``torch.distributed.all_reduce``; the tests also run
the ranks as threads of one process).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._numerics import QUIET
from ._reduction import resolve_reduction
from ._validation import as_class_index, as_float, check_label_smoothing, check_option

__all__ = ["vocab_parallel_cross_entropy", "vocab_parallel_cross_entropy_grad"]

FN = "vocab_parallel_cross_entropy"
AllReduce = Callable[[np.ndarray, str], np.ndarray]


def _inputs(local_logits, target, vocab_start, all_reduce, ignore_index, reduction,
            label_smoothing):
    """Checked arrays and options, and the global vocabulary size (one all-reduce)."""
    x = as_float(local_logits, "local_logits", FN)
    if x.ndim != 2:
        raise ValueError(f"{FN}: local_logits must be (N, V_local), got shape {x.shape}")
    t = as_class_index(target, FN)
    if t.shape != (x.shape[0],):
        raise ValueError(f"{FN}: target must have shape ({x.shape[0]},) for local_logits of "
                         f"shape {x.shape}, got {t.shape}")
    check_option(vocab_start, "vocab_start", FN, "int")
    check_option(ignore_index, "ignore_index", FN, "int")
    check_option(label_smoothing, "label_smoothing", FN, "float")
    if vocab_start < 0:
        raise ValueError(f"{FN}: vocab_start must be >= 0, got {vocab_start}")
    if not callable(all_reduce):
        raise TypeError(f"{FN}: all_reduce must be a function all_reduce(array, op), "
                        f"got {type(all_reduce).__name__}")
    reduction = resolve_reduction(None, None, reduction)
    eps = check_label_smoothing(label_smoothing, FN)
    n_classes = int(all_reduce(np.array([x.shape[1]], dtype=np.int64), "sum")[0])
    kept = t != ignore_index
    bad = kept & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{FN}: Target {t[bad][0]} is out of bounds for {n_classes} classes "
                         f"(the vocabulary summed over the ranks)")
    return x, t, kept, reduction, eps, n_classes


def _softmax_parts(x: np.ndarray, t: np.ndarray, kept: np.ndarray, vocab_start: int,
                   all_reduce: AllReduce):
    """The global row max, log Σ exp over all ranks (of the logits minus the max), the
    target's logit minus the max, and this rank's ``exp(x - max)``."""
    local_max = x.max(axis=1) if x.shape[1] else np.full(x.shape[0], -np.inf, x.dtype)
    row_max = all_reduce(local_max, "max")
    with np.errstate(**QUIET):
        shifted = x - row_max[:, None]               # ≤ 0 on every rank: exp cannot overflow
        exp = np.exp(shifted)
        log_sum_exp = np.log(all_reduce(exp.sum(axis=1), "sum"))
    # the target's logit lives on one rank: the others contribute 0 to the sum
    local = kept & (t >= vocab_start) & (t < vocab_start + x.shape[1])
    picked = np.zeros(x.shape[0], dtype=x.dtype)
    rows = np.flatnonzero(local)
    picked[rows] = shifted[rows, t[rows] - vocab_start]
    target_logit = all_reduce(picked, "sum")
    return row_max, exp, log_sum_exp, target_logit


def vocab_parallel_cross_entropy(local_logits: ArrayLike, target: ArrayLike, *, vocab_start: int,
                                 all_reduce: AllReduce, ignore_index: int = -100,
                                 reduction: str = "mean", label_smoothing: float = 0.0):
    r"""Cross-entropy of logits whose class dimension is split over ranks.

    Equal to ``cross_entropy(logits, target, ignore_index=..., reduction=...,
    label_smoothing=...)`` on the whole ``(N, V)`` logits, computed on each rank from its own
    ``(N, V_local)`` slice:

    .. math::
        m_n = \max_c x_{n,c}, \qquad
        \log Z_n = \log \sum_c e^{x_{n,c} - m_n}, \qquad
        l_n = (1-\varepsilon)\,(\log Z_n - (x_{n,y_n} - m_n))
              + \frac{\varepsilon}{V} \sum_c (\log Z_n - (x_{n,c} - m_n))

    where the max and the two sums over classes are all-reduces over the ranks (the target's
    logit is one more sum: only the rank that holds class :math:`y_n` contributes it).

    Parameters
    ----------
    local_logits : array_like, shape (N, V_local)
        This rank's slice of the logits: classes ``vocab_start`` … ``vocab_start + V_local - 1``.
        Slices may be uneven; their sizes add up to the vocabulary ``V``.
    target : array_like of int, shape (N,)
        Global class indices in ``[0, V)``, the same on every rank, or ``ignore_index``.
    vocab_start : int
        The global index of this rank's first class.
    all_reduce : callable
        ``all_reduce(array, op)`` with ``op`` in ``{'max', 'sum'}``: the elementwise reduction of
        ``array`` over all ranks, returned as a new array (every rank calls it in the same
        order, as with ``torch.distributed.all_reduce``).
    ignore_index : int, default -100
        Targets equal to it contribute nothing; ``'mean'`` divides by the number of the others.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    label_smoothing : float in [0, 1], default 0.0

    Returns
    -------
    numpy scalar, or ndarray of shape (N,) for ``reduction='none'``; the same on every rank.

    Raises
    ------
    ValueError
        Shapes that do not fit, ``vocab_start < 0``, an unknown ``reduction``,
        ``label_smoothing`` outside [0, 1].
    TypeError
        Non-float logits, non-integer targets, wrong-typed options, ``all_reduce`` not callable.
    IndexError
        A target outside ``[0, V)`` that is not ``ignore_index``.

    Examples
    --------
    One process standing in for two ranks (each rank's sums are computed here in turn; a real
    group would run them at once):

    >>> import numpy as np
    >>> from lossref import cross_entropy
    >>> logits = np.array([[1.0, 2.0, 0.5, -1.0], [0.0, 3.0, 1.0, 2.0]])
    >>> target = np.array([3, 1])
    >>> whole = cross_entropy(logits, target)
    >>> def single_rank(array, op):
    ...     return array            # a group of one: the reduction of one array is itself
    >>> part = vocab_parallel_cross_entropy(logits, target, vocab_start=0,
    ...                                     all_reduce=single_rank)
    >>> bool(np.isclose(part, whole))
    True
    """
    x, t, kept, reduction, eps, n_classes = _inputs(local_logits, target, vocab_start,
                                                    all_reduce, ignore_index, reduction,
                                                    label_smoothing)
    row_max, _, log_sum_exp, target_logit = _softmax_parts(x, t, kept, vocab_start, all_reduce)
    loss = log_sum_exp - target_logit                  # -log p(y_n)
    if eps > 0:
        # Σ_c -log p_c = V·log Z - Σ_c (x_c - m): one more all-reduce, of the rows' local sums
        with np.errstate(**QUIET):
            logit_sum = all_reduce(x.sum(axis=1, dtype=x.dtype), "sum")
            smooth = n_classes * log_sum_exp - (logit_sum - n_classes * row_max)
            loss = (1 - eps) * loss + eps / n_classes * smooth
    loss = np.where(kept, loss, 0).astype(x.dtype)
    return _reduction.reduce(loss, reduction, weight_sum=kept.sum(dtype=x.dtype))


def vocab_parallel_cross_entropy_grad(local_logits: ArrayLike, target: ArrayLike, *,
                                      vocab_start: int, all_reduce: AllReduce,
                                      ignore_index: int = -100, reduction: str = "mean",
                                      label_smoothing: float = 0.0,
                                      grad_output: ArrayLike | None = None):
    r"""Gradient of :func:`vocab_parallel_cross_entropy` with respect to this rank's slice.

    .. math::
        \frac{\partial l_n}{\partial x_{n,c}} = \mathrm{softmax}(x_n)_c
            - (1-\varepsilon)\,[c = y_n] - \frac{\varepsilon}{V}

    for the classes ``c`` of this rank, times the reduction's factor (``1 / (number of
    non-ignored targets)`` for ``'mean'``) and ``grad_output``; 0 on ignored rows. The softmax
    needs the same two all-reduces as the loss (the row max and the sum of exponentials); the
    result has the shape and dtype of ``local_logits``.

    Examples
    --------
    >>> import numpy as np
    >>> from lossref import grad
    >>> logits = np.array([[1.0, 2.0, 0.5, -1.0], [0.0, 3.0, 1.0, 2.0]])
    >>> g = vocab_parallel_cross_entropy_grad(logits, np.array([3, 1]), vocab_start=0,
    ...                                       all_reduce=lambda a, op: a)
    >>> bool(np.allclose(g, grad.cross_entropy(logits, np.array([3, 1]))))
    True
    """
    x, t, kept, reduction, eps, n_classes = _inputs(local_logits, target, vocab_start,
                                                    all_reduce, ignore_index, reduction,
                                                    label_smoothing)
    _, exp, log_sum_exp, _ = _softmax_parts(x, t, kept, vocab_start, all_reduce)
    scale = _reduction.reduce_grad(grad_output, (x.shape[0],), x.dtype, reduction,
                                   weight_sum=kept.sum(dtype=x.dtype))
    with np.errstate(**QUIET):
        g = exp / np.exp(log_sum_exp)[:, None]         # this rank's columns of the softmax
        if eps > 0:
            g -= eps / n_classes
        rows = np.flatnonzero(kept & (t >= vocab_start) & (t < vocab_start + x.shape[1]))
        g[rows, t[rows] - vocab_start] -= 1 - eps
        g *= np.where(kept, scale, 0)[:, None]
    return g.astype(x.dtype, copy=False)
