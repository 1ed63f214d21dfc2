"""Connectionist temporal classification (CTC): a label sequence's loss over unaligned frames."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _reduction
from ._numerics import QUIET
from ._reduction import Reduction, resolve_reduction
from ._validation import HALF_DTYPES, as_float, asarray, check_option

__all__ = ["ctc_loss"]


def _lengths(lengths, name: str, batch: int) -> np.ndarray:
    """``input_lengths`` / ``target_lengths`` as an int64 array of shape (N,)."""
    arr = asarray(lengths)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"ctc_loss: {name} must be integral, got dtype {arr.dtype}")
    if arr.ndim > 1 or arr.size != batch:
        raise ValueError(f"ctc_loss: {name} must be of size batch_size: one length for each of "
                         f"the {batch} sequences, got shape {arr.shape}")
    return arr.reshape(batch).astype(np.int64)


def _check_lengths(lengths: np.ndarray, name: str, most: int | None) -> None:
    if lengths.size and lengths.min() < 0:
        raise ValueError(f"ctc_loss: Expected {name} to have value at least 0, but got value "
                         f"{int(lengths.min())}")
    if most is not None and lengths.size and lengths.max() > most:
        raise ValueError(f"ctc_loss: Expected {name} to have value at most {most}, but got "
                         f"value {int(lengths.max())}")


def _padded_targets(targets, target_lengths: np.ndarray, n_classes: int) -> np.ndarray:
    """Targets as an (N, S) int64 array, S = max target length, from padded or concatenated form.

    PyTorch accepts integer targets and floating-point ones (it casts them); lossref accepts
    floating-point targets only when they hold whole numbers. Every label within its sequence's
    length must be a class in [0, C); PyTorch does not check this (it reads past the input).
    """
    tg = asarray(targets)
    if np.issubdtype(tg.dtype, np.floating):
        if not np.all(np.isfinite(tg)) or np.any(tg != np.round(tg)):
            raise TypeError("ctc_loss: targets must hold integer labels, got non-integral "
                            f"values of dtype {tg.dtype}")
    elif tg.dtype == np.bool_ or not np.issubdtype(tg.dtype, np.integer):
        raise TypeError(f"ctc_loss: targets must hold integer labels, got dtype {tg.dtype}")
    tg = tg.astype(np.int64)
    n = target_lengths.size
    longest = int(target_lengths.max()) if n else 0
    if tg.ndim == 2:
        if tg.shape[0] != n:
            raise ValueError(f"ctc_loss: padded targets of shape {tg.shape} must have one row "
                             f"for each of the {n} sequences")
        if tg.shape[1] < longest:
            raise ValueError(f"ctc_loss: Expected padded targets to have size at least {longest} "
                             f"at dimension 1 (the longest target_length), got shape {tg.shape}")
        padded = tg[:, :longest]
    elif tg.ndim == 1:
        total = int(target_lengths.sum())
        if tg.shape[0] != total:
            raise ValueError(f"ctc_loss: concatenated targets must hold sum(target_lengths) = "
                             f"{total} labels, got {tg.shape[0]}")
        padded = np.zeros((n, longest), np.int64)
        padded[np.arange(longest) < target_lengths[:, None]] = tg
    else:
        raise ValueError(f"ctc_loss: targets must be padded (N, S) or concatenated 1-D, got "
                         f"{tg.ndim} dimensions (shape {tg.shape})")
    used = padded[np.arange(longest) < target_lengths[:, None]]
    if used.size and (used.min() < 0 or used.max() >= n_classes):
        bad = int(used[(used < 0) | (used >= n_classes)][0])
        raise IndexError(f"ctc_loss: target label {bad} is out of bounds: labels must be in "
                         f"[0, {n_classes - 1}]")
    return padded


def _ctc_inputs(log_probs, targets, input_lengths, target_lengths, blank: int,
                zero_infinity: bool):
    """Validated (T, N, C) log-probabilities, padded targets, lengths and whether it was batched."""
    fn = "ctc_loss"
    check_option(blank, "blank", fn, "int")                     # torch's parser, first
    check_option(zero_infinity, "zero_infinity", fn, "bool")
    lp = as_float(log_probs, "log_probs", fn)
    if lp.dtype in HALF_DTYPES:            # torch's CPU kernel has no half instantiation
        torch_name = "Half" if lp.dtype == np.float16 else "BFloat16"
        raise TypeError(f"ctc_loss: {lp.dtype} log_probs are not supported (PyTorch: "
                        f"\"ctc_loss_cpu\" not implemented for '{torch_name}'); use float32 or "
                        "float64")
    if lp.ndim not in (2, 3):
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or unbatched (T, C), got "
                         f"{lp.ndim} dimensions (shape {lp.shape})")
    if lp.size == 0:
        raise ValueError(f"ctc_loss: log_probs must not be empty, got shape {lp.shape}")
    batched = lp.ndim == 3
    if not batched:
        lp = lp[:, None, :]
    n_frames, batch, n_classes = lp.shape
    if not 0 <= blank < n_classes:
        raise ValueError(f"ctc_loss: blank must be in label range [0, {n_classes - 1}], "
                         f"got {blank}")
    il = _lengths(input_lengths, "input_lengths", batch)
    tl = _lengths(target_lengths, "target_lengths", batch)
    _check_lengths(il, "input_lengths", n_frames)
    _check_lengths(tl, "target_lengths", None)
    return lp, _padded_targets(targets, tl, n_classes), il, tl, batched


def _extended(targets: np.ndarray, blank: int):
    """The extended labels l' = (blank, l1, blank, l2, …, blank) of each sequence, (N, 2S+1), and
    where the α recursion may skip from s-2 to s: a label that differs from the label before.

    Which positions are labels goes by position (odd s), not by value, as in PyTorch: a label
    equal to the blank (a misuse) is still a label.
    """
    n, s = targets.shape
    ext = np.full((n, 2 * s + 1), blank, np.int64)
    ext[:, 1::2] = targets
    skip = np.zeros(ext.shape, bool)
    # by position, as PyTorch: a label (odd s) may be reached from the label before it
    skip[:, 3::2] = targets[:, 1:] != targets[:, :-1]
    return ext, skip


def _logsumexp3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``log(e^a + e^b + e^c)`` elementwise in PyTorch's order: max first (-inf counts as 0)."""
    m = np.maximum(np.maximum(a, b), c)
    m[np.isneginf(m)] = 0
    with np.errstate(**QUIET):
        return np.log(np.exp(a - m) + np.exp(b - m) + np.exp(c - m)) + m


class _LogSumExp3:
    """``log(e^a + e^b + e^c)`` elementwise in PyTorch's order (max first; an all -inf max
    counts as 0), into preallocated buffers: the α and β recursions call it once per frame on
    small (N, 2S+1) arrays, where each NumPy call's overhead is what costs. The caller writes
    a, b and c into ``terms`` (3, N, 2S+1); one call of each step then covers all three
    (seven NumPy calls instead of thirteen)."""

    def __init__(self, shape: tuple, dtype) -> None:
        self.terms = np.empty((3, *shape), dtype)
        self.m = np.empty(shape, dtype)
        # an all -inf max becomes the lowest float, not 0: e^(-inf - lowest) = 0 all the same,
        # and np.maximum does in one pass what "m[m == -inf] = 0" does in two
        self.lowest = np.finfo(dtype).min

    def __call__(self, out):
        terms, m = self.terms, self.m
        np.maximum.reduce(terms, axis=0, out=m)
        np.maximum(m, self.lowest, out=m)
        np.subtract(terms, m, out=terms)
        np.exp(terms, out=terms)
        np.add.reduce(terms, axis=0, out=out)     # (e^a + e^b) + e^c, PyTorch's order
        np.log(out, out=out)
        out += m
        return out


def _alpha(frame, n_frames: int, skip: np.ndarray, tl: np.ndarray,
           last_frame: np.ndarray | None = None) -> np.ndarray:
    """Forward variables log α_t(s) of every sequence, (T, N, 2S+1), in log space; ``frame(t)``
    gives y_t(l'_s), (N, 2S+1).

    α_0(0) = y_0(blank), α_0(1) = y_0(l1); then, frame by frame,
    α_t(s) = (α_{t-1}(s) + α_{t-1}(s-1) [+ α_{t-1}(s-2) if skip allowed]) · y_t(l'_s).
    Positions past 2·target_length are -inf (they never feed the positions below them). The
    table carries two -inf columns in front, so that α(s-1) and α(s-2) are views of the
    previous frame, not copies. With ``last_frame`` (each sequence's input_length - 1) only two
    frames are kept and α at each sequence's last frame is returned, (N, 2S+1): all the loss
    needs, in memory of the batch's size rather than T times it.
    """
    first = frame(0)
    batch, width = first.shape
    dtype = first.dtype
    padded = np.full((n_frames if last_frame is None else 2, batch, width + 2), -np.inf, dtype)
    alpha = padded[:, :, 2:]
    alpha[0, :, 0] = first[:, 0]
    has_label = tl > 0                                # then the array has a position 1
    alpha[0, has_label, 1:2] = first[has_label, 1:2]
    skip_or_not = np.where(skip, 0.0, -np.inf).astype(dtype)   # + α(s-2): kept or -inf
    logsumexp3 = _LogSumExp3((batch, width), dtype)
    same, one_back, two_back = logsumexp3.terms
    beyond = np.arange(width) > 2 * tl[:, None]
    if last_frame is not None:
        last = np.full((batch, width), -np.inf, dtype)
        ends_at = np.zeros(n_frames, bool)            # the frames some sequence ends at
        ends_at[last_frame] = True
        ends = last_frame == 0
        last[ends] = alpha[0, ends]
    with np.errstate(**QUIET):
        for t in range(1, n_frames):
            prev, now = (padded[t - 1], t) if last_frame is None else (padded[(t - 1) % 2], t % 2)
            np.copyto(same, prev[:, 2:])                               # α(s)
            np.copyto(one_back, prev[:, 1:-1])                         # α(s-1)
            np.add(prev[:, :-2], skip_or_not, out=two_back)            # α(s-2) or -inf
            logsumexp3(out=alpha[now])
            alpha[now] += frame(t)
            if last_frame is not None and ends_at[t]:
                ends = last_frame == t
                last[ends] = alpha[now, ends]
    if last_frame is not None:
        last[beyond] = -np.inf
        return last
    alpha[:, beyond] = -np.inf
    return alpha


def _forward(lp, targets, il, tl, blank, tables: bool = True):
    """Per-sequence negative log-likelihood and, with ``tables``, the tables the gradient
    reuses (without, α is stepped through two frames and y_t(l'_s) gathered frame by frame)."""
    ext, skip = _extended(targets, blank)
    rows = np.arange(lp.shape[1])
    if tables:
        lp_ext = np.take_along_axis(lp, ext[None], axis=2)    # y_t(l'_s): (T, N, 2S+1)
        alpha = _alpha(lp_ext.__getitem__, lp.shape[0], skip, tl)
        last = alpha[np.maximum(il - 1, 0), rows]             # α at each sequence's last frame
    else:
        flat = rows[:, None] * lp.shape[2] + ext               # y_t(l'_s) = lp[t].flat[flat]
        frames = np.ascontiguousarray(lp)
        last = _alpha(lambda t: np.take(frames[t], flat), lp.shape[0], skip, tl,
                      last_frame=np.maximum(il - 1, 0))
    end_blank = last[rows, 2 * tl]
    end_label = np.where(tl > 0, last[rows, np.maximum(2 * tl - 1, 0)], -np.inf)
    neg_inf = np.full_like(end_blank, -np.inf)
    log_likelihood = _logsumexp3(end_blank, end_label, neg_inf)
    # no frame at all: the empty target has probability 1, any other 0
    log_likelihood[il == 0] = np.where(tl[il == 0] == 0, 0.0, -np.inf)
    if not tables:
        return np.negative(log_likelihood), None
    return np.negative(log_likelihood), (ext, skip, lp_ext, alpha)


def _reduce(nll: np.ndarray, tl: np.ndarray, reduction: str, zero_infinity: bool, batched: bool):
    loss = np.where(np.isposinf(nll), nll.dtype.type(0), nll) if zero_infinity else nll
    if reduction == "mean":
        # 'mean': each loss divided by its target length (at least 1), then the batch mean
        loss = loss / np.maximum(tl, 1).astype(nll.dtype)
    return _reduction.reduce(loss if batched else loss.reshape(())[()], reduction)


def ctc_loss(log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
             target_lengths: ArrayLike, blank: int = 0, reduction: Reduction = "mean",
             zero_infinity: bool = False):
    r"""Connectionist temporal classification loss: -log of the probability of a label sequence,
    summed over every alignment of it to the frames.

    An alignment writes one symbol per frame (a label or the blank); removing repeats and then
    blanks must give the target. With :math:`y_t(c) = e^{\text{log\_probs}[t, n, c]}`,

    .. math::
        l_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(\text{target}_n)} \prod_{t=0}^{T_n-1} y_t(\pi_t)

    computed by the α recursion over the extended labels
    :math:`l' = (\varnothing, l_1, \varnothing, \dots, l_S, \varnothing)`, in log space:
    :math:`\alpha_t(s) = \big(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
    + [l'_s \ne \varnothing,\ l'_s \ne l'_{s-2}]\, \alpha_{t-1}(s-2)\big)\, y_t(l'_s)` and
    :math:`l_n = -\log(\alpha_{T_n-1}(2S) + \alpha_{T_n-1}(2S-1))`. A target that cannot fit in
    its frames (each repeated label needs a blank between) gives ``inf``.

    Parameters
    ----------
    log_probs : array_like, shape (T, N, C) or unbatched (T, C)
        Log-probabilities over C classes (the blank included) for T frames, float32 or float64
        (normally ``log_softmax`` output; nothing checks it).
    targets : array_like of int, shape (N, S) padded, or 1-D concatenated
        Padded: row n holds target n in its first ``target_lengths[n]`` entries. Concatenated:
        the targets one after another, ``sum(target_lengths)`` labels. Unbatched: (S,) or (1, S).
    input_lengths, target_lengths : array_like of int, shape (N,)
        Frames used and labels of each sequence; ``input_lengths`` at most T.
    blank : int, default 0
        The blank class.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'``: each :math:`l_n` divided by ``max(target_lengths[n], 1)``, then the mean
        over the batch.
    zero_infinity : bool, default False
        Replace infinite losses (impossible alignments) and their gradients by 0.

    Returns
    -------
    numpy scalar, or ndarray of shape (N,) (``()`` unbatched) when ``reduction='none'``

    Raises
    ------
    ValueError
        Bad shapes, ``blank`` outside [0, C), lengths negative, above T or beyond the padded
        targets, lengths not one per sequence, unknown ``reduction``.
    TypeError
        Floating-point lengths, non-integer labels, float16/bfloat16 or integer log_probs.
    IndexError
        A label outside [0, C) (PyTorch reads past its input instead).

    Examples
    --------
    >>> import numpy as np
    >>> log_probs = np.log(np.full((3, 1, 2), 0.5))    # 3 frames, blank and "a" equally likely
    >>> loss = ctc_loss(log_probs, np.array([[1]]), [3], [1], reduction="none")
    >>> print(np.round(loss, 4), np.round(-np.log(6 / 8), 4))   # 6 of 8 paths collapse to "a"
    [0.2877] 0.2877
    """
    reduction = resolve_reduction(None, None, reduction)
    lp, padded, il, tl, batched = _ctc_inputs(log_probs, targets, input_lengths, target_lengths,
                                              blank, zero_infinity)
    nll, _ = _forward(lp, padded, il, tl, blank, tables=False)
    return _reduce(nll, tl, reduction, zero_infinity, batched)


def _beta(lp_ext: np.ndarray, skip: np.ndarray, il: np.ndarray, tl: np.ndarray) -> np.ndarray:
    """Backward variables log β_t(s), (T, N, 2S+1): the mirror of α, started at each sequence's
    last frame t = input_length - 1 with β(2S) = y(blank), β(2S-1) = y(l_S); -inf beyond it."""
    n_frames, batch, width = lp_ext.shape
    padded = np.full((n_frames, batch, width + 2), -np.inf, lp_ext.dtype)
    beta = padded[:, :, :width]                       # two -inf columns behind: views again
    rows = np.arange(batch)
    skip_ahead = np.full((batch, width), -np.inf, lp_ext.dtype)
    skip_ahead[:, :-2] = np.where(skip[:, 2:], 0.0, -np.inf)     # may go from s to s+2
    starts_at = np.zeros(n_frames, bool)              # the frames some sequence starts from
    starts_at[il[il > 0] - 1] = True
    logsumexp3 = _LogSumExp3((batch, width), lp_ext.dtype)
    same, one_ahead, two_ahead = logsumexp3.terms
    with np.errstate(**QUIET):
        for t in range(n_frames - 1, -1, -1):
            if t < n_frames - 1:
                nxt = padded[t + 1]
                np.copyto(same, nxt[:, :width])                        # β(s)
                np.copyto(one_ahead, nxt[:, 1:width + 1])              # β(s+1)
                np.add(nxt[:, 2:], skip_ahead, out=two_ahead)          # β(s+2) or -inf
                logsumexp3(out=beta[t])
                beta[t] += lp_ext[t]
            if not starts_at[t]:
                continue
            start = rows[il - 1 == t]
            beta[t, start] = -np.inf
            beta[t, start, 2 * tl[start]] = lp_ext[t, start, 2 * tl[start]]
            labelled = start[tl[start] > 0]
            beta[t, labelled, 2 * tl[labelled] - 1] = lp_ext[t, labelled, 2 * tl[labelled] - 1]
    return beta


def ctc_loss_grad(log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
                  target_lengths: ArrayLike, blank: int = 0, reduction: Reduction = "mean",
                  zero_infinity: bool = False, *, grad_output: ArrayLike | None = None,
                  return_loss: bool = False):
    r"""Gradient of :func:`ctc_loss` with respect to ``log_probs``, as PyTorch defines it.

    With :math:`\gamma_t(c) = \frac{1}{p}\sum_{s:\,l'_s = c} \frac{\alpha_t(s)\beta_t(s)}{y_t(c)}`
    (the posterior probability that frame t emits c; :math:`p = e^{-l_n}`) and :math:`g_n` the
    upstream gradient of sequence n (divided by N · max(target_length, 1) for ``'mean'``),

    .. math::
        \frac{\partial}{\partial\, \text{log\_probs}[t, n, c]} = g_n\,\big(y_t(c) - \gamma_t(c)\big)
        \quad (t < T_n), \qquad 0 \quad (t \ge T_n).

    This is PyTorch's convention, not the plain derivative :math:`-g_n\gamma_t(c)`: PyTorch's
    backward assumes ``log_probs`` came out of ``log_softmax`` and returns the gradient with
    respect to the logits before it, :math:`y_t - \gamma_t`. Backpropagating that through
    ``log_softmax`` gives the right logits' gradient again (its rows sum to 0), so training is
    unaffected; for ``log_probs`` that are not normalised the result is not the derivative of
    the loss (it is off by :math:`g_n y_t(c)`). An impossible target (infinite loss) gives
    ``nan`` in its frames, or 0 with ``zero_infinity``.

    With ``return_loss=True`` the result is ``(loss, grad)``: the loss of :func:`ctc_loss`,
    which the α recursion of the gradient computes anyway (the pair costs one recursion).

    In float32, PyTorch's gradient and this one both carry a rounding error that grows with the
    size of the log-probabilities summed (against float64: about 3e-4 of the largest entry for
    T = 200 frames, 1e-3 for T = 400), so they agree within rtol 1e-4 only for short inputs;
    float64 agrees within 1e-8 throughout.

    Examples
    --------
    >>> import numpy as np
    >>> log_probs = np.log(np.full((3, 1, 2), 0.5))
    >>> g = ctc_loss_grad(log_probs, np.array([[1]]), [3], [1], reduction="sum")
    >>> # y_t(c) - γ_t(c): "a" is emitted at frame 0 by 3 of the 6 paths, at frame 1 by 4
    >>> print(np.round(g[:, 0], 4) + 0.0)
    [[ 0.      0.    ]
     [ 0.1667 -0.1667]
     [ 0.      0.    ]]
    """
    reduction = resolve_reduction(None, None, reduction)
    lp, padded, il, tl, batched = _ctc_inputs(log_probs, targets, input_lengths, target_lengths,
                                              blank, zero_infinity)
    nll, (ext, skip, lp_ext, alpha) = _forward(lp, padded, il, tl, blank)
    n_frames, batch, n_classes = lp.shape
    dtype = lp.dtype
    g = _reduction.reduce_grad(grad_output, (batch,) if batched else (), dtype, reduction)
    g = np.array(g, dtype=dtype).reshape(batch)
    if reduction == "mean":
        g = g / np.maximum(tl, 1).astype(dtype)
    infinite = np.isposinf(nll)
    if zero_infinity:
        g[infinite] = 0

    beta = _beta(lp_ext, skip, il, tl)
    rows = np.arange(batch)
    with np.errstate(**QUIET):
        # γ per extended position: α β / y / p, in log space (nll = -log p)
        gamma_s = np.exp(alpha + beta - lp_ext + nll[None, :, None])
        gamma_s[:, np.arange(ext.shape[1]) > 2 * tl[:, None]] = 0
        # PyTorch's quirk for a last label equal to the blank (a misuse): at the last frame it
        # stores the label's term over the final blank's instead of adding the two
        last_label = padded[rows, tl - 1] if padded.shape[1] else np.full(batch, -1)
        quirk = rows[(tl > 0) & (il > 0) & (last_label == blank)]
        gamma_s[il[quirk] - 1, quirk, 2 * tl[quirk]] = 0
        grad = np.exp(lp)
        grad *= g[None, :, None]
        # γ_t(c): add up the positions s that carry class c, for every frame and sequence at
        # once: one weighted bincount over the flat (t, n, class) positions of the (T, N, C)
        # gradient (positions past a target's length hold γ = 0)
        where = (np.arange(n_frames)[:, None, None] * batch + rows[None, :, None]) * n_classes \
            + ext[None]
        gamma_c = np.bincount(where.reshape(-1), weights=gamma_s.reshape(-1),
                              minlength=grad.size).reshape(grad.shape)
        gamma_c *= g[None, :, None]
        grad -= gamma_c.astype(dtype, copy=False)
    grad[:, infinite] = 0 if zero_infinity else np.nan
    grad[np.arange(n_frames)[:, None] >= il[None, :]] = 0
    grad = grad if batched else grad[:, 0]
    if return_loss:                  # the α recursion above already gave every sequence's loss
        return _reduce(nll, tl, reduction, zero_infinity, batched), grad
    return grad
