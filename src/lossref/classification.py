"""Multi-class losses: negative log-likelihood and cross-entropy."""

from __future__ import annotations


import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._classes import (
    check_index_target,
    class_axis,
    class_targets,
    flat_index,
    half_cross_entropy,
    half_nll_loss,
    kept_weights,
    negative_log_likelihood,
    per_target,
    pick,
    row_loops,
    row_starts,
    targets_below,
)
from ._numerics import (
    FEW_CLASSES,
    QUIET,
    _blocks,
    as_samples,
    few_classes_log_norm,
    log_softmax_sums,
    softmax_into,
)
from ._cross_entropy_fast import (
    _FLOAT32,
    _FLOAT64,
    _INT64,
    _class_call,
    _common_class_cross_entropy,
    _common_class_cross_entropy_grad,
    _common_cross_entropy,
    _common_cross_entropy_grad,
    _common_probability_cross_entropy,
    _common_probability_cross_entropy_grad,
    _negated_total,
    _plain_call,
    _probability_call,
)
from ._reduction import Reduction, resolve_reduction
from ._validation import (
    HALF_DTYPES,
    as_class_index,
    as_float,
    as_like,
    asarray,
    check_class_range,
    check_class_weight,
    check_label_smoothing,
    check_option,
    is_float_dtype,
)

__all__ = ["cross_entropy", "nll_loss"]


def _index_target_grad(x: np.ndarray, t: np.ndarray, safe_t: np.ndarray,
                       ignored: np.ndarray | None, w: np.ndarray | None,
                       reduction: str, grad_output, eps: float, softmax: bool):
    """d(Σ grad_output · loss)/d input for class-index targets, of the input's shape, and the
    softmax's ``(m, log_norm)`` (``None`` for ``nll_loss``), from which the loss comes cheap.

    ``softmax=False`` is ``nll_loss``: ``-g_n w[t_n]`` at each target entry, 0 elsewhere.
    ``softmax=True`` is ``cross_entropy`` with smoothing ``eps``, per sample

        g_n [ p_c ((1 - eps) w[t_n] + eps/C Σ_k w_k) - (1 - eps) w[t_n] 1{c = t_n} - eps/C w_c ]

    with ``p`` the softmax of the logits: the target entry is written through flat indices,
    no (N, C) one-hot matrix is built. ``g_n`` is the upstream gradient per target (divided
    by the mean's denominator), set to 0 (not multiplied by 0) where the target is ignored,
    so an all-ignored batch, whose mean divides by 0, still gets exact zeros, as in PyTorch.
    ``safe_t`` and ``ignored`` are :func:`~lossref._classes.class_targets`' of ``t``, (N, D).
    """
    dtype = x.dtype.type
    x3 = as_samples(x)
    n, c, d = x3.shape
    target_w, weight_sum = kept_weights(safe_t, ignored, w, x.dtype)
    g = _reduction.reduce_grad(grad_output, t.shape,
                               x.dtype, reduction, weight_sum).reshape(n, d)
    index = flat_index(safe_t, x3.shape)
    with np.errstate(**QUIET):
        if ignored is not None:
            g = np.where(ignored, dtype(0), g)
            index = index[~ignored]
        g_t = g if target_w is None else g * target_w       # upstream · w[t_n]
        at_target = g_t if ignored is None else g_t[~ignored]
        if not softmax:
            grad = np.zeros(x3.shape, x.dtype)
            grad.reshape(-1)[index] = -at_target
            return grad.reshape(x.shape), None

        # With smoothing, d loss / d log p_c = -b_c, b_c = (1-eps) w[t] g 1{c=t} + eps/C w_c g,
        # and the gradient is p_c Σ_k b_k - b_c (Σ_k b_k = w[t] g without smoothing)
        keep = dtype(1 - eps)
        sg = dtype(eps / c) * g                              # eps/C · g_n
        total_w = dtype(c) if w is None else w.sum(dtype=x.dtype)
        scale = g_t if eps == 0.0 else keep * g_t + sg * total_w
        grad = np.empty(x3.shape, x.dtype)                   # C order: the flat view below
        with row_loops(x3):                                  # see row_loops: same numbers
            stats = softmax_into(x3, scale[:, None, :], grad)  # p_c Σ_k b_k, in one pass
        flat = grad.reshape(-1)
        if eps == 0.0:
            flat[index] -= at_target                         # - w[t_n] g_n at the target
            return grad.reshape(x.shape), stats
        # the target's b_c is formed as one number, as PyTorch's backward forms it, so that a
        # lone class (C = 1) gets exactly 0
        sg_t = sg if ignored is None else sg[~ignored]
        if w is not None:
            sg_t = sg_t * (target_w if ignored is None else target_w[~ignored])
        target_grad = flat[index] - (keep * at_target + sg_t)
        if w is None:
            grad -= sg[:, None, :]
        else:                           # g_n · w_c a block of samples at a time: no (N, C) temp
            for rows in _blocks(x3)[0]:
                grad[rows] -= sg[rows, None, :] * w[:, None]
        flat[index] = target_grad
    return grad.reshape(x.shape), stats


def _index_targets(x, t, ignore_index: int, fn: str):
    """Class-index targets checked against C: ``(safe_t, ignored)`` of shape (N, D) (see
    :func:`~lossref._classes.class_targets`; ``ignored`` is None when no target is ignored)."""
    x3 = as_samples(x)
    safe_t, ignored = class_targets(t, x3.shape[1], ignore_index, fn)
    shape = (x3.shape[0], x3.shape[2])
    return safe_t.reshape(shape), None if ignored is None else ignored.reshape(shape)


def _nll_inputs(input, target, weight, ignore_index: int, fn: str):
    """Input, class-index target, class weight, and the safe targets and ignored mask (N, D)
    of ``nll_loss``, checked in PyTorch's order."""
    check_option(ignore_index, "ignore_index", fn, "int")
    x = as_float(input, "input", fn)
    axis = class_axis(x, fn)
    t = check_index_target(x, as_class_index(target, fn), fn)
    n_classes = x.shape[axis]
    w = check_class_weight(weight, n_classes, x, fn)
    return (x, t, w, *_index_targets(x, t, ignore_index, fn))


def _cross_entropy_inputs(input, target, weight, ignore_index: int, label_smoothing: float,
                          fn: str):
    """Input, class axis, C, smoothing, class weight and the raw target of ``cross_entropy``.

    The target is only read here: its shape decides whether it holds class indices or class
    probabilities, and each branch checks it.
    """
    check_option(ignore_index, "ignore_index", fn, "int")         # torch's parser, first
    check_option(label_smoothing, "label_smoothing", fn, "float")
    x = as_float(input, "input", fn)
    axis = class_axis(x, fn)
    eps = check_label_smoothing(label_smoothing, fn)
    n_classes = x.shape[axis]
    w = check_class_weight(weight, n_classes, x, fn)
    target = asarray(target)
    return x, axis, n_classes, eps, w, target


def nll_loss(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: Reduction = "mean"):
    r"""Negative log-likelihood loss: pick the target's entry and negate it.

    .. math::
        l_n = -w_{y_n} x_{n, y_n}, \qquad
        w_c = \text{weight}[c]\cdot 1\{c \ne \text{ignore\_index}\}

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
    if weight is None:
        loss = _common_nll(input, target, ignore_index, reduction)
        if loss is not None:
            return loss
    x, t, w, safe_t, ignored = _nll_inputs(input, target, weight, ignore_index, fn)

    x3 = as_samples(x)
    if x.dtype in HALF_DTYPES:          # torch's kernel sums in the dtype, in a cascade
        return half_nll_loss(x3, t.reshape(x3.shape[0], x3.shape[2]), w, ignore_index,
                             reduction, t.shape)
    loss, weight_sum = negative_log_likelihood(pick(x3, safe_t), safe_t, ignored, w)
    return _reduction.reduce(per_target(loss, t.shape), reduction, weight_sum)


_PICK_BLOCK = 16384           # samples per block of _common_nll's gather (128 KiB of indices)


def _pick_blocks(x: np.ndarray, t: np.ndarray) -> np.ndarray | None:
    """``x[n, t_n]`` of a C-contiguous (N, C) array through flat indices, or ``None`` if a
    target is not a class. A block of samples at a time, so that each block's targets and
    indices stay in cache from the range check to the gather: at 262144 × 16, checking and
    building all N first (four passes through memory) cost as much as the gather itself."""
    n, c = x.shape
    flat, picked = x.ravel(), np.empty(n, x.dtype)
    starts, index = row_starts(_PICK_BLOCK, c), np.empty(_PICK_BLOCK, np.intp)
    for lo in range(0, n, _PICK_BLOCK):
        k = min(_PICK_BLOCK, n - lo)
        if t[lo:lo + k].view(np.uint64).max() >= c:    # see _common_nll
            return None
        i = np.add(starts[:k], t[lo:lo + k], out=index[:k])
        i += lo * c
        np.take(flat, i, out=picked[lo:lo + k], mode="clip")   # in range: never clips
    return picked


@np.errstate(**QUIET)       # inf - inf: nan, an overflow: inf, silently, as torch (decorating
def _common_nll(x, t, ignore_index, reduction: str):  # costs half of a with-block, per call)
    """``nll_loss`` of the usual call, or ``None`` for any other: ``(N, C)`` float32/float64
    log-probabilities, ``(N,)`` int64 targets, every one a class, no weight.

    The same numbers as the full path (one gather ``-x[n, t_n]``, one NumPy sum, divided by N)
    without its dozen checks, which cost more than the work at 8192 × 512 (torch: ~20 µs).
    One pass checks the range: viewed as uint64 a negative target is above 2⁶³, so
    ``max < C`` holds only when every target lies in [0, C). Anything else (a target out of
    range or equal to an ``ignore_index`` inside [0, C), a weight, another dtype or shape)
    goes the full way, which checks, ignores and raises as torch does.
    """
    if not (type(x) is np.ndarray and type(t) is np.ndarray and x.ndim == 2 and t.ndim == 1
            and (x.dtype is _FLOAT32 or x.dtype is _FLOAT64) and t.dtype is _INT64
            and type(ignore_index) is int
            and x.flags.c_contiguous):
        return None
    n, c = x.shape
    if n == 0 or t.shape[0] != n or 0 <= ignore_index < c:
        return None
    if n > _PICK_BLOCK:
        picked = _pick_blocks(x, t)
        if picked is None:
            return None
    elif targets_below(t, c):
        picked = x.ravel().take(row_starts(n, c) + t)          # x[n, t_n], flat indices
    else:
        return None
    return _negated_total(picked, reduction)


def nll_loss_grad(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: Reduction = "mean", *,
                  grad_output: ArrayLike | None = None) -> np.ndarray:
    r"""Gradient of :func:`nll_loss` with respect to ``input``.

    .. math::
        \frac{\partial l_n}{\partial x_{n,c}} = -w_{y_n}\, 1\{c = y_n\}

    times the upstream gradient, divided by :math:`\sum_n w_{y_n}` (the weights of the
    non-ignored targets) for ``'mean'``. Only the target entry of each sample gets a
    gradient, and it never shrinks: the loss is linear in its input. Ignored targets give
    exact zeros, also when every target is ignored (the mean is then ``nan`` but the
    gradient is 0, as in PyTorch).

    Parameters
    ----------
    input, target, weight, size_average, ignore_index, reduce, reduction
        As for :func:`nll_loss` (the same checks and errors).
    grad_output : array_like, optional
        The upstream gradient, of the loss output's shape: ``()`` for ``'mean'``/``'sum'``,
        the target's shape for ``'none'``. ``None`` means ones.

    Returns
    -------
    ndarray of the input's shape and dtype
        ``d(Σ grad_output · loss) / d input``; ``weight`` gets no gradient.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[1, 2], [1, 3], [1, 3]], dtype=np.float32)
    >>> print(nll_loss_grad(scores, np.array([0, 1, 1]), weight=[1.0, 2.0]))
    [[-0.2  0. ]
     [ 0.  -0.4]
     [ 0.  -0.4]]
    """
    fn = "nll_loss"
    reduction = resolve_reduction(size_average, reduce, reduction)
    x, t, w, safe_t, ignored = _nll_inputs(input, target, weight, ignore_index, fn)
    if x.dtype in HALF_DTYPES:          # the mean divides by the kernel's rounded total weight
        x3 = as_samples(x)
        return half_nll_loss(x3, t.reshape(x3.shape[0], x3.shape[2]), w, ignore_index,
                             reduction, t.shape, grad_output, grad=True).reshape(x.shape)
    return _index_target_grad(x, t, safe_t, ignored, w, reduction, grad_output, 0.0,
                              softmax=False)[0]


def cross_entropy(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: Reduction = "mean",
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
    if weight is None and _plain_call(input, target, ignore_index, label_smoothing):
        return _common_cross_entropy(input, target, reduction)
    if _class_call(input, target, weight, ignore_index, label_smoothing):
        loss = _common_class_cross_entropy(input, target, weight, ignore_index,
                                           float(label_smoothing), reduction)
        if loss is not None:
            return loss
    elif _probability_call(input, target, weight, ignore_index, label_smoothing):
        return _common_probability_cross_entropy(input, target, weight, float(label_smoothing),
                                                 reduction)
    x, axis, n_classes, eps, w, target = _cross_entropy_inputs(input, target, weight,
                                                               ignore_index, label_smoothing, fn)
    if x.dtype in HALF_DTYPES:
        return _cross_entropy_half(x, target, w, axis, ignore_index, reduction, eps, fn)
    if target.shape == x.shape:
        return _cross_entropy_probabilities(x, target, w, axis, ignore_index, reduction, eps)

    t = check_index_target(x, as_class_index(target, fn), fn)
    safe_t, ignored = _index_targets(x, t, ignore_index, fn)

    x3 = as_samples(x)                       # (N, C, D)
    if eps == 0.0 and x3.shape[2] == 1 and 1 < n_classes < FEW_CLASSES:
        (m, log_norm), smooth = few_classes_log_norm(x3), None      # rows of a few classes
    else:
        with row_loops(x3):                  # x - max a row at a time: see row_loops
            m, log_norm, smooth = log_softmax_sums(x3, w=w, class_sums=eps > 0.0)
    return _index_loss(x3, t, safe_t, ignored, w, reduction, eps, m, log_norm, smooth)


def _index_loss(x3, t, safe_t, ignored, w, reduction, eps, m, log_norm, smooth):
    """The reduced loss of class-index targets from the log-softmax's ``m``, ``log_norm`` and,
    with smoothing ``eps``, each sample's ``Σ_c w_c log p_c`` (``smooth``, (N, D), negated
    in place here)."""
    nll, weight_sum = _index_nll(x3, t, safe_t, ignored, w, reduction, m, log_norm)
    if eps == 0.0:
        return nll

    # Smoothing term: -sum_c w_c log p_c per sample, zero where the target is ignored.
    np.negative(smooth, out=smooth)
    if ignored is not None:
        smooth[ignored] = 0
    smooth = _reduction.reduce(per_target(smooth, t.shape), reduction, weight_sum)
    dtype = x3.dtype.type
    with np.errstate(**QUIET):      # 0 · inf when label_smoothing=1: nan, as torch
        return dtype(1 - eps) * nll + smooth * dtype(eps / x3.shape[1])


def _cross_entropy_half(x, target, w, axis, ignore_index, reduction, eps, fn,
                        grad_output=None, grad=False):
    """float16/bfloat16 logits: torch's log_softmax → nll_loss composition, rounded where
    torch's kernels round (``_classes.half_cross_entropy``); the gradient with ``grad``."""
    x3 = as_samples(x)
    n, c, d = x3.shape
    if target.shape == x.shape:
        y = _probability_target(x, target, axis, ignore_index, 0.0)     # checked, cast
        out = half_cross_entropy(x3, None, w, ignore_index, reduction, eps,
                                 x.shape[:axis] + x.shape[axis + 1:], x.ndim <= 2,
                                 y3=as_samples(y),
                                 grad_output=grad_output, grad=grad)
    else:
        t = check_index_target(x, as_class_index(target, fn), fn)
        check_class_range(t, c, ignore_index, fn)
        out = half_cross_entropy(x3, t.reshape(n, d), w, ignore_index, reduction, eps, t.shape,
                                 x.ndim <= 2, grad_output=grad_output, grad=grad)
    return out.reshape(x.shape) if grad else out


def _index_nll(x3, t, safe_t, ignored, w, reduction, m, log_norm):
    """The reduced ``-w[t] log p_t`` from the log-softmax's ``m`` and ``log_norm``, and the
    mean's denominator. Only the target's log-probability is needed, in PyTorch's order:
    ``(x_t - m) - log_norm``."""
    with np.errstate(**QUIET):      # inf - inf for ±inf logits: nan, as in PyTorch
        log_p_t = np.subtract(pick(x3, safe_t), m[:, 0])
        log_p_t -= log_norm[:, 0]
    loss, weight_sum = negative_log_likelihood(log_p_t, safe_t, ignored, w)
    return _reduction.reduce(per_target(loss, t.shape), reduction, weight_sum), weight_sum


def _probability_target(x, target, axis, ignore_index, eps) -> np.ndarray:
    """Class probabilities of the input's shape, checked, cast, and smoothed by ``eps``."""
    fn = "cross_entropy"
    if not is_float_dtype(target.dtype):
        raise TypeError(f"{fn}: a target of the input's shape {x.shape} is read as class "
                        f"probabilities and must be floating point, got dtype {target.dtype}")
    if ignore_index >= 0:
        raise ValueError(f"{fn}: ignore_index={ignore_index} is not supported with class-"
                         "probability targets (leave it at the default -100)")
    y = as_like(target, x, "target", fn)
    if eps > 0.0:
        y = y * x.dtype.type(1 - eps) + x.dtype.type(eps / x.shape[axis])
    return y


def _cross_entropy_probabilities(x, target, w, axis, ignore_index, reduction, eps):
    """Cross-entropy against class probabilities (soft targets) of the input's shape."""
    n_classes = x.shape[axis]
    y = _probability_target(x, target, axis, ignore_index, eps)
    x3 = as_samples(x)
    # -sum_c w_c y_c log p_c per sample, PyTorch's products (log p * y) * w
    loss = np.negative(log_softmax_sums(x3, y=as_samples(y), w=w, class_sums=True)[2])
    # 'mean' divides by the number of samples N·d1…dK, weights or not; an empty input
    # (no samples, or no classes) divides by 0 and gives nan, as in PyTorch.
    n_samples = x.size // n_classes if n_classes else 0
    return _reduction.reduce(per_target(loss, x.shape[:axis] + x.shape[axis + 1:]), reduction,
                             weight_sum=n_samples)


def cross_entropy_grad(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
                       size_average: bool | None = None, ignore_index: int = -100,
                       reduce: bool | None = None, reduction: Reduction = "mean",
                       label_smoothing: float = 0.0, *, grad_output: ArrayLike | None = None,
                       return_loss: bool = False):
    r"""Gradient of :func:`cross_entropy` with respect to the logits ``input``.

    Each formula below is multiplied by the upstream gradient (``grad_output``, divided by the
    mean's denominator for ``'mean'``). With class indices, :math:`p = \mathrm{softmax}(x)`
    over the classes, and no smoothing:

    .. math::
        \frac{\partial l_n}{\partial x_{n,c}} = w_{y_n} \big( p_{n,c} - 1\{c = y_n\} \big)

    With ``label_smoothing`` :math:`\varepsilon` (:math:`W = \sum_k w_k`, or C without
    weights):

    .. math::
        \begin{aligned}
        \frac{\partial l_n}{\partial x_{n,c}}
            &= \big((1 - \varepsilon) w_{y_n} + \tfrac{\varepsilon}{C} W\big)\, p_{n,c} \\
            &\quad - (1 - \varepsilon)\, w_{y_n} 1\{c = y_n\} - \tfrac{\varepsilon}{C} w_c
        \end{aligned}

    so without weights the gradient is :math:`p - q` with the smoothed target
    :math:`q = 1 - \varepsilon + \varepsilon/C` at the true class and :math:`\varepsilon/C`
    elsewhere. ``'mean'`` divides by :math:`\sum_n w_{y_n}` over the non-ignored targets
    (their count without weights); ignored targets get exact zeros, also when all are
    ignored (a ``nan`` loss, a zero gradient, as in PyTorch).

    Probability targets :math:`y` (smoothed as in the forward):

    .. math::
        \frac{\partial l_n}{\partial x_{n,c}}
            = p_{n,c} \sum_k w_k y_{n,k} - w_c\, y_{n,c}

    and ``'mean'`` divides by the number of samples N·d1…dK.

    Parameters
    ----------
    input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing
        As for :func:`cross_entropy` (the same checks and errors).
    grad_output : array_like, optional
        The upstream gradient, of the loss output's shape: ``()`` for ``'mean'``/``'sum'``,
        ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` for ``'none'``. ``None`` means ones.
    return_loss : bool, default False
        Return ``(loss, grad)``: the loss of :func:`cross_entropy` too, for a training step
        that needs both. Without smoothing it comes from the softmax the gradient computes
        anyway (each sample's max and log-normaliser), so the pair costs one pass, not two.

    Returns
    -------
    ndarray of the input's shape and dtype
        ``d(Σ grad_output · loss) / d input``; probability targets and ``weight`` get no
        gradient. With ``return_loss=True``, the tuple ``(loss, grad)``.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[1, 2], [1, 3], [1, 3]], dtype=np.float32)
    >>> labels = np.array([0, 1, 1])
    >>> print(np.round(cross_entropy_grad(logits, labels, reduction="sum"), 4))
    [[-0.7311  0.7311]
     [ 0.1192 -0.1192]
     [ 0.1192 -0.1192]]
    >>> print(np.round(cross_entropy_grad(logits, np.array([0, -100, -100])), 4))
    [[-0.7311  0.7311]
     [ 0.      0.    ]
     [ 0.      0.    ]]
    >>> loss, grad = cross_entropy_grad(logits, labels, return_loss=True)
    >>> print(f"{loss:.4f}")
    0.5224
    """
    fn = "cross_entropy"
    reduction = resolve_reduction(size_average, reduce, reduction)
    if grad_output is None:
        if weight is None and _plain_call(input, target, ignore_index, label_smoothing):
            return _common_cross_entropy_grad(input, target, reduction, return_loss)
        if _class_call(input, target, weight, ignore_index, label_smoothing):
            out = _common_class_cross_entropy_grad(input, target, weight, ignore_index,
                                                   float(label_smoothing), reduction,
                                                   return_loss)
            if out is not None:
                return out
        elif _probability_call(input, target, weight, ignore_index, label_smoothing):
            return _common_probability_cross_entropy_grad(input, target, weight,
                                                          float(label_smoothing), reduction,
                                                          return_loss)
    x, axis, _, eps, w, target = _cross_entropy_inputs(input, target, weight,
                                                               ignore_index, label_smoothing, fn)
    if x.dtype in HALF_DTYPES:
        grad = _cross_entropy_half(x, target, w, axis, ignore_index, reduction, eps, fn,
                                   grad_output, grad=True)
        if not return_loss:
            return grad
        return _cross_entropy_half(x, target, w, axis, ignore_index, reduction, eps, fn), grad
    if target.shape == x.shape:
        y = _probability_target(x, target, axis, ignore_index, eps)
        grad = _probability_target_grad(x, y, w, axis, reduction, grad_output)
        if not return_loss:
            return grad
        return _cross_entropy_probabilities(x, target, w, axis, ignore_index, reduction, eps), grad
    t = check_index_target(x, as_class_index(target, fn), fn)
    safe_t, ignored = _index_targets(x, t, ignore_index, fn)
    grad, (m, log_norm) = _index_target_grad(x, t, safe_t, ignored, w, reduction, grad_output,
                                             eps, softmax=True)
    if not return_loss:
        return grad
    if eps > 0.0:                 # the smoothing term needs Σ_c w_c log p_c: the forward's pass
        return cross_entropy(x, t, w, ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=eps), grad
    # the gradient's softmax already holds each sample's max and log Σ e^(x - max)
    x3 = as_samples(x)
    return _index_nll(x3, t, safe_t, ignored, w, reduction, m, log_norm)[0], grad


def _probability_target_grad(x, y, w, axis, reduction, grad_output) -> np.ndarray:
    """``g_n (p_c Σ_k w_k y_k - w_c y_c)`` per sample; ``'mean'`` divides by N·d1…dK."""
    x3 = as_samples(x)
    n, c, d = x3.shape
    n_samples = x.size // c if c else 0
    g = _reduction.reduce_grad(grad_output,
                               x.shape[:axis] + x.shape[axis + 1:], x.dtype, reduction,
                               weight_sum=n_samples).reshape(n, 1, d)
    with np.errstate(**QUIET):
        wy = np.array(as_samples(y), copy=True)
        if w is not None:
            wy *= w[:, None]
        grad = np.empty(x3.shape, x.dtype)
        softmax_into(x3, wy.sum(axis=1, keepdims=True), grad)   # p_c Σ_k w_k y_k
        grad -= wy
        grad *= g
    return grad.reshape(x.shape)
