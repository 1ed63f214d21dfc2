"""Class-index targets: the helpers every loss over C classes with integer targets shares.

``cross_entropy`` and ``nll_loss`` (classification.py) and ``linear_cross_entropy``
(vocabulary.py) read their targets, pick the target's entry and weigh it here, one place for
each step (as torch shares ``_nll_loss_backward`` between its callers). Targets are never
expanded to an (N, C) one-hot matrix: a target's entry is read through flat indices.
"""

from __future__ import annotations

import numpy as np

from ._numerics import QUIET

__all__ = ["check_index_target", "class_axis", "flat_index", "kept_weights",
           "negative_log_likelihood", "per_target", "pick", "safe_targets"]


def class_axis(x: np.ndarray, fn: str) -> int:
    """The class dimension: 0 for an unbatched ``(C,)`` input, else 1 in ``(N, C, d1, …, dK)``."""
    if x.ndim < 1:
        raise ValueError(f"{fn}: input must have at least 1 dimension, (C,) or "
                         "(N, C, d1, ..., dK); got a 0-d array")
    return 0 if x.ndim == 1 else 1


def check_index_target(x: np.ndarray, t: np.ndarray, fn: str) -> np.ndarray:
    """Class-index target shape: ``()`` for a ``(C,)`` input, else ``(N, d1, …, dK)``."""
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


def safe_targets(t: np.ndarray, ignore_index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets safe to index with (ignored ones replaced by class 0) and the ignored mask.

    The mask is ``None`` when no target equals ``ignore_index``, so the common case does no
    masking work at all.
    """
    ignored = t == ignore_index
    if not ignored.any():
        return t, None
    return np.where(ignored, 0, t), ignored


def flat_index(t: np.ndarray, shape: tuple) -> np.ndarray:
    """Flat positions of ``[n, t[n, d], d]`` in a C-contiguous ``(N, C, D)`` array."""
    n, c, d = shape
    index = np.multiply(t, d, dtype=np.intp)                 # class offset within a sample
    index += np.arange(0, n * c * d, c * d).reshape(n, 1)    # + where each sample starts
    if d > 1:
        index += np.arange(d)                                # + the position
    return index


def pick(x3: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``x3[n, t[n, d], d]`` for every sample n and position d of an ``(N, C, D)`` array.

    Flat indexing into the input: one value per target, no (N, C) one-hot matrix.
    """
    return np.take(x3, flat_index(t, x3.shape))


def negative_log_likelihood(log_p_t: np.ndarray, t: np.ndarray, ignored: np.ndarray | None,
                             w: np.ndarray | None):
    """Per-target ``-w[t] * log_p_t`` (0 where ignored) and the mean's denominator.

    ``log_p_t`` holds the log-probability of each target class, ``t`` the (safe) targets.
    The denominator is the sum of the weights of the non-ignored targets (their count
    without ``weight``).
    """
    loss = np.negative(log_p_t)
    target_w, weight_sum = kept_weights(t, ignored, w, loss.dtype)
    if target_w is not None:
        with np.errstate(**QUIET):     # an ignored ±inf times its weight 0
            loss *= target_w
    if ignored is not None:
        loss[ignored] = 0
    return loss, weight_sum


def kept_weights(t: np.ndarray, ignored: np.ndarray | None, w: np.ndarray | None, dtype):
    """The weight ``w[t]`` of each target (0 where ignored; ``None`` without ``weight``) and
    the mean's denominator: their sum, or the count of non-ignored targets without ``weight``."""
    if w is None:
        kept = t.size if ignored is None else np.count_nonzero(~ignored)
        return None, np.dtype(dtype).type(kept)
    target_w = w[t]
    if ignored is not None:
        target_w[ignored] = 0
    return target_w, target_w.sum(dtype=dtype)


def per_target(loss: np.ndarray, shape: tuple):
    """Per-target values in the target's shape (a NumPy scalar for an unbatched input)."""
    return loss.reshape(shape)[()]
