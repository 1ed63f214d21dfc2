"""Shared helpers for the parity tests: run torch live on the same NumPy arrays, compare."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from hypothesis import strategies as st

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-9, atol=1e-12)}


def t(x, dtype=None):
    """A torch tensor holding exactly the values of a NumPy array (or None)."""
    if x is None:
        return None
    arr = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    return torch.from_numpy(np.array(arr, copy=True))


def assert_matches_torch(ours, theirs, dtype) -> None:
    """Same dtype, same shape, same values within the dtype's tolerance (NaN where torch has NaN)."""
    expected = theirs.detach().numpy()
    ours = np.asarray(ours)
    assert ours.dtype == expected.dtype, f"dtype {ours.dtype} != torch {expected.dtype}"
    assert ours.shape == expected.shape, f"shape {ours.shape} != torch {expected.shape}"
    np.testing.assert_allclose(ours, expected, equal_nan=True, **TOL[np.dtype(dtype).type])


def recorded(call):
    """``call()`` and the (category, message) of each warning it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [(w.category, str(w.message)) for w in caught]


def broadcastable_shape(draw, shape) -> tuple:
    """A shape that broadcasts to ``shape``: leading dimensions dropped, some set to 1."""
    k = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.integers(0, 3)) == 0 else d for d in shape[len(shape) - k:])
