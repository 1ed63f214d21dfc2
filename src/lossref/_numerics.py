"""Numerically stable building blocks shared by every loss.

Each function follows the operation order of PyTorch's CPU kernel, so that the
same float32 or float64 inputs round the same way. NumPy warnings about
``log(0)`` or ``exp`` overflow are silenced where PyTorch prints nothing and
the IEEE result (``-inf``, ``0``) is what the formula wants.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["clamp_log", "log1m_clamped", "log_sigmoid", "log_softmax", "logsumexp",
           "sigmoid", "softmax", "softmax_dim"]

LOG_CLAMP = -100.0
"""PyTorch's ``binary_cross_entropy`` clamps each log term at -100, so BCE(0, 1) = 100."""


def clamp_log(x: np.ndarray) -> np.ndarray:
    """``max(log(x), -100)``, elementwise, in the dtype of ``x``."""
    with np.errstate(divide="ignore"):
        out = np.log(x, out=np.empty_like(x))
    return np.maximum(out, LOG_CLAMP, out=out)


def log1m_clamped(x: np.ndarray) -> np.ndarray:
    """``max(log1p(-x), -100)``: the clamped ``log(1 - x)`` of BCE, accurate for small x."""
    with np.errstate(divide="ignore"):
        out = np.negative(x, out=np.empty_like(x))
        np.log1p(out, out=out)
    return np.maximum(out, LOG_CLAMP, out=out)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, finite for any finite x.

    The naive ``log(1 / (1 + exp(-x)))`` overflows for x below about -88 (float32);
    this form never exponentiates a positive number.
    """
    z = np.abs(x, out=np.empty_like(x))
    np.negative(z, out=z)
    np.exp(z, out=z)
    np.log1p(z, out=z)
    return np.subtract(np.minimum(x, 0), z, out=z)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``; ``exp`` overflow for very negative x gives the exact limit 0."""
    x = np.asarray(x)
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def softmax_dim(ndim: int, name: str) -> int:
    """PyTorch's implicit ``dim`` for ``softmax``/``log_softmax`` when none is given (with its warning)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(x), axis))`` with the max trick; the reduced axis is kept (size 1)."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = np.subtract(x, m)
        np.exp(shifted, out=shifted)
        s = np.sum(shifted, axis=axis, keepdims=True)
        return m + np.log(s)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``(x - max) - log(sum(exp(x - max)))`` along ``axis``, as PyTorch computes it.

    Subtracting the maximum first keeps every exponent at or below 0, so nothing overflows;
    one buffer of the input's size is allocated and reused.
    """
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        out = np.subtract(x, m)
        np.exp(out, out=out)
        log_norm = np.log(np.sum(out, axis=axis, keepdims=True))
        np.subtract(x, m, out=out)  # recompute x - max rather than hold a second buffer
        return np.subtract(out, log_norm, out=out)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``."""
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.subtract(x, np.max(x, axis=axis, keepdims=True, initial=-np.inf))
        np.exp(out, out=out)
        return np.divide(out, np.sum(out, axis=axis, keepdims=True), out=out)
