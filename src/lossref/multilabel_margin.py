"""The multi-label margin loss, ``multilabel_margin_loss``, and its gradient (split out of
``multilabel.py`` for length): the multi-class hinge of ``multi_margin_loss`` summed over each
sample's labels, the targets padded by ``-1`` (the first ``-1`` ends a sample's labels).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._classes import row_starts
from ._numerics import BLOCK_BYTES, QUIET
from ._reduction import resolve_reduction
from ._validation import as_class_index, as_float, refuse_half
from .multilabel import _FLOAT32, _FLOAT64, _INT64, _as_frames

__all__ = ["multilabel_margin_loss"]


def _multilabel_margin_inputs(input, target, fn):
    x = as_float(input, "input", fn)
    refuse_half(x, "multilabel_margin_loss_forward_out_frame", fn)
    x2 = _as_frames(x, fn)
    n, c = x2.shape
    y = as_class_index(target, fn)
    ok = (y.ndim <= 1 and y.size == c) if x.ndim <= 1 else y.shape == x.shape
    if not ok:
        raise ValueError(f"{fn}: target of shape {y.shape} must have the input's shape "
                         f"{x.shape} (one row of labels, padded with -1, per sample)")
    y2 = y.reshape(n, c)
    if y2.size and (y2.min() < -1 or y2.max() >= c):
        bad = int(y2[(y2 < -1) | (y2 >= c)][0])
        raise IndexError(f"{fn}: target {bad} is out of range: labels must be in [0, {c - 1}], "
                         f"or -1 to end a sample's list")
    out_shape = (n,) if y.ndim > 1 else ()
    return x, x2, y2, out_shape


def _plain_multilabel_margin(x, t) -> bool:
    """The usual ``multilabel_margin_loss`` call: (N, C) float32/float64 scores, N > 0, and
    int64 labels of the same shape, every entry in [-1, C). Identity and ``type`` tests and
    one min and max: anything else goes the general way, which checks and raises as torch."""
    if not (type(x) is np.ndarray and type(t) is np.ndarray and x.ndim == 2
            and (x.dtype is _FLOAT32 or x.dtype is _FLOAT64) and t.dtype is _INT64
            and x.shape == t.shape and x.shape[0] > 0 and x.shape[1] > 0):
        return False
    return np.minimum.reduce(t, axis=None) >= -1 and np.maximum.reduce(t, axis=None) < x.shape[1]


def _label_blocks(x2, y2):
    """The hinge terms ``max(0, 1 - x[n, j] + x[n, d])`` of torch's kernel, a block of rows
    at a time: yields ``(rows, z, labels, kept)``.

    torch loops, per row, over its labels ``j`` (the entries before the first -1, duplicates
    again) and, for each, over every non-target class ``d``, forming ``z = 1 - x[j] + x[d]``
    in the input's dtype and keeping it where ``z > 0``. Here a block of m rows forms every
    term at once, ``z`` of shape (m, K, C) for the K label slots of its longest row:
    ``labels`` (m, K) are the rows' first K target entries as flat indices into the block
    (``kept`` marks the real labels, a prefix of each row; ``None`` when every row of the
    input has K labels, the usual call). A target class never enters as
    ``d``: it is set to -inf, which makes its ``z`` -inf (or nan), and a padding slot's label
    score is +inf, which makes its whole row of ``z`` -inf (or nan); ``fmax(z, 0)`` keeps
    exactly the terms with ``z > 0`` (a nan term adds nothing, as in the kernel).

    Rows go in order, in blocks of about ``BLOCK_BYTES``; only when the rows' label counts
    differ so much that padding every row to the longest one would double the work are they
    taken longest first, each block padded to its own longest row. A block of one row whose
    terms alone pass ``BLOCK_BYTES`` (thousands of labels and classes) comes in several
    pieces of its label slots, so the memory stays O(C) per row as in torch's kernel: a row
    may then be yielded more than once, and the callers add up what they get. Run it with
    NumPy's invalid and overflow warnings off, as torch is silent there.
    """
    n, c = x2.shape
    if n == 0:
        return
    n_labels = _label_counts(y2)
    k_max = int(np.maximum.reduce(n_labels))
    uniform = np.minimum.reduce(n_labels) == k_max        # nothing to pad
    order = None
    if not uniform and k_max * n > 2 * int(np.add.reduce(n_labels)):
        order = np.argsort(-n_labels, kind="stable")
    one, inf = x2.dtype.type(1), x2.dtype.type(np.inf)
    lo = 0
    while lo < n:
        k = k_max if order is None else int(n_labels[order[lo]])
        if k == 0:                             # no labels (left): those rows' loss is 0
            return
        step = max(1, BLOCK_BYTES // (8 * k * c))
        rows = slice(lo, lo + step) if order is None else order[lo:lo + step]
        lo += step
        scores = np.array(x2[rows], order="C")          # a copy: the non-target scores
        m = len(scores)
        flat = scores.ravel()
        if uniform:
            kept = None
            labels = y2[rows, :k] + row_starts(m, c)[:, None]
            label_x = flat.take(labels)
            flat[labels] = -inf
        else:
            kept = np.arange(k) < n_labels[rows, None]     # a row's labels: the first k_n
            labels = np.where(kept, y2[rows, :k], 0)
            labels += row_starts(m, c)[:, None]
            label_x = flat.take(labels)
            label_x[~kept] = inf
            flat[labels[kept]] = -inf
        piece = max(1, BLOCK_BYTES // (8 * m * c))       # label slots at a time: all but
        for k0 in range(0, k, piece):                    # for a row of thousands of labels
            slots = slice(k0, k0 + piece)
            z = np.add(scores[:, None, :], (one - label_x[:, slots])[:, :, None])
            np.fmax(z, 0, out=z)
            yield rows, z, labels[:, slots], None if kept is None else kept[:, slots]


def _label_counts(y2: np.ndarray) -> np.ndarray:
    """The number of labels of each row: the entries before its first -1 (C if none)."""
    end = y2 < 0
    return np.where(end.any(axis=1), end.argmax(axis=1), y2.shape[1])


@np.errstate(**QUIET)
def _multilabel_margin_loss(x2: np.ndarray, y2: np.ndarray, reduction: str = "none"):
    """Per-sample loss (N,) of (N, C) scores and labels (checked); reduced with ``'sum'`` or
    ``'mean'`` as ``_reduction.reduce`` does (for a fast path's N > 0)."""
    n, c = x2.shape
    total = np.zeros(n, np.float64)
    for rows, z, _, _ in _label_blocks(x2, y2):
        total[rows] += _term_sums(z)
    loss = (total / c).astype(x2.dtype)
    if reduction == "none":
        return loss
    total = np.add.reduce(loss)           # loss.sum(), without its Python wrapper
    return total if reduction == "sum" else total / x2.dtype.type(n)


def _term_sums(z: np.ndarray) -> np.ndarray:
    """Σ over the label slots k and classes d of the hinge terms ``z`` (m, K, C), fmax'ed
    (the terms with z > 0), in float64, as torch's kernel adds a row's terms in acc_type,
    one label after another: the slots' sums are added in slot order, so that with fewer
    than 8 classes (where NumPy's pairwise sum of a slot is sequential) the loss is torch's
    to the bit. From 8 classes on ``einsum`` sums each slot, 2.5x faster than a pairwise
    ``sum(dtype=float64)`` at C = 10, and as accurate."""
    z64 = z.astype(np.float64, copy=False)
    slots = np.add.reduce(z64, axis=2) if z.shape[2] < 8 else np.einsum("nkc->nk", z64)
    return np.add.reduce(np.ascontiguousarray(slots.T), axis=0)     # slot by slot


@np.errstate(**QUIET)
def _multilabel_margin_grad(x2: np.ndarray, y2: np.ndarray, g: np.ndarray) -> np.ndarray:
    """d(Σ g_n l_n)/dx of (N, C) scores and labels (checked), ``g`` (N, 1) or one number."""
    n, c = x2.shape
    grad = np.zeros((n, c), x2.dtype)
    for rows, z, labels, kept in _label_blocks(x2, y2):
        # +1 per active term at d, -1 at its label j (counts are exact in the dtype)
        active = z > 0
        counts = active.sum(axis=1, dtype=x2.dtype)
        per_label = active.sum(axis=2, dtype=x2.dtype)
        if kept is not None:
            labels, per_label = labels[kept], per_label[kept]
        np.subtract.at(counts.ravel(), labels, per_label)
        grad[rows] += counts
    grad *= g / x2.dtype.type(c)
    return grad


def _common_multilabel_margin(x, t, reduction: str, grad: bool = False):
    """``multilabel_margin_loss`` (or with ``grad`` its gradient, ``grad_output=None``) of a
    :func:`_plain_multilabel_margin` call: the general path's computation without its checks
    and reduction set-up."""
    if not grad:
        return _multilabel_margin_loss(x, t, reduction)
    dtype = x.dtype.type
    n = x.shape[0]
    return _multilabel_margin_grad(x, t, dtype(1) / dtype(n) if reduction == "mean"
                                   else dtype(1))


def multilabel_margin_loss(input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean"):
    r"""Multi-label hinge loss: every target label should outscore every non-target by 1.

    .. math::
        l_n = \frac{1}{C} \sum_{j \in J_n} \sum_{d \notin J_n}
              \max(0,\; 1 - x_{n,j} + x_{n,d})

    where :math:`J_n` holds the labels of row ``target[n]`` *before its first -1*: the
    target has the input's shape and is padded with -1, and everything after the first -1
    is ignored. A term counts only where it is ``> 0`` (a NaN score adds nothing).

    Parameters
    ----------
    input : array_like, shape (N, C), (C,) or ()
        Raw scores, floating point; C ≥ 1, N may be 0.
    target : array_like of int, the input's shape
        Labels in [0, C), ended by -1 (every entry must lie in [-1, C), even after the -1).
    size_average, reduce : bool, optional
        Deprecated; override ``reduction`` when given.
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    numpy scalar, or ndarray of shape (N,) when ``reduction='none'`` and the input is 2-D.
    An empty batch gives ``nan`` for ``'mean'`` and 0 for ``'sum'`` (PyTorch returns
    uninitialised memory there).

    Raises
    ------
    ValueError
        An input that is not (N, C)/(C,)/() with C ≥ 1, a target of another shape, or an
        unknown ``reduction``.
    IndexError
        A target entry outside [-1, C).
    TypeError
        ``input`` not floating point or float16/bfloat16 (torch's CPU kernel has neither),
        or ``target`` not integer.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]], dtype=np.float32)
    >>> print(f"{multilabel_margin_loss(x, np.array([[3, 0, -1, 1]])):.4f}")
    0.8500
    """
    fn = "multilabel_margin_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    if _plain_multilabel_margin(input, target):
        return _common_multilabel_margin(input, target, reduction)
    _, x2, y2, out_shape = _multilabel_margin_inputs(input, target, fn)
    loss = _multilabel_margin_loss(x2, y2)
    return _reduction.reduce(loss.reshape(out_shape), reduction)


def multilabel_margin_loss_grad(input: ArrayLike, target: ArrayLike,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean", *, grad_output=None) -> np.ndarray:
    r"""Gradient of :func:`multilabel_margin_loss` with respect to ``input``.

    Each active term (:math:`z = 1 - x_{n,j} + x_{n,d} > 0`, strictly: at the kink the slope
    is 0, as in torch's kernel) adds :math:`1/C` to :math:`\partial l_n / \partial x_{n,d}`
    and :math:`-1/C` to :math:`\partial l_n / \partial x_{n,j}`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
    >>> print(multilabel_margin_loss_grad(x, np.array([[3, 0, -1, 1]]), reduction="sum"))
    [[-0.5  0.5  0.5 -0.5]]
    """
    fn = "multilabel_margin_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    if grad_output is None and _plain_multilabel_margin(input, target):
        return _common_multilabel_margin(input, target, reduction, grad=True)
    x, x2, y2, out_shape = _multilabel_margin_inputs(input, target, fn)
    g = _reduction.reduce_grad(grad_output, out_shape, x.dtype, reduction)
    return _multilabel_margin_grad(x2, y2, g.reshape(x2.shape[0], 1)).reshape(x.shape)
