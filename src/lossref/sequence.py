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
    if arr.dtype.kind not in "iu":                 # signed or unsigned integers, not bool
        raise TypeError(f"ctc_loss: {name} must be integral, got dtype {arr.dtype}")
    if arr.ndim > 1 or arr.size != batch:
        raise ValueError(f"ctc_loss: {name} must be of size batch_size: one length for each of "
                         f"the {batch} sequences, got shape {arr.shape}")
    return arr.reshape(batch).astype(np.int64, copy=False)     # read only, never written


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
    if tg.dtype.kind == "f":
        if not np.all(np.isfinite(tg)) or np.any(tg != np.round(tg)):
            raise TypeError("ctc_loss: targets must hold integer labels, got non-integral "
                            f"values of dtype {tg.dtype}")
    elif tg.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: targets must hold integer labels, got dtype {tg.dtype}")
    tg = tg.astype(np.int64, copy=False)                  # read only, never written
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
    if padded.size == 0 or 0 <= padded.min() and padded.max() < n_classes:
        return padded               # the padding too is in range: no need to pick the labels
    in_target = np.arange(longest) < target_lengths[:, None]
    used = padded[in_target]
    if used.size and (used.min() < 0 or used.max() >= n_classes):
        bad = int(used[(used < 0) | (used >= n_classes)][0])
        raise IndexError(f"ctc_loss: target label {bad} is out of bounds: labels must be in "
                         f"[0, {n_classes - 1}]")
    # padding that is no class (-1, C, ...) becomes class 0: it is never read, but gathered
    return np.where(in_target, padded, 0)


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


def _extended(targets: np.ndarray, blank: int, dtype):
    """The extended labels l' = (blank, l1, blank, l2, …, blank) of each sequence, (N, 2S+1), and
    what the α recursion adds to α(s-2) at s, in ``dtype``: 0 where it may skip from s-2 to s
    (a label that differs from the label before), -inf elsewhere.

    Which positions are labels goes by position (odd s), not by value, as in PyTorch: a label
    equal to the blank (a misuse) is still a label.
    """
    n, s = targets.shape
    ext = np.full((n, 2 * s + 1), blank, np.int64)
    ext[:, 1::2] = targets
    skip_bias = np.full(ext.shape, -np.inf, dtype)
    # by position, as PyTorch: a label (odd s) may be reached from the label before it
    skip_bias[:, 3::2][targets[:, 1:] != targets[:, :-1]] = 0
    return ext, skip_bias


# _recursion prepares y's terms for up to 64 frames at a time (few calls on small inputs) and
# at most 128 KiB of them (a cached buffer on large ones: float64 (100, 32, 40, 30) ran 25%
# slower with 64 frames of 94 KiB each)
_CHUNK, _CHUNK_BYTES = 64, 128 * 1024


@np.errstate(**QUIET)       # log 0, inf - inf (a decorator costs half of a with-block)
def _recursion(y, skip_bias: np.ndarray, start: np.ndarray, first: np.ndarray,
               has_label: np.ndarray, ends: tuple | None = None) -> np.ndarray:
    """The log-space table v of the α recursion over B rows, from y (T, B, W):

    v_t(s) = log(e^{v_{t-1}(s)} + e^{v_{t-1}(s-1)} + e^{v_{t-1}(s-2) + skip_bias(s)}) + y_t(s),

    row b restarting at frame ``start[b]`` (never if negative) from -inf everywhere but
    v(first) = y(first) and, if ``has_label``, v(first + 1) = y(first + 1). β is the same
    recursion with time and positions reversed (see :func:`_alpha_beta`).

    Returned padded, (T + 1, B, W + 2): v_t(s) is ``[t, b, s + 2]``; the two columns in front
    and the extra frame T hold -inf.

    With ``ends = (frame, columns)`` (the loss alone, no gradient) only two frames of the table
    are kept, and the result is u = v - y of each row b at frame ``frame[b]`` (-1: none) and
    padded ``columns[b]``, (B, k), -inf where no frame. ``y`` need only be sliced by frames
    (``y[t0:t1]``, a few at a time: :class:`_Frames`). The whole table and y would each be up to
    1.5-3 times ``log_probs`` (2S+1 positions against C classes); two frames are a few rows.

    Each frame is computed in PyTorch's order: the max m of the three terms first (an all
    -inf max counts as 0), then ``log(e^(a-m) + e^(b-m) + e^(c-m)) + m + y``. On small inputs
    a frame costs its NumPy calls (about 1 µs each), not their arithmetic, so a frame is
    seven calls on preallocated buffers:

    - the loop stores u = v - y, ``log(…) + m``, and adds y to the whole table at the end;
    - a strided view of the padded table shows each frame's three shifted copies of u
      (columns s, s-1, s-2) as one (3, B, W) array, and one ``add`` of the same view of y
      plus (0, 0, skip_bias), made for a few frames at a time, gives a, b and c;
    - a fourth row holds the lowest float: one max-reduce gives max(a, b, c) with an all -inf
      max raised to a finite value (then e^(-inf - m) = 0, as with PyTorch's 0).
    """
    n_frames, rows, width = y.shape
    dtype = y.dtype
    item = dtype.itemsize

    def shifted(padded):
        """(T, 3, B, W) view of a (T, B, W + 2) table: columns s, s-1, s-2 of each frame."""
        frame_stride, row_stride, _ = padded.strides
        return np.ndarray((len(padded), 3, rows, width), dtype, padded, 2 * item,
                          (frame_stride, -item, row_stride, item))

    # the whole table, or (ends given) a ring of two frames: frame t in slot t % 2
    kept = n_frames + 1 if ends is None else 2
    padded = np.full((kept, rows, width + 2), -np.inf, dtype)
    table = padded[:, :, 2:]
    window = shifted(padded[:min(kept, n_frames)])
    if ends is not None:
        end_frame, end_columns = ends
        found = np.full(end_columns.shape, -np.inf, dtype)
        ending = {t: np.flatnonzero(end_frame == t) for t in set(end_frame.tolist()) - {-1}}
    chunk = max(1, min(n_frames, _CHUNK, _CHUNK_BYTES // (3 * rows * width * item)))
    if ends is not None:   # the loss alone: y's terms for a sixteenth of the frames at most,
        chunk = max(1, min(chunk, n_frames // 16))  # so its buffers stay well below the input
    y_padded = np.full((chunk, rows, width + 2), -np.inf, dtype)
    y_shifted = shifted(y_padded)
    bias = np.zeros((3, rows, width), dtype)
    bias[2] = skip_bias
    # y_{t-1}(s), y_{t-1}(s-1), y_{t-1}(s-2) + skip_bias(s): what u_{t-1} lacks of v_{t-1}
    y_bias = np.empty((chunk, 3, rows, width), dtype)
    terms = np.empty((4, rows, width), dtype)
    terms[3] = np.finfo(dtype).min
    abc = terms[:3]
    m = np.empty((rows, width), dtype)
    add, subtract, exp, log = np.add, np.subtract, np.exp, np.log
    max_reduce, sum_reduce = np.maximum.reduce, np.add.reduce
    # the rows each frame starts, at ``first`` and, with a label, first + 1 (else first again)
    second = first + has_label
    frames = set(start.tolist())
    every = np.arange(rows)
    starts = {frame: (every, first, second) if frames == {frame} else
              (every[start == frame], first[start == frame], second[start == frame])
              for frame in frames - {-1}}
    for t in range(n_frames):
        row = table[t % kept]
        if t:
            if (t - 1) % chunk == 0:                   # y's part of the next chunk's terms
                frames_here = y[t - 1:t - 1 + chunk]
                y_padded[:len(frames_here), :, 2:] = frames_here
                add(y_shifted, bias, out=y_bias)
            add(window[(t - 1) % kept], y_bias[(t - 1) % chunk], out=abc)   # v_{t-1}(s…s-2)
            max_reduce(terms, 0, None, m)
            subtract(abc, m, out=abc)
            exp(abc, out=abc)
            sum_reduce(abc, 0, None, row)              # (e^a + e^b) + e^c, PyTorch's order
            log(row, out=row)
            row += m
        if t in starts:
            at, at_first, at_second = starts[t]
            if t:
                row[at] = -np.inf
            row[at, at_first] = 0                      # v = y there
            row[at, at_second] = 0
        if ends is not None and t in ending:
            here = ending[t]
            found[here] = padded[t % 2][here[:, None], end_columns[here]]
    if ends is not None:
        return found
    table[:n_frames] += y
    return padded


def _alpha_beta(lp_ext: np.ndarray, skip_bias: np.ndarray, il: np.ndarray, tl: np.ndarray,
                beta: bool = True):
    """Forward variables log α_t(s) of every sequence from y_t(l'_s) = ``lp_ext`` (T, N, 2S+1),
    and with ``beta`` the backward variables log β_t(s) (T, N, 2S+1), else None.

    α_0(0) = y_0(blank), α_0(1) = y_0(l1); then, frame by frame,
    α_t(s) = (α_{t-1}(s) + α_{t-1}(s-1) [+ α_{t-1}(s-2) if skip allowed]) · y_t(l'_s).
    Positions past 2·target_length hold values nothing reads (they never feed the positions
    below them). α is returned as :func:`_recursion` pads it, (T + 1, N, 2S+3), with frame
    T all -inf but α_T(0) = 0: the log-probability of an empty target in no frames, read by
    sequences of input_length 0 (their frame il - 1 = -1).

    β is the mirror, started at each sequence's last frame t = input_length - 1 with
    β(2S) = y(blank), β(2S-1) = y(l_S), and -inf beyond it:
    β_t(s) = (β_{t+1}(s) + β_{t+1}(s+1) [+ β_{t+1}(s+2) if skip allowed]) · y_t(l'_s).
    With time and positions reversed β's recursion is α's, so both run as one recursion over
    2N rows (the β rows on y reversed): half the NumPy calls of two recursions.
    """
    n_frames, batch, width = lp_ext.shape
    start, first, has_label = np.zeros(batch, np.int64), np.zeros(batch, np.int64), tl > 0
    if beta:
        # β(s+2) is allowed where α(s+2) may come from α(s): the skip of s+2, reversed
        ahead = np.full_like(skip_bias, -np.inf)
        ahead[:, :-2] = skip_bias[:, 2:]
        lp_ext = np.concatenate((lp_ext, lp_ext[::-1, :, ::-1]), axis=1)
        skip_bias = np.concatenate((skip_bias, ahead[:, ::-1]))
        # sequence n's β starts at frame T - input_length (reversed), position 2S (reversed)
        start = np.concatenate((start, np.where(il > 0, n_frames - il, -1)))
        first = np.concatenate((first, width - 1 - 2 * tl))
        has_label = np.concatenate((has_label, has_label))
    padded = _recursion(lp_ext, skip_bias, start, first, has_label)
    padded[n_frames, :batch, 2] = 0
    return padded[:, :batch], (padded[n_frames - 1::-1, batch:, :1:-1] if beta else None)


_END_COLUMNS = np.array([2, 1])       # α(2S), α(2S-1) in the padded table: columns 2S+2, 2S+1


class _Frames:
    """y_t(l'_s) = lp[t, n, l'_s] of the frames asked for, ``y[t0:t1]`` of shape (t1 - t0, N,
    2S+1), gathered when asked: the loss alone never holds all T frames of it."""

    def __init__(self, lp2d: np.ndarray, flat: np.ndarray) -> None:
        self.lp2d, self.flat = lp2d, flat
        self.shape, self.dtype = (len(lp2d), *flat.shape), lp2d.dtype

    def __getitem__(self, frames: slice) -> np.ndarray:
        return np.take(self.lp2d[frames], self.flat, axis=1)


def _alpha_ends(lp2d: np.ndarray, flat: np.ndarray, skip_bias: np.ndarray, il: np.ndarray,
                tl: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """log α at each sequence's last frame and the padded ``columns``, for the loss alone: the
    values the whole table of :func:`_alpha_beta` holds there, from a recursion that keeps two
    frames (the same operations on the same numbers)."""
    batch = len(il)
    zeros = np.zeros(batch, np.int64)
    u = _recursion(_Frames(lp2d, flat), skip_bias, zeros, zeros, tl > 0, ends=(il - 1, columns))
    # v = u + y there, as the table adds y to every frame; the padding column in front of s = 0
    # (read for a target with no labels) gets no y, and stays -inf
    positions = columns - 2
    y_end = np.zeros(u.shape, u.dtype)
    if len(lp2d):
        y_end = lp2d[np.maximum(il - 1, 0)[:, None],
                     np.take_along_axis(flat, np.maximum(positions, 0), axis=1)]
        y_end[positions < 0] = 0
    with np.errstate(**QUIET):
        ends = u + y_end
    # input_length 0 reads the table's frame -1, all -inf but α(0) = 0 (log 1, no frames)
    ends[il == 0] = -np.inf
    ends[(il == 0) & (tl == 0), 0] = 0
    return ends


def _forward(lp, targets, il, tl, blank, beta: bool = False):
    """Per-sequence negative log-likelihood and, with ``beta`` (for the gradient), what the
    gradient reuses: where y_t(l'_s) is in a frame of ``lp`` flattened to N·C, y_t(l'_s), α, β."""
    ext, skip_bias = _extended(targets, blank, lp.dtype)
    n_frames, batch, n_classes = lp.shape
    rows = np.arange(batch)
    # y_t(l'_s) = lp[t, n, l'_s]: a gather over the frames flattened to (T, N·C)
    flat = ext + (rows * n_classes)[:, None]
    lp2d = lp.reshape(n_frames, batch * n_classes)
    # α at each sequence's last frame, at 2S (blank) and 2S-1 (last label; with no label a
    # -inf column of the padding); input_length 0 reads frame -1: log 1 for an empty target
    columns = (2 * tl)[:, None] + _END_COLUMNS
    if not beta:
        ends, saved = _alpha_ends(lp2d, flat, skip_bias, il, tl, columns), None
    else:
        lp_ext = np.take(lp2d, flat, axis=1)
        alpha, beta_table = _alpha_beta(lp_ext, skip_bias, il, tl, beta)
        ends = alpha[(il - 1)[:, None], rows[:, None], columns]
        saved = (flat, lp_ext, alpha[:n_frames, :, 2:], beta_table)
    # log(e^a + e^b) in PyTorch's order: max first (-inf counts as 0; the lowest float too)
    m = ends.max(axis=1)
    np.maximum(m, np.finfo(m.dtype).min, out=m)
    with np.errstate(**QUIET):
        terms = np.exp(ends - m[:, None])
        log_likelihood = np.log(terms.sum(axis=1)) + m
    return np.negative(log_likelihood), saved


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
    nll, _ = _forward(lp, padded, il, tl, blank)
    return _reduce(nll, tl, reduction, zero_infinity, batched)


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
    nll, (flat, lp_ext, alpha, beta) = _forward(lp, padded, il, tl, blank, beta=True)
    n_frames, batch, n_classes = lp.shape
    dtype = lp.dtype
    g = _reduction.reduce_grad(grad_output, (batch,) if batched else (), dtype, reduction)
    g = np.array(g, dtype=dtype).reshape(batch)
    if reduction == "mean":
        g = g / np.maximum(tl, 1).astype(dtype)
    infinite = nll == np.inf
    if zero_infinity:
        g[infinite] = 0

    rows = np.arange(batch)
    with np.errstate(**QUIET):
        # γ per extended position: α β / y / p, in log space (nll = -log p)
        gamma_s = np.add(alpha, beta)
        gamma_s -= lp_ext
        gamma_s += nll[:, None]
        np.exp(gamma_s, out=gamma_s)
        gamma_s[:, np.arange(flat.shape[1]) > 2 * tl[:, None]] = 0
        # PyTorch's quirk for a last label equal to the blank (a misuse): at the last frame it
        # stores the label's term over the final blank's instead of adding the two
        if padded.shape[1]:
            last_label = padded[rows, tl - 1]
            quirk = rows[(last_label == blank) & (tl > 0) & (il > 0)]
            gamma_s[il[quirk] - 1, quirk, 2 * tl[quirk]] = 0
        grad = np.exp(lp)
        grad *= g[:, None]
        # γ_t(c): add up the positions s that carry class c, for every frame and sequence at
        # once: one weighted bincount over the flat (t, n, class) positions of the (T, N, C)
        # gradient (positions past a target's length hold γ = 0)
        where = (np.arange(n_frames) * (batch * n_classes))[:, None, None] + flat
        gamma_c = np.bincount(where.reshape(-1), weights=gamma_s.reshape(-1),
                              minlength=grad.size).reshape(grad.shape)
        gamma_c *= g[:, None]
        grad -= gamma_c.astype(dtype, copy=False)
    grad[:, infinite] = 0 if zero_infinity else np.nan
    grad[np.arange(n_frames)[:, None] >= il[None, :]] = 0
    grad = grad if batched else grad[:, 0]
    if return_loss:                  # the α recursion above already gave every sequence's loss
        return _reduce(nll, tl, reduction, zero_infinity, batched), grad
    return grad
