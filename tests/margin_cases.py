"""Shared helpers for the margin-family tests: one check runs lossref and torch live on the same
arrays and compares the value and the gradient of every differentiable input."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from gradcheck import assert_grad_close, assert_grads_close, torch_grad
from torch_ref import assert_matches_torch, t

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SPECIALS = [np.nan, np.inf, -np.inf]


def rng_from(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def grid(rng, shape, scale=2.0) -> np.ndarray:
    """Values on a quarter grid: exact in float32 and float64, so ties at a margin happen."""
    return np.round(rng.uniform(-scale, scale, shape) * 4) / 4


def sprinkle(rng, x: np.ndarray, values, rate=0.1) -> np.ndarray:
    """Replace about ``rate`` of the elements by values drawn from ``values``."""
    x = np.array(x, dtype=np.float64, copy=True)
    if x.size:
        hit = rng.uniform(size=x.shape) < rate
        x[hit] = rng.choice(np.asarray(values, dtype=np.float64), size=int(hit.sum()))
    return x


def shrink(draw, shape) -> tuple:
    """A shape of the same length that broadcasts to ``shape`` (some axes set to 1)."""
    return tuple(1 if draw(st.booleans()) else d for d in shape)


def check(ours, ours_grad, theirs, inputs, dtype, reduction, rng, n_grads=None, term_scale=None):
    """Value and gradients of lossref against torch on the NumPy ``inputs`` (all differentiated).

    ``ours(*inputs)``/``ours_grad(*inputs, grad_output=…)`` are lossref's; ``theirs(*tensors)`` is
    torch's. ``ours_grad`` returns one array or a tuple, one per input. ``term_scale(grad_output)``,
    if given, bounds the terms a gradient is the sum of (for gradients that cancel to 0).
    """
    expected = theirs(*[t(x) for x in inputs])
    value = ours(*inputs)
    assert_matches_torch(value, expected, dtype)
    grad_output = None
    if reduction == "none":
        grad_output = rng.normal(size=tuple(expected.shape)).astype(dtype)
    want = torch_grad(theirs, inputs, grad_output)
    got = ours_grad(*inputs, grad_output=grad_output)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == (n_grads or len(inputs))
    if len(got) == 1 and term_scale is None:
        assert_grad_close(got[0], want[0], dtype)
    else:
        extra = 0.0 if term_scale is None else term_scale(grad_output)
        assert_grads_close(got, want, dtype, extra)
    return value


def torch_raises(fn) -> str:
    """torch's own error message for a call that must fail (the test fails if it does not)."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - any torch error will do, its text is returned
        return str(exc)
    raise AssertionError("torch accepted the input")
